package io.pulse.demo;

import java.util.List;

/** The demo generators of every product case, built from one seed. */
public final class Demo {

  /** The demo streams, in the order {@link #all} returns them. */
  public static final List<String> STREAMS = List.of(
      CheckoutStream.NAME, CartStream.NAME, PaymentsStream.NAME, PipelineStream.NAME,
      VitalsStream.NAME, LatencyStream.NAME, SalesStream.NAME);

  private Demo() {
  }

  /**
   * A fresh generator for each demo stream. The same seed gives the same events and incidents
   * for the same time ranges; each stream derives its own seed from it and its name.
   */
  public static List<DemoStream> all(long seed) {
    return List.of(
        new CheckoutStream(seed),
        new CartStream(seed),
        new PaymentsStream(seed),
        new PipelineStream(seed),
        new VitalsStream(seed),
        new LatencyStream(seed),
        new SalesStream(seed));
  }
}

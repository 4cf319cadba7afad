package io.pulse.demo;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code payments}: payment attempts by method and region; {@code amount}, {@code latency_ms}
 * (long-tailed) and {@code declined} (0/1).
 *
 * <p>Incidents: {@code outlier_amounts} (a share {@code magnitude} of one region's or method's
 * payments are 40-400 times the usual amount), {@code card_testing} (fraudsters try stolen
 * cards: {@code magnitude} extra tiny card payments a second in one region, mostly declined)
 * and {@code decline_spike} (one method's or region's decline rate rises to {@code magnitude}).
 */
final class PaymentsStream extends PoissonStream {

  /** Background bursts per minute (see {@link DemoStream#burstAt}). */
  private static final double BURSTS = 0.05;

  static final String NAME = "payments";
  static final String[] METHODS = {"card", "paypal", "bank", "wallet"};
  static final String[] REGIONS = CheckoutStream.REGIONS;
  private static final double[] METHOD_SHARE = {0.55, 0.20, 0.10, 0.15};
  private static final double[] REGION_SHARE = {0.35, 0.35, 0.20, 0.10};
  private static final double[] METHOD_AMOUNT = {45, 35, 180, 25};
  private static final double[] METHOD_LATENCY = {220, 380, 650, 180};
  private static final double[] METHOD_DECLINE = {0.035, 0.02, 0.01, 0.015};
  private static final double PEAK_RATE = 50;

  PaymentsStream(long seed) {
    super(NAME, seed, 0.6, grid("method", METHODS, "region", REGIONS), "amount", "latency_ms", "declined");
  }

  @Override
  protected double rate(int cell, long t, List<Incident> incidents) {
    return PEAK_RATE * METHOD_SHARE[cell / REGIONS.length] * REGION_SHARE[cell % REGIONS.length]
        * load(Rhythm.CONSUMER, t, BURSTS);
  }

  @Override
  protected double[] values(int cell, long ts, SplittableRandom rnd, List<Incident> incidents) {
    int method = cell / REGIONS.length;
    Dims dims = cell(cell);
    double amount = Draw.lognormal(rnd, METHOD_AMOUNT[method], 0.9);
    double latency = Draw.lognormal(rnd, METHOD_LATENCY[method], 0.45);
    if (Draw.chance(rnd, 0.01)) {
      latency *= Draw.between(rnd, 3.0, 8.0); // the tail: retries, slow issuers
    }
    double decline = METHOD_DECLINE[method] * (amount > 500 ? 2 : 1);
    Incident outliers = active(incidents, "outlier_amounts", ts, dims);
    if (outliers != null && Draw.chance(rnd, outliers.magnitude())) {
      amount *= Draw.between(rnd, 40.0, 400.0);
      latency *= 2; // fraud checks
    }
    Incident spike = active(incidents, "decline_spike", ts, dims);
    if (spike != null) {
      decline += (spike.magnitude() - decline) * spike.envelope(ts, 0.1);
    }
    return new double[] {
        Draw.round(Draw.clamp(amount, 0.5, 1_000_000), 2),
        Draw.round(Draw.clamp(latency, 20, 60_000), 1),
        Draw.chance(rnd, decline) ? 1 : 0};
  }

  @Override
  protected void fill(long start, long end, SplittableRandom rnd, List<Incident> incidents, List<Event> out) {
    super.fill(start, end, rnd, incidents, out);
    long mid = start + (end - start) / 2;
    for (Incident i : incidents) {
      if (!i.kind().equals("card_testing") || !i.activeAt(mid)) {
        continue;
      }
      // Bots try cards in bursts of a few seconds with pauses between them.
      double bursty = Noise.unit(Noise.mix(key, i.start(), Math.floorDiv(mid, 5_000L))) < 0.6 ? 1.6 : 0.1;
      int n = Poisson.sample(rnd, i.magnitude() * bursty * (end - start) / 1000.0);
      for (int k = 0; k < n; k++) {
        long ts = start + rnd.nextLong(end - start);
        out.add(event(ts, i.target(), names(),
            Draw.round(Draw.between(rnd, 0.5, 2.99), 2),
            Draw.round(Draw.lognormal(rnd, 150, 0.3), 1),
            Draw.chance(rnd, 0.65) ? 1 : 0));
      }
    }
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    double kind = rnd.nextDouble();
    if (kind < 0.35) {
      return place(rnd, segmentStart, segmentEnd, "outlier_amounts",
          Draw.between(rnd, 3 * MINUTE_MS, 8 * MINUTE_MS), methodOrRegion(rnd), Draw.between(rnd, 0.05, 0.15));
    }
    if (kind < 0.7) {
      return place(rnd, segmentStart, segmentEnd, "card_testing",
          Draw.between(rnd, 2 * MINUTE_MS, 6 * MINUTE_MS),
          Dims.of("method", "card", "region", Draw.pick(rnd, REGIONS)), Draw.between(rnd, 6.0, 15.0));
    }
    return place(rnd, segmentStart, segmentEnd, "decline_spike",
        Draw.between(rnd, 4 * MINUTE_MS, 10 * MINUTE_MS), methodOrRegion(rnd), Draw.between(rnd, 0.25, 0.5));
  }

  private static Dims methodOrRegion(SplittableRandom rnd) {
    return Draw.chance(rnd, 0.5)
        ? Dims.of("method", Draw.pick(rnd, METHODS))
        : Dims.of("region", Draw.pick(rnd, REGIONS));
  }

  @Override
  protected double burstChancePerMinute() {
    return BURSTS;
  }
}

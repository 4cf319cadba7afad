package io.pulse.demo;

import io.pulse.event.Dims;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code checkout}: placed orders by region and channel; {@code amount} (lognormal, in the shop's
 * currency, growing with the basket) and {@code items} (1-8).
 *
 * <p>Incidents: {@code traffic_burst} (a flash sale or a campaign: the whole stream or one
 * channel at {@code magnitude} times the rate) and {@code region_drop} (a region's orders fall
 * to {@code magnitude} of normal, as when its payment provider or CDN is down).
 */
final class CheckoutStream extends PoissonStream {

  /** Background bursts per minute (see {@link DemoStream#burstAt}). */
  private static final double BURSTS = 0.05;

  static final String NAME = "checkout";
  static final String[] REGIONS = {"eu", "us", "apac", "latam"};
  static final String[] CHANNELS = {"web", "app"};
  private static final double[] REGION_SHARE = {0.35, 0.35, 0.20, 0.10};
  private static final double[] REGION_PRICE = {1.0, 1.15, 0.9, 0.7};
  private static final double[] CHANNEL_SHARE = {0.45, 0.55};
  private static final double[] ITEMS_WEIGHT = {0.35, 0.25, 0.15, 0.10, 0.06, 0.04, 0.03, 0.02};
  /** Orders per second at the busiest weekday hour. */
  private static final double PEAK_RATE = 55;

  CheckoutStream(long seed) {
    super(NAME, seed, 0.6, grid("region", REGIONS, "channel", CHANNELS), "amount", "items");
  }

  @Override
  protected double rate(int cell, long t, List<Incident> incidents) {
    int region = cell / CHANNELS.length;
    int channel = cell % CHANNELS.length;
    double r = PEAK_RATE * REGION_SHARE[region] * CHANNEL_SHARE[channel] * load(Rhythm.CONSUMER, t, BURSTS);
    Incident burst = active(incidents, "traffic_burst", t, cell(cell));
    if (burst != null) {
      r *= 1 + (burst.magnitude() - 1) * burst.envelope(t, 0.15);
    }
    Incident drop = active(incidents, "region_drop", t, cell(cell));
    if (drop != null) {
      r *= 1 - (1 - drop.magnitude()) * drop.envelope(t, 0.02);
    }
    return r;
  }

  @Override
  protected double[] values(int cell, long ts, SplittableRandom rnd, List<Incident> incidents) {
    int items = 1 + Draw.pick(rnd, ITEMS_WEIGHT);
    double median = 32 * REGION_PRICE[cell / CHANNELS.length] * Math.pow(items, 0.55);
    double amount = Draw.clamp(Draw.round(Draw.lognormal(rnd, median, 0.55), 2), 0.99, 20_000);
    return new double[] {amount, items};
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    if (Draw.chance(rnd, 0.5)) {
      Dims target = Draw.chance(rnd, 0.5) ? Dims.EMPTY : Dims.of("channel", Draw.pick(rnd, CHANNELS));
      return place(rnd, segmentStart, segmentEnd, "traffic_burst",
          Draw.between(rnd, 2 * MINUTE_MS, 6 * MINUTE_MS), target, Draw.between(rnd, 2.5, 5.0));
    }
    return place(rnd, segmentStart, segmentEnd, "region_drop",
        Draw.between(rnd, 4 * MINUTE_MS, 12 * MINUTE_MS), Dims.of("region", Draw.pick(rnd, REGIONS)),
        Draw.between(rnd, 0.02, 0.15));
  }

  @Override
  protected double burstChancePerMinute() {
    return BURSTS;
  }
}

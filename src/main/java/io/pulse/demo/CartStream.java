package io.pulse.demo;

import io.pulse.event.Dims;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code cart}: shopping sessions ending, by region and device; {@code cart_value},
 * {@code abandoned} (0/1, about 70 % as in e-commerce at large) and {@code items}.
 *
 * <p>Incident: {@code abandonment_spike}, the abandonment probability of one region (the
 * payment page broken there) or of mobile (a broken button) rising to {@code magnitude}.
 */
final class CartStream extends PoissonStream {

  /** Background bursts per minute (see {@link DemoStream#burstAt}). */
  private static final double BURSTS = 0.05;

  static final String NAME = "cart";
  static final String[] REGIONS = CheckoutStream.REGIONS;
  static final String[] DEVICES = {"desktop", "mobile", "tablet"};
  private static final double[] REGION_SHARE = {0.35, 0.35, 0.20, 0.10};
  private static final double[] DEVICE_SHARE = {0.40, 0.50, 0.10};
  private static final double[] DEVICE_ABANDON = {0.64, 0.75, 0.70};
  private static final double PEAK_RATE = 40;

  CartStream(long seed) {
    super(NAME, seed, 0.6, grid("region", REGIONS, "device", DEVICES), "cart_value", "abandoned", "items");
  }

  @Override
  protected double rate(int cell, long t, List<Incident> incidents) {
    return PEAK_RATE * REGION_SHARE[cell / DEVICES.length] * DEVICE_SHARE[cell % DEVICES.length]
        * load(Rhythm.CONSUMER, t, BURSTS);
  }

  @Override
  protected double[] values(int cell, long ts, SplittableRandom rnd, List<Incident> incidents) {
    int items = 1 + Math.min(9, (int) (Math.log(1 - rnd.nextDouble()) / Math.log(0.62)));
    double value = Draw.round(Draw.lognormal(rnd, 25 * Math.pow(items, 0.7), 0.6), 2);
    double p = DEVICE_ABANDON[cell % DEVICES.length] + 0.03 * Noise.smooth(key + cell, ts, 10 * MINUTE_MS);
    Incident spike = active(incidents, "abandonment_spike", ts, cell(cell));
    if (spike != null) {
      p += (spike.magnitude() - p) * spike.envelope(ts, 0.05);
    }
    return new double[] {Draw.clamp(value, 0.5, 10_000), Draw.chance(rnd, p) ? 1 : 0, items};
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    Dims target = Draw.chance(rnd, 0.7)
        ? Dims.of("region", Draw.pick(rnd, REGIONS))
        : Dims.of("device", "mobile");
    return place(rnd, segmentStart, segmentEnd, "abandonment_spike",
        Draw.between(rnd, 4 * MINUTE_MS, 12 * MINUTE_MS), target, Draw.between(rnd, 0.93, 0.99));
  }

  @Override
  protected double burstChancePerMinute() {
    return BURSTS;
  }
}

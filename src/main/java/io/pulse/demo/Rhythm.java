package io.pulse.demo;

/**
 * A daily and weekly activity profile: multipliers around 1 at the busiest time, read at the
 * event time (UTC, or a local time given as an offset in hours). Hourly levels are interpolated
 * linearly so rates never jump on the hour.
 */
public final class Rhythm {

  private static final long HOUR_MS = 3_600_000L;
  private static final long DAY_MS = 24 * HOUR_MS;

  /** Shoppers: asleep at night, a lunch peak, the highest peak in the evening; busier weekends. */
  public static final Rhythm CONSUMER = new Rhythm(
      new double[] {
          0.35, 0.25, 0.18, 0.14, 0.13, 0.16, 0.25, 0.40, 0.55, 0.62, 0.68, 0.78,
          0.90, 0.85, 0.70, 0.66, 0.68, 0.75, 0.86, 0.97, 1.00, 0.90, 0.70, 0.50},
      new double[] {0.95, 0.95, 0.97, 1.00, 1.05, 1.15, 1.10});

  /** Backend services: consumer traffic on top of a floor of machine traffic; quieter weekends. */
  public static final Rhythm SERVICE = new Rhythm(
      floorOf(CONSUMER.hourly, 0.40),
      new double[] {1.00, 1.00, 1.00, 1.00, 0.97, 0.85, 0.80});

  /** Office work: business hours with a lunch dip, weekdays only, Friday afternoon slack. */
  public static final Rhythm BUSINESS = new Rhythm(
      new double[] {
          0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.10, 0.45, 0.85, 1.00, 0.95,
          0.60, 0.70, 0.95, 1.00, 0.90, 0.60, 0.25, 0.10, 0.05, 0.03, 0.03, 0.02},
      new double[] {1.00, 1.00, 1.00, 1.00, 0.80, 0.05, 0.03});

  /** Machines and monitors: no rhythm. */
  public static final Rhythm FLAT = new Rhythm(constant(24, 1.0), constant(7, 1.0));

  private final double[] hourly;
  private final double[] weekdays;

  /**
   * @param hourly 24 levels, the multiplier at each whole hour 0..23
   * @param weekdays 7 levels, Monday to Sunday
   */
  public Rhythm(double[] hourly, double[] weekdays) {
    if (hourly.length != 24 || weekdays.length != 7) {
      throw new IllegalArgumentException("rhythm needs 24 hourly and 7 daily levels");
    }
    this.hourly = hourly.clone();
    this.weekdays = weekdays.clone();
  }

  /** The fractional hour of the day, UTC, in [0, 24). */
  public static double hourOfDay(long ts) {
    return Math.floorMod(ts, DAY_MS) / (double) HOUR_MS;
  }

  /** ISO day of the week, UTC: 1 = Monday .. 7 = Sunday. */
  public static int dayOfWeek(long ts) {
    // 1970-01-01 was a Thursday (ISO 4).
    return (int) Math.floorMod(Math.floorDiv(ts, DAY_MS) + 3, 7L) + 1;
  }

  /** The daily level at {@code ts}, UTC. */
  public double daily(long ts) {
    double h = hourOfDay(ts);
    int i = (int) h;
    double f = h - i;
    return hourly[i] * (1 - f) + hourly[(i + 1) % 24] * f;
  }

  /** The weekly level at {@code ts}, UTC. */
  public double weekly(long ts) {
    return weekdays[dayOfWeek(ts) - 1];
  }

  /** Daily times weekly level at {@code ts}, UTC. */
  public double at(long ts) {
    return daily(ts) * weekly(ts);
  }

  /** Daily times weekly level at the local time {@code utcOffsetHours} away from UTC. */
  public double at(long ts, double utcOffsetHours) {
    return at(ts + (long) (utcOffsetHours * HOUR_MS));
  }

  private static double[] floorOf(double[] levels, double floor) {
    double[] r = new double[levels.length];
    for (int i = 0; i < levels.length; i++) {
      r[i] = floor + (1 - floor) * levels[i];
    }
    return r;
  }

  private static double[] constant(int n, double v) {
    double[] r = new double[n];
    java.util.Arrays.fill(r, v);
    return r;
  }
}

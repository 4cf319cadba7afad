package io.pulse.demo;

/**
 * Stateless, seeded randomness as a function of time: hashing, smooth wobble and short bursts.
 * Being functions of (key, time) rather than of a generator's state, they give the same value
 * however a time range is cut into calls.
 */
final class Noise {

  private static final long BURST_SALT = 0xB0257L;

  private Noise() {
  }

  /** SplitMix64's finaliser: a good 64-bit mix. */
  static long fmix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static long mix(long a, long b) {
    return fmix(fmix(a) + 0x9E3779B97F4A7C15L * (b + 1));
  }

  static long mix(long a, long b, long c) {
    return mix(mix(a, b), c);
  }

  /** A uniform double in [0, 1) from a hash. */
  static double unit(long h) {
    return (h >>> 11) * 0x1.0p-53;
  }

  /**
   * Smooth value noise in [-1, 1]: random levels at every {@code periodMs} knot, eased between.
   */
  static double smooth(long key, long t, long periodMs) {
    long k = Math.floorDiv(t, periodMs);
    double f = (t - k * periodMs) / (double) periodMs;
    f = f * f * (3 - 2 * f);
    double a = unit(mix(key, k)) * 2 - 1;
    double b = unit(mix(key, k + 1)) * 2 - 1;
    return a + (b - a) * f;
  }

  /**
   * A rate multiplier for short bursts: each minute, with probability {@code chancePerMinute},
   * holds one burst of 10 to 40 s at 1.5 to 3 times the rate; 1 elsewhere.
   */
  static double burst(long key, long t, double chancePerMinute) {
    long minute = Math.floorDiv(t, 60_000L);
    long h = mix(key, BURST_SALT, minute);
    if (unit(h) >= chancePerMinute) {
      return 1.0;
    }
    long duration = 10_000L + (long) (unit(mix(h, 1)) * 30_000);
    long start = minute * 60_000L + (long) (unit(mix(h, 2)) * (60_000L - duration));
    return t >= start && t < start + duration ? 1.5 + 1.5 * unit(mix(h, 3)) : 1.0;
  }
}

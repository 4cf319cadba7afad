package io.pulse.demo;

import java.util.random.RandomGenerator;

/**
 * Counts of a Poisson process: draw how many events fall in an interval from the expected
 * count (rate times length), so event counts scale with the interval and with the rhythm.
 */
public final class Poisson {

  private Poisson() {
  }

  /** A Poisson-distributed count with the given mean (0 for a mean of 0 or less). */
  public static int sample(RandomGenerator rnd, double mean) {
    if (!(mean > 0)) {
      return 0;
    }
    if (mean < 30) {
      // Knuth: multiply uniforms until the product falls below e^-mean.
      double limit = Math.exp(-mean);
      double p = rnd.nextDouble();
      int k = 0;
      while (p > limit) {
        k++;
        p *= rnd.nextDouble();
      }
      return k;
    }
    // Normal approximation; at a mean of 30 and above the difference is invisible on a chart.
    long k = Math.round(mean + Math.sqrt(mean) * rnd.nextGaussian());
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, k));
  }
}

package io.pulse.demo;

import java.util.random.RandomGenerator;

/** Small sampling helpers shared by the generators. */
final class Draw {

  private Draw() {
  }

  /** Lognormal with the given median and log-scale spread. */
  static double lognormal(RandomGenerator rnd, double median, double sigma) {
    return median * Math.exp(sigma * rnd.nextGaussian());
  }

  static double between(RandomGenerator rnd, double lo, double hi) {
    return lo + (hi - lo) * rnd.nextDouble();
  }

  static long between(RandomGenerator rnd, long lo, long hi) {
    return lo + (long) ((hi - lo) * rnd.nextDouble());
  }

  static boolean chance(RandomGenerator rnd, double p) {
    return rnd.nextDouble() < p;
  }

  /** An index drawn by weight. */
  static int pick(RandomGenerator rnd, double[] weights) {
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    double x = rnd.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  static <T> T pick(RandomGenerator rnd, T[] items) {
    return items[rnd.nextInt(items.length)];
  }

  static double clamp(double x, double lo, double hi) {
    return Math.max(lo, Math.min(hi, x));
  }

  static double round(double x, int decimals) {
    double f = Math.pow(10, decimals);
    return Math.round(x * f) / f;
  }
}

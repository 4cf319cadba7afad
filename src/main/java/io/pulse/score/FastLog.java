package io.pulse.score;

/**
 * The natural logarithm from a table: the exponent's share exactly, the mantissa's from 1,024
 * entries of ln(1 + i/1024), linearly interpolated (error below 2e-7). A few times cheaper than
 * {@link Math#log} on the scoring hot path, and used for training and scoring alike, so the
 * feature is the same function on both sides. Subnormals, infinities and NaN go to Math.log.
 */
final class FastLog {

  private static final int BITS = 10;
  private static final int SHIFT = 52 - BITS;
  private static final long FRACTION_MASK = (1L << SHIFT) - 1;
  private static final double FRACTION_SCALE = 1.0 / (1L << SHIFT);
  private static final double LN2 = Math.log(2);
  private static final double[] TABLE = new double[(1 << BITS) + 1];

  static {
    for (int i = 0; i < TABLE.length; i++) {
      TABLE[i] = Math.log1p((double) i / (1 << BITS));
    }
  }

  private FastLog() {
  }

  static double ln(double x) {
    long b = Double.doubleToRawLongBits(x);
    int e = (int) ((b >>> 52) & 0x7ff);
    if (e == 0 || e == 0x7ff || b < 0) {
      return Math.log(x);
    }
    long m = b & 0xFFFFFFFFFFFFFL;
    int i = (int) (m >>> SHIFT);
    double f = (m & FRACTION_MASK) * FRACTION_SCALE;
    double lo = TABLE[i];
    return (e - 1023) * LN2 + lo + (TABLE[i + 1] - lo) * f;
  }
}

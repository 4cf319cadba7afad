package io.pulse.loadtests;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Reference workload W1: one stream {@code w1}, dims region (10 values) x store (100 values) = 1,000
 * series, values {@code amount} (lognormal) and {@code items} (small int), NDJSON batches.
 *
 * <p>Bodies are built once, up front, as byte arrays with a fixed-width 13-digit {@code ts} field per
 * event. At send time the generator copies a template and patches the 13 digits of every event with
 * the send time, so producing a 100 kB batch costs one array copy plus 1,000 13-byte copies.
 */
final class W1Workload {

  static final String STREAM = "w1";
  static final int REGIONS = 10;
  static final int STORES = 100;
  static final int SERIES = REGIONS * STORES;
  private static final int TS_DIGITS = 13;
  private static final String TS_PLACEHOLDER = "0".repeat(TS_DIGITS);

  private final byte[][] templates;
  private final int[][] tsOffsets;
  private final int batchSize;
  private int next;

  W1Workload(int batchSize, int templateCount, long seed) {
    if (batchSize < 1 || templateCount < 1) {
      throw new IllegalArgumentException("W1Workload: batchSize and templateCount must be >= 1");
    }
    this.batchSize = batchSize;
    this.templates = new byte[templateCount][];
    this.tsOffsets = new int[templateCount][];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int t = 0; t < templateCount; t++) {
      buildTemplate(t, rnd);
    }
  }

  private void buildTemplate(int t, SplittableRandom rnd) {
    // each block of 1,000 events holds every series exactly once, in a shuffled order
    int[] order = new int[SERIES];
    for (int i = 0; i < SERIES; i++) {
      order[i] = i;
    }
    StringBuilder sb = new StringBuilder(batchSize * 110);
    int[] offsets = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      if (i % SERIES == 0) {
        shuffle(order, rnd);
      }
      int series = order[i % SERIES];
      int region = series / STORES;
      int store = series % STORES;
      double amount = amount(rnd);
      int items = items(rnd);
      sb.append("{\"stream\":\"").append(STREAM).append("\",\"ts\":");
      offsets[i] = sb.length(); // ASCII only, so char offset == byte offset
      sb.append(TS_PLACEHOLDER)
          .append(",\"dims\":{\"region\":\"r").append(region)
          .append("\",\"store\":\"s").append(String.format(Locale.ROOT, "%03d", store))
          .append("\"},\"values\":{\"amount\":").append(String.format(Locale.ROOT, "%.2f", amount))
          .append(",\"items\":").append(items).append("}}\n");
    }
    templates[t] = sb.toString().getBytes(StandardCharsets.US_ASCII);
    tsOffsets[t] = offsets;
  }

  private static void shuffle(int[] a, SplittableRandom rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int x = a[i];
      a[i] = a[j];
      a[j] = x;
    }
  }

  /** A value of {@code amount}: lognormal, median about 33. */
  static double amount(SplittableRandom rnd) {
    return Math.exp(3.5 + 0.8 * gaussian(rnd));
  }

  /** A value of {@code items}: 1 to 10, mostly small. */
  static int items(SplittableRandom rnd) {
    return 1 + Math.min(9, (int) (-Math.log(1 - rnd.nextDouble()) * 2.0));
  }

  private static double gaussian(SplittableRandom rnd) {
    double u1 = 1.0 - rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  int batchSize() {
    return batchSize;
  }

  /** Mean body size in bytes. */
  double meanBodyBytes() {
    long sum = 0;
    for (byte[] b : templates) {
      sum += b.length;
    }
    return (double) sum / templates.length;
  }

  /**
   * The next body (round robin over the templates) with every event's ts set to {@code tsMillis}.
   * Not thread-safe: call from one thread (the ingest context).
   */
  Buffer nextBody(long tsMillis) {
    int t = next;
    next = (t + 1) % templates.length;
    byte[] body = templates[t].clone();
    byte[] digits = tsDigits(tsMillis);
    for (int off : tsOffsets[t]) {
      System.arraycopy(digits, 0, body, off, TS_DIGITS);
    }
    return Buffer.buffer(body);
  }

  static byte[] tsDigits(long tsMillis) {
    if (tsMillis < 1_000_000_000_000L || tsMillis > 9_999_999_999_999L) {
      throw new IllegalArgumentException("ts does not fit 13 digits: " + tsMillis);
    }
    byte[] d = new byte[TS_DIGITS];
    long v = tsMillis;
    for (int i = TS_DIGITS - 1; i >= 0; i--) {
      d[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    return d;
  }
}

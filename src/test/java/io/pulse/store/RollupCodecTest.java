package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import io.pulse.core.StreamId;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The rollup row format, without a database. */
class RollupCodecTest {

  static final double ACC = 0.01;
  static final RollupCodec CODEC = new RollupCodec(ACC, 2048);

  static Event event(long ts, double amount, double items) {
    return new Event(StreamId.of("s"), ts, null, Dims.EMPTY, new String[] {"amount", "items"}, new double[] {amount, items}, ts);
  }

  /** A window of {@code n} events of a long-tailed amount (some negative, some zero) and small counts. */
  static WindowAgg window(long start, long span, int n, Random rnd) {
    WindowAgg w = new WindowAgg(start, start + span, ACC, 2048);
    for (int i = 0; i < n; i++) {
      double amount = i % 17 == 0 ? 0.0 : Math.exp(rnd.nextGaussian() * 2) * (i % 11 == 0 ? -1 : 1);
      w.add(event(start + rnd.nextInt((int) span), amount, rnd.nextInt(5)));
    }
    return w;
  }

  static byte[] bins(ValueStats v) throws Exception {
    GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
    v.encodeSketch(out);
    return out.trimmedCopy();
  }

  static ValueStats stats(WindowAgg w, String name) {
    for (int i = 0; i < w.valueCount(); i++) {
      if (w.valueName(i).equals(name)) {
        return w.valueStats(i);
      }
    }
    throw new AssertionError("no value " + name);
  }

  @Test
  @DisplayName("a round trip keeps count, sum, min and max exact and the same sketch bins")
  void roundTrip() throws Exception {
    WindowAgg w = window(60_000, 1000, 5000, new Random(1));
    ValueStats.Summary before = stats(w, "amount").summary();
    WindowAgg back = CODEC.decode(CODEC.encode(w), w.start(), w.end(), w.count(), w.latest());
    assertEquals(w.count(), back.count());
    assertEquals(w.latest(), back.latest());
    ValueStats.Summary after = stats(back, "amount").summary();
    assertEquals(before, after, "every figure, percentiles included");
    assertArrayEquals(bins(stats(w, "amount")), bins(stats(back, "amount")));
    assertArrayEquals(bins(stats(w, "items")), bins(stats(back, "items")));
  }

  @Test
  @DisplayName("a 1 s window of a few events is a few dozen bytes, not whole sketch pages")
  void compact() {
    WindowAgg w = new WindowAgg(0, 1000, ACC, 2048);
    w.add(event(1, 129.9, 3));
    w.add(event(2, 42.0, 1));
    w.add(event(3, 17.5, 2));
    int size = CODEC.encode(w).length;
    assertTrue(size < 120, "bytes: " + size);
  }

  @Test
  @DisplayName("merging 60 decoded 1 s windows equals the 1 min window: exact figures, identical bins")
  void sixtySecondsMakeAMinute() throws Exception {
    Random rnd = new Random(5);
    WindowAgg minute = new WindowAgg(0, 60_000, ACC, 2048);
    WindowAgg merged = new WindowAgg(0, 60_000, ACC, 2048);
    for (int s = 0; s < 60; s++) {
      WindowAgg second = window(s * 1000L, 1000, 50 + rnd.nextInt(200), rnd);
      minute.merge(second);
      CODEC.mergeInto(merged, CODEC.encode(second), second.count(), second.latest(), null);
    }
    assertEquals(minute.count(), merged.count());
    for (String name : List.of("amount", "items")) {
      ValueStats.Summary a = stats(minute, name).summary();
      ValueStats.Summary b = stats(merged, name).summary();
      assertEquals(a.count(), b.count());
      assertEquals(a.min(), b.min());
      assertEquals(a.max(), b.max());
      assertEquals(a.sum(), b.sum(), Math.abs(a.sum()) * 1e-12);
      assertEquals(a.p50(), b.p50());
      assertEquals(a.p99(), b.p99());
      assertArrayEquals(bins(stats(minute, name)), bins(stats(merged, name)), name);
    }
  }

  @Test
  @DisplayName("rows written at another sketch accuracy are converted, within both accuracies")
  void otherAccuracy() {
    Random rnd = new Random(9);
    RollupCodec coarse = new RollupCodec(0.02, 2048);
    WindowAgg w = new WindowAgg(0, 1000, 0.02, 2048);
    for (int i = 0; i < 2000; i++) {
      w.add(event(i, 1 + rnd.nextDouble() * 999, 1));
    }
    WindowAgg back = CODEC.decode(coarse.encode(w), 0, 1000, w.count(), w.latest());
    ValueStats.Summary a = stats(w, "amount").summary();
    ValueStats.Summary b = stats(back, "amount").summary();
    assertEquals(a.count(), b.count());
    assertEquals(a.sum(), b.sum());
    assertEquals(a.p95(), b.p95(), a.p95() * 0.031);
  }

  @Test
  @DisplayName("only the asked-for values are merged; malformed bytes are an error, not garbage")
  void metricsAndMalformed() {
    WindowAgg w = window(0, 1000, 10, new Random(2));
    WindowAgg only = new WindowAgg(0, 1000, ACC, 2048);
    CODEC.mergeInto(only, CODEC.encode(w), w.count(), w.latest(), List.of("items"));
    assertEquals(1, only.valueCount());
    assertEquals("items", only.valueName(0));
    assertThrows(IllegalArgumentException.class, () -> CODEC.decode(new byte[] {7, 1, 2}, 0, 1000, 1, 1));
    byte[] cut = CODEC.encode(w);
    assertThrows(IllegalArgumentException.class,
        () -> CODEC.decode(java.util.Arrays.copyOf(cut, cut.length / 2), 0, 1000, 1, 1));
  }
}

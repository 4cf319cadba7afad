package io.pulse.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SeriesDetectorTest {

  private static final long T0 = 1_700_000_000_000L; // a fixed instant; the detector reads no clock
  private static final long MINUTE = 60_000L;
  private static final double ALERT = DetectorSettings.DEFAULT_ALERT_LEVEL;

  /** A noisy flat series: 100 + N(0, 5), one value a minute. */
  private static double noise(Random r) {
    return 100 + 5 * r.nextGaussian();
  }

  /** A daily pattern every 5 minutes: 100 + 50 sin(2 pi hour / 24) + N(0, 2). */
  private static double daily(long ts, Random r) {
    double hour = (ts % 86_400_000L) / 3_600_000.0;
    return 100 + 50 * Math.sin(2 * Math.PI * hour / 24) + 2 * r.nextGaussian();
  }

  private static SeriesDetector trainedFlat(DetectorSettings s, int n, long seed) {
    SeriesDetector d = new SeriesDetector(s);
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    return d;
  }

  @Test
  @DisplayName("warm-up: no score (NaN, warm=false) for the first WARM_UP observations, then scores in [0, 1]")
  void warmUp() {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(1);
    for (int i = 0; i < SeriesDetector.WARM_UP; i++) {
      assertFalse(d.warm());
      Verdict v = d.observe(T0 + i * MINUTE, noise(r));
      assertTrue(Double.isNaN(v.score()), "warming: " + v);
      assertFalse(v.warm());
      assertEquals("warming", v.method());
      assertFalse(v.alerts(0.0), "a warming verdict never alerts");
    }
    assertTrue(d.warm());
    assertEquals(SeriesDetector.WARM_UP, d.seen());
    Verdict v = d.observe(T0 + SeriesDetector.WARM_UP * MINUTE, noise(r));
    assertTrue(v.warm());
    assertTrue(v.score() >= 0 && v.score() <= 1, v.toString());
    assertTrue(v.low() < v.expected() && v.expected() < v.high(), "an expected band: " + v);
  }

  @Test
  @DisplayName("on a noisy series a spike, a dip and a level shift alert; the noise around them does not")
  void spikeDipShift() {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(7);
    int i = 0;
    double maxNoise = 0;
    for (; i < 3000; i++) {
      Verdict v = d.observe(T0 + i * MINUTE, noise(r));
      if (v.warm()) {
        maxNoise = Math.max(maxNoise, v.score());
      }
    }
    assertTrue(maxNoise < ALERT, "3000 points of plain noise stay under the alert level, max " + maxNoise);

    Verdict spike = d.observe(T0 + i++ * MINUTE, 100 + 60);
    assertTrue(spike.score() >= ALERT, "spike of 12 sigma: " + spike);
    assertTrue(spike.deviation() > 0 && spike.high() < 160, spike.toString());

    double quiet = 0;
    for (int k = 0; k < 1500; k++, i++) {
      quiet = Math.max(quiet, d.observe(T0 + i * MINUTE, noise(r)).score());
    }
    assertTrue(quiet < ALERT, "noise after the spike stays under the alert level, max " + quiet);

    Verdict dip = d.observe(T0 + i++ * MINUTE, 100 - 60);
    assertTrue(dip.score() >= ALERT, "dip of 12 sigma: " + dip);
    assertTrue(dip.deviation() < 0, dip.toString());
    for (int k = 0; k < 1500; k++, i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }

    // a level shift of 5 sigma: no single point is as extreme as the spike was, the run of them is
    double shiftMax = 0;
    String method = null;
    int alerts = 0;
    for (int k = 0; k < 20; k++, i++) {
      Verdict v = d.observe(T0 + i * MINUTE, noise(r) + 25);
      if (v.score() > shiftMax) {
        shiftMax = v.score();
        method = v.method();
      }
      alerts += v.score() >= ALERT ? 1 : 0;
    }
    assertTrue(shiftMax >= ALERT, "level shift of 5 sigma alerts within 20 points, max " + shiftMax);
    assertEquals(1, alerts, "one alert for the shift, not one per point (method " + method + ")");
  }

  @Test
  @DisplayName("seasonality: a daily pattern is learned; a value normal for its hour scores low, the same value off-hour alerts")
  void seasonality() {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(3);
    long step = 5 * MINUTE;
    long day0 = (T0 / 86_400_000L) * 86_400_000L; // midnight UTC
    int n = 12 * 24 * 10; // ten days
    double maxNormal = 0;
    for (int i = 0; i < n; i++) {
      long ts = day0 + i * step;
      Verdict v = d.observe(ts, daily(ts, r));
      if (i > 12 * 24 * 3 && v.warm()) {
        maxNormal = Math.max(maxNormal, v.score());
      }
    }
    assertTrue(maxNormal < ALERT, "the pattern itself never alerts once learned, max " + maxNormal);
    long next = day0 + n * step;
    long peak = next + 6 * 3_600_000L + 15 * MINUTE; // 06:15, the daily peak (about 150)
    long trough = next + 18 * 3_600_000L + 15 * MINUTE; // 18:15, the daily trough (about 50)
    Verdict atPeak = d.peek(peak, 148);
    Verdict offHour = d.peek(trough, 148);
    assertTrue(atPeak.score() < 0.5, "148 at the peak hour is normal: " + atPeak);
    assertTrue(offHour.score() >= 0.5, "148 at the trough hour is not: " + offHour);
    assertTrue(List.of("seasonal", "change", "level-shift").contains(offHour.method()), offHour.toString());
    assertTrue(d.peek(trough, 52).score() < 0.5, "52 at the trough hour is normal: " + d.peek(trough, 52));
    assertTrue(Math.abs(atPeak.expected() - 150) < 10, "expected follows the hour: " + atPeak);
    assertTrue(Math.abs(offHour.expected() - 50) < 10, "expected follows the hour: " + offHour);
    assertTrue(offHour.high() < 148, offHour.toString());
    // a jump led by the change test alerts once the next observation confirms it (still off-hour)
    Verdict first = d.observe(trough, 148);
    Verdict second = d.observe(trough + step, 148);
    assertTrue(Math.max(first.score(), second.score()) >= ALERT, "148 at the trough hour alerts: " + first + ", " + second);
  }

  @Test
  @DisplayName("a flat series without a daily pattern stays on the level test, never the seasonal one")
  void noSeasonalityWithoutPattern() {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(5);
    long step = 5 * MINUTE;
    for (int i = 0; i < 12 * 24 * 10; i++) {
      d.observe(T0 + i * step, noise(r));
    }
    Verdict v = d.peek(T0 + 12 * 24 * 10 * step, 160);
    assertEquals("level", v.method(), v.toString());
    assertTrue(Math.abs(v.expected() - 100) < 2, v.toString());
  }

  @Test
  @DisplayName("sensitivity: the same moderate deviation scores higher at higher sensitivity")
  void sensitivity() {
    double value = 100 + 27; // 5.4 sigma: near the record, so no setting saturates
    double low = trainedFlat(new DetectorSettings(0.1, ALERT), 2000, 11).peek(T0 + 2000 * MINUTE, value).score();
    double mid = trainedFlat(DetectorSettings.defaults(), 2000, 11).peek(T0 + 2000 * MINUTE, value).score();
    double high = trainedFlat(new DetectorSettings(0.9, ALERT), 2000, 11).peek(T0 + 2000 * MINUTE, value).score();
    assertTrue(low < mid && mid < high, low + " < " + mid + " < " + high);
    assertTrue(low < ALERT && high >= ALERT, "0.1 does not alert, 0.9 does: " + low + ", " + high);
  }

  @Test
  @DisplayName("markNormal: a spike that scored high scores low on a series where a similar one was marked normal")
  void markNormal() {
    SeriesDetector plain = trainedFlat(DetectorSettings.defaults(), 2000, 21);
    SeriesDetector marked = trainedFlat(DetectorSettings.defaults(), 2000, 21);
    long at = T0 + 2000 * MINUTE;
    Verdict first = plain.peek(at, 150);
    assertTrue(first.score() >= ALERT, "the spike alerts: " + first);
    marked.markNormal(at, 150);
    assertTrue(marked.peek(at, 150).score() < 0.5, "marked: " + marked.peek(at, 150));
    // much later (the records have faded) a similar spike, a little smaller
    Random r = new Random(99);
    Random r2 = new Random(99);
    for (int i = 1; i <= 3000; i++) {
      plain.observe(at + i * MINUTE, noise(r));
      marked.observe(at + i * MINUTE, noise(r2));
    }
    long later = at + 3001 * MINUTE;
    Verdict p = plain.peek(later, 145);
    Verdict m = marked.peek(later, 145);
    assertTrue(p.score() >= ALERT, "unmarked series still alerts: " + p);
    assertTrue(m.score() < 0.5, "marked series scores it low: " + m);
    assertTrue(marked.peek(later, 100 - 45).score() >= ALERT, "a dip is not covered by a marked spike");
    assertTrue(marked.peek(later, 260).score() >= ALERT, "a spike far beyond the marked one still alerts");
  }

  @Test
  @DisplayName("snapshot: a detector restored mid-stream gives exactly the verdicts of one that never stopped")
  void snapshotRoundTrip() throws IOException {
    SeriesDetector a = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(13);
    long step = 5 * MINUTE;
    List<double[]> input = new ArrayList<>();
    for (int i = 0; i < 12 * 24 * 20; i++) {
      long ts = T0 + i * step;
      // spikes that grow (40, 60, 90, ...): each is new, none is a repeat of the one before
      double v = daily(ts, r) + (i % 997 == 0 ? 40 * Math.pow(1.5, i / 997) : 0);
      input.add(new double[] {ts, v});
    }
    int cut = input.size() / 2;
    for (int i = 0; i < cut; i++) {
      a.observe((long) input.get(i)[0], input.get(i)[1]);
    }
    a.markNormal((long) input.get(cut)[0], input.get(cut)[1] + 6); // part of the state too
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    a.writeTo(new DataOutputStream(bytes));
    assertTrue(bytes.size() <= SeriesDetector.maxStateBytes(), bytes.size() + " bytes");
    SeriesDetector b = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())),
        DetectorSettings.defaults());
    assertEquals(a.seen(), b.seen());
    int alerts = 0;
    for (int i = cut; i < input.size(); i++) {
      Verdict va = a.observe((long) input.get(i)[0], input.get(i)[1]);
      Verdict vb = b.observe((long) input.get(i)[0], input.get(i)[1]);
      assertEquals(va, vb, "row " + i);
      alerts += va.alerts(ALERT) ? 1 : 0;
    }
    assertTrue(alerts > 0, "the injected spikes are part of what is compared");
  }

  @Test
  @DisplayName("snapshot: version-1 to -4 snapshots (before the stored strong observations, the held alert, the regime check, the all-time range) still read; an unknown version fails")
  void snapshotVersion1() throws IOException {
    SeriesDetector a = trainedFlat(DetectorSettings.defaults(), 100, 19); // not warm: nothing stored yet
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    a.writeTo(new DataOutputStream(bytes));
    byte[] v5 = bytes.toByteArray();
    // version 4 is version 5 without the trailing all-time range and where it counts from (the level
    // window's range is all 100 observations here, and the rule waits 1,000 more); version 3 is version 4 without the trailing regime check (median, spread
    // NaN, 7 hold maxima: none pending here); version 2 is version 3 without the trailing held score
    // (0 here); version 1 is version 2 without the trailing event count and slot (both 0 here)
    byte[] v4 = java.util.Arrays.copyOf(v5, v5.length - 24);
    v4[3] = 4;
    byte[] v3 = java.util.Arrays.copyOf(v4, v4.length - 72);
    v3[3] = 3;
    byte[] v2 = java.util.Arrays.copyOf(v3, v3.length - 8);
    v2[3] = 2;
    byte[] v1 = java.util.Arrays.copyOf(v3, v3.length - 16);
    v1[3] = 1;
    SeriesDetector b = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v1)),
        DetectorSettings.defaults());
    SeriesDetector c = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v2)),
        DetectorSettings.defaults());
    SeriesDetector c3 = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v3)),
        DetectorSettings.defaults());
    SeriesDetector c4 = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v4)),
        DetectorSettings.defaults());
    Random r = new Random(5);
    for (int i = 100; i < 3000; i++) {
      double v = noise(r) + (i % 500 == 0 ? 70 : 0);
      Verdict va = a.observe(T0 + i * MINUTE, v);
      Verdict v4read = c4.observe(T0 + i * MINUTE, v);
      assertEquals(v4read, b.observe(T0 + i * MINUTE, v), "row " + i);
      assertEquals(v4read, c.observe(T0 + i * MINUTE, v), "row " + i);
      assertEquals(v4read, c3.observe(T0 + i * MINUTE, v), "row " + i);
      // the same verdicts as the detector that never stopped, but for the band from the 1,000th row to
      // the 1,100th: there its range is trusted, the restored one's 1,000 observations after the restore
      assertEquals(va.score(), v4read.score(), "row " + i);
      assertEquals(va.method(), v4read.method(), "row " + i);
      if (i < SeriesDetector.EXTREME_AFTER || i >= SeriesDetector.EXTREME_AFTER + 100) {
        assertEquals(va, v4read, "row " + i);
      }
    }
    byte[] v9 = v5.clone();
    v9[3] = 9;
    assertThrows(IOException.class,
        () -> SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v9)), DetectorSettings.defaults()));
  }

  @Test
  @DisplayName("memory: the state is bounded (the same after 100 and after 100,000 observations) and within maxStateBytes")
  void memoryBound() throws IOException {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(17);
    for (int i = 0; i < 100; i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    long early = deepSize(d);
    for (int i = 100; i < 100_000; i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    long late = deepSize(d);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    d.writeTo(new DataOutputStream(bytes));
    System.out.printf("SeriesDetector: %d bytes on the heap (estimate), snapshot %d bytes, stated bound %d bytes%n",
        late, bytes.size(), SeriesDetector.maxStateBytes());
    assertEquals(early, late, "no growth with the number of observations");
    assertTrue(late <= SeriesDetector.maxStateBytes(), late + " > " + SeriesDetector.maxStateBytes());
    assertTrue(bytes.size() <= SeriesDetector.maxStateBytes());
  }

  @Test
  @DisplayName("micro benchmark (printed, not asserted): microseconds per observe over 200 series")
  void microBenchmark() {
    int series = 200;
    int per = 2000;
    SeriesDetector[] ds = new SeriesDetector[series];
    for (int s = 0; s < series; s++) {
      ds[s] = new SeriesDetector(DetectorSettings.defaults());
    }
    Random r = new Random(23);
    double sink = 0;
    long t0 = 0;
    for (int i = 0; i < per; i++) {
      if (i == per / 2) {
        t0 = System.nanoTime(); // the first half warms up the JIT and the detectors
      }
      for (int s = 0; s < series; s++) {
        double sc = ds[s].observe(T0 + i * MINUTE, noise(r)).score();
        sink += Double.isNaN(sc) ? 0 : sc;
      }
    }
    long nanos = System.nanoTime() - t0;
    System.out.printf("SeriesDetector.observe: %.2f µs per call (%d calls; sink %.1f)%n",
        nanos / 1e3 / (series * (per / 2)), series * (per / 2), sink);
  }

  @Test
  @DisplayName("repeats: a spike that recurs like one already seen stops alerting; a larger one still alerts")
  void repeatedSpike() {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(41);
    int i = 0;
    for (; i < 2000; i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    // the same 12-sigma spike every 300 observations (beyond the refractory period)
    int alerts = 0;
    int later = 0;
    for (int k = 0; k < 8; k++) {
      for (int j = 0; j < 299; j++, i++) {
        d.observe(T0 + i * MINUTE, noise(r));
      }
      Verdict v = d.observe(T0 + i++ * MINUTE, 160);
      alerts += v.alerts(ALERT) ? 1 : 0;
      later += k >= 2 && v.alerts(ALERT) ? 1 : 0;
    }
    assertTrue(alerts >= 1, "the first spike alerts");
    assertEquals(0, later, "the recurring spike no longer alerts once seen (" + alerts + " alerts)");
    for (int j = 0; j < 299; j++, i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    Verdict bigger = d.peek(T0 + i * MINUTE, 250);
    assertTrue(bigger.score() >= ALERT, "a spike well beyond the recurring one alerts: " + bigger);
    Verdict dip = d.peek(T0 + i * MINUTE, 40);
    assertTrue(dip.score() >= ALERT, "a dip is not a repeat of a spike: " + dip);
  }

  @Test
  @DisplayName("regime: after a shift to another level, a spike sized for the new regime alerts; after a lone spike a smaller one does not")
  void regimeChange() {
    Random r = new Random(43);
    SeriesDetector d = quiet(r, 2000);
    int i = 2000;
    assertTrue(d.observe(T0 + i++ * MINUTE, 160).alerts(ALERT), "a 60-sigma spike on the quiet series alerts");
    for (int k = 0; k < 300; k++, i++) {
      d.observe(T0 + i * MINUTE, 100 + r.nextGaussian());
    }
    // a lone spike moves no median: its record stands, and half its size 300 points later is no news
    Verdict smaller = d.observe(T0 + i++ * MINUTE, 130);
    assertFalse(smaller.alerts(ALERT), "a spike half the size of a recent one: " + smaller);
    for (int k = 0; k < 300; k++, i++) {
      d.observe(T0 + i * MINUTE, 100 + r.nextGaussian());
    }
    // the series moves to 200 with five times the noise: the jump alerts once
    int shiftAlerts = 0;
    for (int k = 0; k < 600; k++, i++) {
      shiftAlerts += d.observe(T0 + i * MINUTE, 200 + 5 * r.nextGaussian()).alerts(ALERT) ? 1 : 0;
    }
    assertEquals(1, shiftAlerts, "one alert for the change of regime");
    // 8 sigma of the new regime: far under the records of the old one (the 60-sigma spike, the jump of
    // 100 sigma), so only records re-based on the new regime let it alert; a dip, so that it stays
    // inside the all-time range (a spike to 240 would be an extreme and alert on that alone)
    Verdict dip = d.observe(T0 + i++ * MINUTE, 160);
    assertTrue(dip.alerts(ALERT), "an 8-sigma dip in the new regime: " + dip);
    assertFalse(dip.method().equals("extreme"), dip.toString());
  }

  @Test
  @DisplayName("extreme: past a burst of spikes that raised the records, a spike beyond all of them alerts, also during a hold; one inside the range does not")
  void extreme() {
    // a spike of 160 every 40 observations: the records stand at its size, and it repeats
    SeriesDetector d = spiky(1500, 8);
    int i = (int) d.seen();
    Random r = new Random(48);
    // 14 sigma, 15 % of the range past the highest value yet, but only about 1.2 times the records
    Verdict beyond = d.observe(T0 + i++ * MINUTE, 172);
    assertTrue(beyond.alerts(ALERT), "a spike past all the earlier ones: " + beyond);
    assertEquals("extreme", beyond.method(), beyond.toString());
    assertTrue(beyond.deviation() > 10, beyond.toString());
    assertTrue(beyond.high() < 172, "the expected band ends where the rule alerts: " + beyond);
    for (int j = 0; j < 40; j++, i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    // during the hold of that alert: one inside the range waits, one past it alerts again
    Verdict inside = d.peek(T0 + i * MINUTE, 168);
    assertFalse(inside.alerts(ALERT), "inside the range, during the hold: " + inside);
    Verdict further = d.peek(T0 + i * MINUTE, 195);
    assertTrue(further.alerts(ALERT), "past the new range, during the hold: " + further);
    assertEquals("extreme", further.method(), further.toString());

    // a young series has not found its range yet: the rule waits for EXTREME_AFTER observations, so
    // during a hold (here at 980 observations) the same excursion past the range is held like any other
    SeriesDetector young = spiky(600, 8);
    long t = young.seen();
    assertTrue(young.observe(T0 + t++ * MINUTE, 200).alerts(ALERT), "a spike far past the others");
    for (int j = 0; j < 20; j++) {
      young.observe(T0 + t++ * MINUTE, noise(r));
    }
    Verdict early = young.peek(T0 + t * MINUTE, 225);
    assertFalse(early.alerts(ALERT), "past the range during the hold, on a series of " + t + " observations: " + early);
  }

  @Test
  @DisplayName("extreme: a lower sensitivity needs a larger excursion; a value past the range but few spreads from the expected one is no extreme")
  void extremeGuards() {
    // 13 % of the range past it: enough at 0.5 (10 %), not at 0.1 (about 15 %)
    Verdict mid = spiky(1500, 8).peek(T0, 170);
    Verdict dull = spiky(1500, 8, new DetectorSettings(0.1, ALERT)).peek(T0, 170);
    assertTrue(mid.alerts(ALERT) && mid.method().equals("extreme"), mid.toString());
    assertFalse(dull.alerts(ALERT), "at sensitivity 0.1: " + dull);
    // values spread evenly over 90..110: 113 lies 15 % of the range past it, but under 2 spreads out
    SeriesDetector even = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(53);
    for (int i = 0; i < 3000; i++) {
      even.observe(T0 + i * MINUTE, 90 + 20 * r.nextDouble());
    }
    Verdict past = even.peek(T0 + 3000 * MINUTE, 113);
    assertFalse(past.alerts(ALERT), "past the range by a fraction of the spread: " + past);
  }

  @Test
  @DisplayName("extreme: inside the hold of a change of regime it alerts, and the regime check of the first alert still re-bases the records")
  void extremeInsideHold() {
    Random r = new Random(43);
    SeriesDetector d = quiet(r, 2000);
    int i = 2000;
    // the series moves to 200 with five times the noise; 40 windows in, a spike past everything
    int alerts = 0;
    for (int k = 0; k < 600; k++, i++) {
      Verdict v = d.observe(T0 + i * MINUTE, k == 40 ? 260 : 200 + 5 * r.nextGaussian());
      if (k == 40) {
        assertTrue(v.alerts(ALERT) && v.method().equals("extreme"), "the spike inside the hold: " + v);
      } else {
        alerts += v.alerts(ALERT) ? 1 : 0;
      }
    }
    assertEquals(1, alerts, "one alert for the change of regime, none after the spike");
    Verdict dip = d.observe(T0 + i * MINUTE, 160);
    assertTrue(dip.alerts(ALERT), "an 8-sigma dip in the new regime: " + dip);
  }

  @Test
  @DisplayName("extreme: a detector restored from a snapshot older than the all-time range does not take its last 256 values for that range")
  void extremeAfterOldSnapshot() throws IOException {
    // bursts of +60 every 400 observations, the last one 300 observations before the snapshot
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    Random r = new Random(59);
    int i = 0;
    for (; i < 3000; i++) {
      d.observe(T0 + i * MINUTE, noise(r) + (i % 400 == 299 ? 60 : 0));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    d.writeTo(new DataOutputStream(bytes));
    byte[] v5 = bytes.toByteArray();
    byte[] v4 = java.util.Arrays.copyOf(v5, v5.length - 24); // without the range and where it counts from
    v4[3] = 4;
    SeriesDetector restored = SeriesDetector.readFrom(new DataInputStream(new ByteArrayInputStream(v4)),
        DetectorSettings.defaults());
    for (double v : new double[] {160, 140}) {
      Verdict now = d.peek(T0 + i * MINUTE, v);
      Verdict old = restored.peek(T0 + i * MINUTE, v);
      assertFalse(now.alerts(ALERT), v + " on the detector that never stopped: " + now);
      assertFalse(old.alerts(ALERT), v + " on the one restored from version 4: " + old);
    }
  }

  /** A quiet series, 100 + N(0, 1), one value a minute for {@code n} minutes from T0. */
  private static SeriesDetector quiet(Random r, int n) {
    SeriesDetector d = new SeriesDetector(DetectorSettings.defaults());
    for (int i = 0; i < n; i++) {
      d.observe(T0 + i * MINUTE, 100 + r.nextGaussian());
    }
    return d;
  }

  /** Noise for {@code quiet} observations, then {@code spikes} times 39 of noise and a spike of 160, then 39 of noise. */
  private static SeriesDetector spiky(int quiet, int spikes) {
    return spiky(quiet, spikes, DetectorSettings.defaults());
  }

  private static SeriesDetector spiky(int quiet, int spikes, DetectorSettings settings) {
    SeriesDetector d = new SeriesDetector(settings);
    Random r = new Random(47);
    int i = 0;
    for (; i < quiet; i++) {
      d.observe(T0 + i * MINUTE, noise(r));
    }
    for (int k = 0; k <= spikes; k++) {
      for (int j = 0; j < 39; j++, i++) {
        d.observe(T0 + i * MINUTE, noise(r));
      }
      if (k < spikes) {
        d.observe(T0 + i++ * MINUTE, 160);
      }
    }
    return d;
  }

  @Test
  @DisplayName("invalid values are refused without touching the state")
  void invalid() {
    SeriesDetector d = trainedFlat(DetectorSettings.defaults(), 500, 31);
    long seen = d.seen();
    assertEquals("invalid", d.observe(T0, Double.NaN).method());
    assertEquals("invalid", d.observe(T0, Double.POSITIVE_INFINITY).method());
    assertEquals(seen, d.seen());
  }

  // --- a deep size estimate: 16-byte headers, 8 per reference or long/double, 4 per int/float ---

  private static long deepSize(Object root) {
    return size(root, new IdentityHashMap<>());
  }

  private static long size(Object o, IdentityHashMap<Object, Boolean> seen) {
    if (o == null || seen.put(o, Boolean.TRUE) != null || o instanceof DetectorSettings) {
      return 0; // the settings are shared by every series
    }
    Class<?> c = o.getClass();
    if (c.isArray()) {
      int n = Array.getLength(o);
      Class<?> t = c.getComponentType();
      long total = 16 + (long) n * (t == int.class || t == float.class ? 4 : t == byte.class ? 1 : 8);
      if (!t.isPrimitive()) {
        for (int i = 0; i < n; i++) {
          total += size(Array.get(o, i), seen);
        }
      }
      return total;
    }
    long total = 16;
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      for (Field f : k.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        Class<?> t = f.getType();
        total += t == int.class || t == float.class || t == boolean.class ? 4 : 8;
        if (!t.isPrimitive()) {
          f.setAccessible(true);
          try {
            total += size(f.get(o), seen);
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }
    return total;
  }
}

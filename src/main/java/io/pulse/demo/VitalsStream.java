package io.pulse.demo;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code vitals}: bedside monitors reporting once a second for eight patients (p01-p04 in icu,
 * p05-p08 in cardio); {@code heart_rate} (bpm), {@code spo2} (%), {@code resp_rate} (breaths a
 * minute) and {@code temp_c}. Each patient has their own baseline, a slow drift, a circadian
 * swing (lower heart rate and temperature before dawn) and sensor noise, within physiological
 * limits.
 *
 * <p>Incidents, each on one patient, easing in and out: {@code tachycardia} (heart rate
 * towards {@code magnitude}, 125-165 bpm), {@code desaturation} (SpO2 towards
 * {@code magnitude}, 80-88 %, breathing and pulse up) and {@code fever} (temperature towards
 * {@code magnitude}, 38.5-40.2 °C, pulse up 10 bpm a degree).
 */
final class VitalsStream extends SlottedStream {

  static final String NAME = "vitals";
  static final int PATIENTS = 8;
  private static final long PERIOD_MS = 1_000;
  private static final String[] NAMES = {"heart_rate", "spo2", "resp_rate", "temp_c"};

  private final Dims[] dims = new Dims[PATIENTS];
  private final long[] phase = new long[PATIENTS];
  private final double[] heartRate = new double[PATIENTS];
  private final double[] spo2 = new double[PATIENTS];
  private final double[] respRate = new double[PATIENTS];
  private final double[] temp = new double[PATIENTS];

  VitalsStream(long seed) {
    super(NAME, seed, 0.5);
    for (int p = 0; p < PATIENTS; p++) {
      boolean cardio = p >= PATIENTS / 2;
      dims[p] = Dims.of("patient", patient(p), "ward", cardio ? "cardio" : "icu");
      SplittableRandom rnd = new SplittableRandom(Noise.mix(key, 91, p));
      phase[p] = rnd.nextLong(PERIOD_MS);
      heartRate[p] = Draw.between(rnd, 62.0, 88.0) + (cardio ? 5 : 0);
      spo2[p] = Draw.between(rnd, 95.5, 98.5);
      respRate[p] = Draw.between(rnd, 12.0, 18.0);
      temp[p] = Draw.between(rnd, 36.5, 37.1);
    }
  }

  static String patient(int p) {
    return String.format(java.util.Locale.ROOT, "p%02d", p + 1);
  }

  @Override
  protected void fill(long start, long end, SplittableRandom rnd, List<Incident> incidents, List<Event> out) {
    for (int p = 0; p < PATIENTS; p++) {
      int patient = p;
      ticks(start, end, PERIOD_MS, phase[p], 0.08, Noise.mix(key, 29, p),
          (n, ts) -> out.add(reading(patient, ts, rnd, incidents)));
    }
  }

  private Event reading(int p, long ts, SplittableRandom rnd, List<Incident> incidents) {
    long k = Noise.mix(key, 53, p);
    double slow = Noise.smooth(k, ts, 15 * MINUTE_MS);
    double fast = Noise.smooth(k + 1, ts, 3 * MINUTE_MS);
    // 1 at 04:00 UTC, -1 at 16:00: the circadian low before dawn.
    double night = Math.cos((Rhythm.hourOfDay(ts) - 4) / 24 * 2 * Math.PI);

    double hr = heartRate[p] + 6 * slow + 3 * fast - 5 * night + 2 * rnd.nextGaussian();
    double sat = spo2[p] + 0.8 * Noise.smooth(k + 2, ts, 10 * MINUTE_MS) + 0.5 * rnd.nextGaussian();
    double rr = respRate[p] + 1.5 * slow + 0.8 * rnd.nextGaussian();
    double t = temp[p] + 0.2 * Noise.smooth(k + 3, ts, 20 * MINUTE_MS) - 0.25 * night + 0.04 * rnd.nextGaussian();

    Incident tachy = active(incidents, "tachycardia", ts, dims[p]);
    if (tachy != null) {
      double e = tachy.envelope(ts, 0.2);
      hr += (tachy.magnitude() - hr) * e + 4 * e * rnd.nextGaussian();
      rr += 4 * e;
    }
    Incident desat = active(incidents, "desaturation", ts, dims[p]);
    if (desat != null) {
      double e = desat.envelope(ts, 0.25);
      sat += (desat.magnitude() - sat) * e + e * rnd.nextGaussian();
      rr += 6 * e;
      hr += 12 * e;
    }
    Incident fever = active(incidents, "fever", ts, dims[p]);
    if (fever != null) {
      double e = fever.envelope(ts, 0.3);
      double rise = (fever.magnitude() - t) * e;
      t += rise;
      hr += 10 * Math.max(0, rise);
      rr += 2 * e;
    }
    return event(ts, dims[p], NAMES,
        Math.round(Draw.clamp(hr, 35, 220)),
        Math.round(Draw.clamp(sat, 70, 100)),
        Math.round(Draw.clamp(rr, 6, 45)),
        Draw.round(Draw.clamp(t, 34, 42), 1));
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    Dims target = dims[rnd.nextInt(PATIENTS)];
    double kind = rnd.nextDouble();
    if (kind < 0.4) {
      return place(rnd, segmentStart, segmentEnd, "tachycardia",
          Draw.between(rnd, 3 * MINUTE_MS, 10 * MINUTE_MS), target, Draw.between(rnd, 125.0, 165.0));
    }
    if (kind < 0.75) {
      return place(rnd, segmentStart, segmentEnd, "desaturation",
          Draw.between(rnd, 3 * MINUTE_MS, 8 * MINUTE_MS), target, Draw.between(rnd, 80.0, 88.0));
    }
    return place(rnd, segmentStart, segmentEnd, "fever",
        Draw.between(rnd, 10 * MINUTE_MS, 18 * MINUTE_MS), target, Draw.between(rnd, 38.5, 40.2));
  }
}

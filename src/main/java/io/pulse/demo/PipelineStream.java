package io.pulse.demo;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code pipeline}: data-pipeline jobs reporting each batch they finish, by job; {@code rows},
 * {@code duration_s} and {@code errors}. Each job runs on its own cadence (every 2 s to every
 * 30 s, with some jitter); ingest follows shop traffic, the rest is steady.
 *
 * <p>Incidents, each on one job: {@code job_silent} (the job reports nothing: a hung worker or
 * a dead scheduler; the stream "goes silent"), {@code error_burst} (a share {@code magnitude}
 * of rows fail) and {@code slow_runs} (runs take {@code magnitude} times longer, so only every
 * third one lands in the usual cadence).
 */
final class PipelineStream extends SlottedStream {

  static final String NAME = "pipeline";
  static final String[] JOBS = {"ingest_orders", "enrich_users", "build_features", "export_dw", "sync_crm"};
  private static final long[] PERIOD_MS = {2_000, 5_000, 15_000, 30_000, 10_000};
  private static final double[] ROWS = {1_200, 600, 25_000, 120_000, 300};
  private static final double[] DURATION_S = {0.8, 2.2, 8, 18, 1.2};
  private static final double[] ERROR_PER_ROW = {1e-5, 2e-5, 5e-6, 1e-6, 5e-4};
  private static final String[] NAMES = {"rows", "duration_s", "errors"};

  private final Dims[] dims = new Dims[JOBS.length];
  private final long[] phase = new long[JOBS.length];

  PipelineStream(long seed) {
    super(NAME, seed, 0.6);
    for (int j = 0; j < JOBS.length; j++) {
      dims[j] = Dims.of("job", JOBS[j]);
      phase[j] = (long) (Noise.unit(Noise.mix(key, j)) * PERIOD_MS[j]);
    }
  }

  @Override
  protected void fill(long start, long end, SplittableRandom slotRnd, List<Incident> incidents, List<Event> out) {
    for (int j = 0; j < JOBS.length; j++) {
      int job = j;
      ticks(start, end, PERIOD_MS[j], phase[j], 0.15, Noise.mix(key, 17, j), (n, ts) -> {
        Event e = batch(job, n, ts, incidents);
        if (e != null) {
          out.add(e);
        }
      });
    }
  }

  private Event batch(int job, long n, long ts, List<Incident> incidents) {
    if (active(incidents, "job_silent", ts, dims[job]) != null) {
      return null;
    }
    Incident slow = active(incidents, "slow_runs", ts, dims[job]);
    if (slow != null && n % 3 != 0) {
      return null;
    }
    // Seeded by (job, run), not by slot: a batch's figures belong to the run.
    SplittableRandom rnd = new SplittableRandom(Noise.mix(key, job, n));
    double level = job == 0 ? Math.max(0.08, Rhythm.CONSUMER.at(ts)) : 1.0;
    double rows = Math.round(Draw.lognormal(rnd, ROWS[job] * level, 0.25));
    double duration = Draw.lognormal(rnd, DURATION_S[job], 0.2) * Math.pow(Math.max(0.05, level), 0.3);
    if (slow != null) {
      duration *= slow.magnitude();
    }
    double errors = Poisson.sample(rnd, rows * ERROR_PER_ROW[job] * (job == 4 && Draw.chance(rnd, 0.08) ? 20 : 1));
    Incident failing = active(incidents, "error_burst", ts, dims[job]);
    if (failing != null) {
      errors += Math.round(rows * failing.magnitude() * Draw.between(rnd, 0.7, 1.3));
    }
    return event(ts, dims[job], NAMES, rows, Draw.round(duration, 2), Math.min(rows, errors));
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    Dims target = Dims.of("job", Draw.pick(rnd, JOBS));
    double kind = rnd.nextDouble();
    if (kind < 0.4) {
      return place(rnd, segmentStart, segmentEnd, "job_silent",
          Draw.between(rnd, 4 * MINUTE_MS, 12 * MINUTE_MS), target, 0);
    }
    if (kind < 0.75) {
      return place(rnd, segmentStart, segmentEnd, "error_burst",
          Draw.between(rnd, 3 * MINUTE_MS, 8 * MINUTE_MS), target, Draw.between(rnd, 0.02, 0.2));
    }
    return place(rnd, segmentStart, segmentEnd, "slow_runs",
        Draw.between(rnd, 4 * MINUTE_MS, 10 * MINUTE_MS), target, Draw.between(rnd, 4.0, 10.0));
  }
}

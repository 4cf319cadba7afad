package io.pulse.demo;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.time.LocalDate;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code sales}: deal updates by eight reps (each in one region); {@code deal_value},
 * {@code pipeline_value} (the rep's open pipeline, shrinking as the quarter closes deals),
 * {@code won} (0/1) and {@code won_value} (the deal value when won, else 0: sum it for a
 * leaderboard or a forecast). Reps keep business hours in their own time zone (so the stream
 * is never dead for a viewer in another one), weekdays only, and are busier and luckier in the
 * last week of a quarter.
 *
 * <p>Incidents: {@code closing_push} (an end-of-quarter-like rush: the team, or one region, at
 * {@code magnitude} times the rate with better odds) and {@code big_win} (one rep closes one
 * deal worth {@code magnitude}, at the incident's start).
 */
final class SalesStream extends PoissonStream {

  static final String NAME = "sales";
  static final String[] REPS = {"ana", "ben", "carla", "dev", "emma", "farid", "grace", "hiro"};
  static final String[] REP_REGION = {"eu", "eu", "us", "us", "us", "eu", "apac", "apac"};
  static final String[] REGIONS = {"eu", "us", "apac"};
  /** Local business time of each rep's region, hours from UTC. */
  private static final double[] REP_UTC_OFFSET = {1, 1, -5, -5, -5, 1, 8, 8};
  /** Deal updates a second of one average rep at the busiest hour. */
  private static final double PEAK_RATE_PER_REP = 0.4;

  private final double[] activity = new double[REPS.length];
  private final double[] winRate = new double[REPS.length];
  private final double[] dealMedian = new double[REPS.length];
  private final double[] pipeline = new double[REPS.length];

  SalesStream(long seed) {
    super(NAME, seed, 0.5, cells(), "deal_value", "pipeline_value", "won", "won_value");
    for (int r = 0; r < REPS.length; r++) {
      SplittableRandom rnd = new SplittableRandom(Noise.mix(key, 7, r));
      activity[r] = Draw.between(rnd, 0.6, 1.5);
      winRate[r] = Draw.between(rnd, 0.18, 0.42);
      dealMedian[r] = Math.round(Draw.between(rnd, 6_000.0, 15_000.0));
      pipeline[r] = Draw.between(rnd, 150_000.0, 600_000.0);
    }
  }

  private static Dims[] cells() {
    Dims[] d = new Dims[REPS.length];
    for (int r = 0; r < REPS.length; r++) {
      d[r] = Dims.of("rep", REPS[r], "region", REP_REGION[r]);
    }
    return d;
  }

  @Override
  protected double rate(int rep, long t, List<Incident> incidents) {
    double r = PEAK_RATE_PER_REP * activity[rep] * Rhythm.BUSINESS.at(t, REP_UTC_OFFSET[rep])
        * (1 + 0.15 * Noise.smooth(key + rep, t, 10 * MINUTE_MS)) * Noise.burst(key + rep, t, 0.03)
        * (quarterEnd(t) ? 2.0 : 1.0);
    Incident push = active(incidents, "closing_push", t, cell(rep));
    if (push != null) {
      r *= 1 + (push.magnitude() - 1) * push.envelope(t, 0.1);
    }
    return r;
  }

  @Override
  protected double[] values(int rep, long ts, SplittableRandom rnd, List<Incident> incidents) {
    double deal = Math.max(100, Math.round(Draw.lognormal(rnd, dealMedian[rep], 0.9) / 10) * 10.0);
    double p = winRate[rep] + (quarterEnd(ts) ? 0.1 : 0);
    if (active(incidents, "closing_push", ts, cell(rep)) != null) {
      p += 0.15;
    }
    boolean won = Draw.chance(rnd, p);
    return new double[] {deal, pipelineValue(rep, ts), won ? 1 : 0, won ? deal : 0};
  }

  @Override
  protected void fill(long start, long end, SplittableRandom rnd, List<Incident> incidents, List<Event> out) {
    super.fill(start, end, rnd, incidents, out);
    for (Incident i : incidents) {
      if (i.kind().equals("big_win") && i.start() >= start && i.start() < end) {
        int rep = indexOf(i.target().get("rep"));
        out.add(event(i.start(), cell(rep), names(),
            i.magnitude(), pipelineValue(rep, i.start()), 1, i.magnitude()));
      }
    }
  }

  /** The open pipeline: full at the start of a quarter, drained by about 60 % at its end. */
  private double pipelineValue(int rep, long ts) {
    double drained = 1.25 - 0.6 * quarterProgress(ts);
    double wobble = 1 + 0.1 * Noise.smooth(key + 100 + rep, ts, 30 * MINUTE_MS);
    return Math.round(pipeline[rep] * drained * wobble / 100) * 100.0;
  }

  /** The last seven days of March, June, September and December, UTC. */
  static boolean quarterEnd(long ts) {
    LocalDate d = LocalDate.ofEpochDay(Math.floorDiv(ts, 86_400_000L));
    return d.getMonthValue() % 3 == 0 && d.lengthOfMonth() - d.getDayOfMonth() < 7;
  }

  /** How far into its quarter {@code ts} is, in [0, 1). */
  static double quarterProgress(long ts) {
    long day = Math.floorDiv(ts, 86_400_000L);
    LocalDate d = LocalDate.ofEpochDay(day);
    LocalDate start = LocalDate.of(d.getYear(), (d.getMonthValue() - 1) / 3 * 3 + 1, 1);
    long length = start.plusMonths(3).toEpochDay() - start.toEpochDay();
    return (day - start.toEpochDay() + Math.floorMod(ts, 86_400_000L) / 86_400_000.0) / length;
  }

  private static int indexOf(String rep) {
    for (int r = 0; r < REPS.length; r++) {
      if (REPS[r].equals(rep)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown rep " + rep);
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    if (Draw.chance(rnd, 0.65)) {
      Dims target = Draw.chance(rnd, 0.5) ? Dims.EMPTY : Dims.of("region", Draw.pick(rnd, REGIONS));
      return place(rnd, segmentStart, segmentEnd, "closing_push",
          Draw.between(rnd, 5 * MINUTE_MS, 15 * MINUTE_MS), target, Draw.between(rnd, 3.0, 5.0));
    }
    int rep = rnd.nextInt(REPS.length);
    return place(rnd, segmentStart, segmentEnd, "big_win", MINUTE_MS, Dims.of("rep", REPS[rep]),
        Math.round(Draw.between(rnd, 150_000.0, 600_000.0) / 1000) * 1000.0);
  }
}

package io.pulse.demo;

import io.pulse.event.Dims;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code latency}: sampled requests of backend services, by service and region;
 * {@code latency_ms} (lognormal with a heavy tail, rising with load), {@code error} (0/1) and
 * {@code cpu_pct} of the serving instance.
 *
 * <p>Incidents: {@code latency_spike} (one service, perhaps in one region, {@code magnitude}
 * times slower and hotter) and {@code error_burst} (one service failing a share
 * {@code magnitude} of its requests).
 */
final class LatencyStream extends PoissonStream {

  /** Background bursts per minute (see {@link DemoStream#burstAt}). */
  private static final double BURSTS = 0.04;

  static final String NAME = "latency";
  static final String[] SERVICES = {"api", "search", "checkout", "auth", "db"};
  static final String[] REGIONS = {"eu", "us"};
  private static final double[] SERVICE_SHARE = {0.30, 0.20, 0.10, 0.20, 0.20};
  private static final double[] SERVICE_LATENCY = {45, 110, 180, 30, 6};
  private static final double[] SERVICE_ERROR = {0.005, 0.008, 0.01, 0.003, 0.002};
  private static final double[] SERVICE_CPU = {0.8, 1.0, 0.7, 0.5, 0.9};
  private static final double PEAK_RATE = 70;

  LatencyStream(long seed) {
    super(NAME, seed, 0.6, grid("service", SERVICES, "region", REGIONS), "latency_ms", "error", "cpu_pct");
  }

  @Override
  protected double rate(int cell, long t, List<Incident> incidents) {
    return PEAK_RATE * SERVICE_SHARE[cell / REGIONS.length] / REGIONS.length * load(Rhythm.SERVICE, t, BURSTS);
  }

  @Override
  protected double[] values(int cell, long ts, SplittableRandom rnd, List<Incident> incidents) {
    int service = cell / REGIONS.length;
    Dims dims = cell(cell);
    double load = Rhythm.SERVICE.at(ts);
    double latency = Draw.lognormal(rnd, SERVICE_LATENCY[service] * (1 + 0.4 * load), 0.5);
    if (Draw.chance(rnd, 0.015)) {
      latency *= Draw.between(rnd, 4.0, 15.0); // GC pauses, cold caches, lock waits
    }
    double errorRate = SERVICE_ERROR[service];
    double cpu = 12 + 55 * load * SERVICE_CPU[service] + 6 * Noise.smooth(key + cell, ts, 3 * MINUTE_MS)
        + 3 * rnd.nextGaussian();
    Incident spike = active(incidents, "latency_spike", ts, dims);
    if (spike != null) {
      double e = spike.envelope(ts, 0.1);
      latency *= 1 + (spike.magnitude() - 1) * e;
      cpu += 35 * e;
      errorRate += 0.02 * e; // timeouts
    }
    Incident burst = active(incidents, "error_burst", ts, dims);
    if (burst != null) {
      errorRate += (burst.magnitude() - errorRate) * burst.envelope(ts, 0.05);
    }
    boolean error = Draw.chance(rnd, errorRate);
    return new double[] {
        Draw.round(Draw.clamp(latency, 0.2, 120_000), 1),
        error ? 1 : 0,
        Draw.round(Draw.clamp(cpu, 1, 100), 1)};
  }

  @Override
  protected Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd) {
    String service = Draw.pick(rnd, SERVICES);
    if (Draw.chance(rnd, 0.55)) {
      Dims target = Draw.chance(rnd, 0.5)
          ? Dims.of("service", service)
          : Dims.of("service", service, "region", Draw.pick(rnd, REGIONS));
      return place(rnd, segmentStart, segmentEnd, "latency_spike",
          Draw.between(rnd, 3 * MINUTE_MS, 10 * MINUTE_MS), target, Draw.between(rnd, 4.0, 15.0));
    }
    return place(rnd, segmentStart, segmentEnd, "error_burst",
        Draw.between(rnd, 2 * MINUTE_MS, 8 * MINUTE_MS), Dims.of("service", service),
        Draw.between(rnd, 0.15, 0.5));
  }

  @Override
  protected double burstChancePerMinute() {
    return BURSTS;
  }
}

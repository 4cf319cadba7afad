package io.pulse.demo;

import io.pulse.agg.ViewRegistry;
import io.pulse.alert.Alert;
import io.pulse.alert.AlertEngine;
import io.pulse.alert.Rule;
import io.pulse.alert.Transition;
import io.pulse.anomaly.Pipeline;
import io.pulse.anomaly.RollupScorer;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.score.ModelTrainer;
import io.pulse.score.ShardScoring;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well the ready rules and the detectors serve the demo: the demo generators run for a stated
 * stretch of simulated time through the server's own path (routing, windows, combining,
 * {@link RollupScorer}, {@link AlertEngine} with the ready rules of {@code demo/rules.json}), and
 * every alert that fires is matched against the incidents the generators injected. Per stream it
 * reports incidents injected, incidents alerted and how soon after their start, and alerts with no
 * incident behind them per hour. Hours of demo run in seconds: time is simulated, not waited for.
 *
 * <p>An alert counts for an incident when it fires on the incident's stream, for a series the
 * incident touches (their shared dims agree), between the incident's start and {@link #GRACE_MS}
 * after its end. Any other firing is a false alarm. Event scoring runs as in the demo server (the
 * payments stream): the shard samples and scores events, and a model is trained on the sample a
 * minute in and again every {@code scoring.retrainEvery}, as the model verticle would.
 */
public final class DemoReport {

  /** How long after an incident's end an alert still counts for it (a rule's {@code for}, a late window). */
  public static final long GRACE_MS = 120_000;
  /** When the first event model is trained, after the run starts (then every scoring.retrainEvery). */
  static final long FIRST_TRAINING_MS = 60_000;
  /** Simulated time between ticks, as the server's flush. */
  static final long TICK_MS = 250;

  /** One stream's figures. */
  /**
   * One stream's figures. {@code inBursts} are alerts with no incident behind them that fired during
   * (or up to the grace after) one of the generator's unlabelled background bursts; {@code falseAlerts}
   * the others.
   */
  public record Line(String stream, int incidents, int alerted, List<Long> delaysMs, int falseAlerts,
      Map<String, int[]> byKind, Map<String, Integer> falseByRule, int inBursts) {
  }

  /** The whole report. */
  public record Result(long fromMs, long durationMs, List<Line> lines, double wallSeconds) {

    public String table() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "| stream | incidents | alerted | median delay | slowest | false alerts/h "
          + "| in background bursts/h |%n"));
      sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
      for (Line l : lines) {
        List<Long> d = new ArrayList<>(l.delaysMs());
        d.sort(null);
        sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %.2f | %.2f |%n", l.stream(), l.incidents(),
            l.alerted(), d.isEmpty() ? "–" : seconds(d.get(d.size() / 2)), d.isEmpty() ? "–" : seconds(d.get(d.size() - 1)),
            l.falseAlerts() / (durationMs / 3_600_000.0), l.inBursts() / (durationMs / 3_600_000.0)));
      }
      return sb.toString();
    }

    /** Per stream and incident kind: injected and alerted. */
    public String kinds() {
      StringBuilder sb = new StringBuilder();
      for (Line l : lines) {
        l.byKind().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-9s %-18s %d of %d alerted%n",
            l.stream(), k, v[1], v[0])));
        l.falseByRule().forEach((rule, n) -> sb.append(String.format(Locale.ROOT,
            "  %-9s false alerts of \"%s\": %d%n", l.stream(), rule, n)));
      }
      return sb.toString();
    }

    private static String seconds(long ms) {
      return String.format(Locale.ROOT, "%.0f s", ms / 1000.0);
    }
  }

  private DemoReport() {
  }

  /**
   * {@code java -jar pulse.jar demo-report [--hours N] [--seed S] [--from ISO-8601]}: runs the demo
   * for N simulated hours (default 6) and prints the table. Exit code 0, or 64 for bad options.
   */
  public static int cli(String[] args) {
    long hours = 6;
    long seed = 42;
    long from = java.time.Instant.parse("2026-11-23T08:00:00Z").toEpochMilli(); // a Monday morning, UTC
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--hours" -> hours = Long.parseLong(args[++i]);
          case "--seed" -> seed = Long.parseLong(args[++i]);
          case "--from" -> from = java.time.Instant.parse(args[++i]).toEpochMilli();
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (hours < 1 || hours > 24 * 30) {
        throw new IllegalArgumentException("--hours: from 1 to 720");
      }
    } catch (RuntimeException e) {
      System.err.println("demo-report: " + e.getMessage()
          + "\nusage: java -jar pulse.jar demo-report [--hours 6] [--seed 42] [--from 2026-11-23T08:00:00Z]");
      return 64;
    }
    System.out.printf(Locale.ROOT, "demo-report: %d simulated hours from %s, seed %d, the ready rules of demo/rules.json%n",
        hours, java.time.Instant.ofEpochMilli(from), seed);
    Result r = run(seed, from, hours * 3_600_000L);
    System.out.print(r.table());
    System.out.print(r.kinds());
    System.out.printf(Locale.ROOT, "(%.1f s; an alert counts for an incident when it fires on a series the incident "
        + "touches, from its start to %d s after its end)%n", r.wallSeconds(), GRACE_MS / 1000);
    return 0;
  }

  /** The ready rules of the demo streams (the resource {@code demo/rules.json}), as JSON documents. */
  public static JsonArray readyRules() {
    try (InputStream in = DemoReport.class.getResourceAsStream("/demo/rules.json")) {
      if (in == null) {
        throw new IllegalStateException("demo/rules.json is missing from the build");
      }
      return new JsonArray(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the demo of {@code seed} from {@code fromMs} for {@code durationMs} of simulated time with the
   * server's default configuration and the ready rules.
   */
  public static Result run(long seed, long fromMs, long durationMs) {
    long wall = System.nanoTime();
    PulseConfig config = PulseConfig.of(new JsonObject().put("demo", true));
    PulseConfig.Detect detect = config.detect();
    RollupScorer scorer = new RollupScorer(s -> RollupScorer.Watch.of(config, s), detect.alertLevel(),
        detect.maxDetectors());
    Pipeline pipeline = new Pipeline(config, scorer);
    PulseConfig.Scoring sc = config.scoring();
    ShardScoring scoring = new ShardScoring(sc.streams(), sc.sample(), 10_000, seed);
    pipeline.scoring(scoring);
    long[] simulated = {fromMs};
    ModelTrainer trainer = new ModelTrainer(sc.nu(), sc.maxFeatures(), () -> simulated[0]);
    long nextTraining = fromMs + FIRST_TRAINING_MS;
    int version = 0;
    AlertEngine engine = new AlertEngine(AlertEngine.Settings.DEFAULT, "demo");
    JsonArray docs = readyRules();
    for (int i = 0; i < docs.size(); i++) {
      Rule rule = Rule.parse(StreamId.DEFAULT_TENANT, "r" + i, docs.getJsonObject(i));
      engine.putRule(rule, fromMs);
      try {
        pipeline.views().acquire(rule.stream(), rule.filter(), rule.groupBy().isEmpty() ? List.of() : rule.groupBy(),
            new ArrayList<>());
      } catch (ViewRegistry.ViewException e) {
        throw new IllegalStateException("rule " + rule.name() + ": " + e.getMessage(), e);
      }
    }
    List<DemoStream> streams = Demo.all(seed);
    long end = fromMs + durationMs;
    List<Transition> fired = new ArrayList<>();
    for (long t = fromMs; t < end; t += TICK_MS) {
      long now = t + TICK_MS;
      List<Event> batch = new ArrayList<>();
      for (DemoStream s : streams) {
        s.generate(t, now, batch::add);
      }
      pipeline.add(batch, now);
      if (now >= nextTraining) {
        simulated[0] = now;
        version++;
        for (String name : sc.streams()) {
          StreamId id = StreamId.of(name);
          List<Event> sample = scoring.sample(id).events();
          if (sample.size() >= sc.minTrain()) {
            scoring.install(trainer.train(id, sample, version));
          }
        }
        nextTraining = now + sc.retrainEveryMs();
      }
      pipeline.tick(now, r -> collect(engine.onRollup(r, now), fired));
      scoring.drainOutliers(); // the server lists them; here the rollups' counts are enough
      collect(engine.tick(now), fired);
    }
    List<Line> lines = new ArrayList<>();
    for (DemoStream s : streams) {
      lines.add(line(s.stream(), s.incidents(fromMs, end), fired, s::burstAt));
    }
    return new Result(fromMs, durationMs, lines, (System.nanoTime() - wall) / 1e9);
  }

  private static void collect(List<Transition> ts, List<Transition> fired) {
    for (Transition t : ts) {
      if (t.state() == Alert.State.FIRING && t.previous() != Alert.State.ACKNOWLEDGED) {
        fired.add(t);
      }
    }
  }

  static Line line(String stream, List<Incident> incidents, List<Transition> fired) {
    return line(stream, incidents, fired, t -> false);
  }

  /** {@link #line(String, List, List)}, with the stream's background bursts ({@link DemoStream#burstAt}). */
  static Line line(String stream, List<Incident> incidents, List<Transition> fired,
      java.util.function.LongPredicate burstAt) {
    List<Transition> mine = fired.stream().filter(t -> t.stream().equals(stream)).toList();
    List<Long> delays = new ArrayList<>();
    Map<String, int[]> byKind = new LinkedHashMap<>();
    int alerted = 0;
    for (Incident i : incidents) {
      int[] k = byKind.computeIfAbsent(i.kind(), x -> new int[2]);
      k[0]++;
      Long first = null;
      for (Transition t : mine) {
        if (covers(i, t) && (first == null || t.at() < first)) {
          first = t.at();
        }
      }
      if (first != null) {
        alerted++;
        k[1]++;
        delays.add(Math.max(0, first - i.start()));
      }
    }
    int falseAlerts = 0;
    int inBursts = 0;
    Map<String, Integer> falseByRule = new java.util.TreeMap<>();
    for (Transition t : mine) {
      if (incidents.stream().noneMatch(i -> covers(i, t))) {
        if (duringBurst(t.at(), burstAt)) {
          inBursts++;
          continue;
        }
        falseAlerts++;
        falseByRule.merge(t.ruleName(), 1, Integer::sum);
      }
    }
    return new Line(stream, incidents.size(), alerted, delays, falseAlerts, byKind, falseByRule, inBursts);
  }

  /** Whether a background burst was under way at {@code at} or ended at most {@link #GRACE_MS} before it. */
  private static boolean duringBurst(long at, java.util.function.LongPredicate burstAt) {
    for (long s = at; s >= at - GRACE_MS; s -= 1000) {
      if (burstAt.test(s)) {
        return true;
      }
    }
    return false;
  }

  /** Whether an alert that fired can be this incident's: in its time (plus grace) and on a series it touches. */
  static boolean covers(Incident i, Transition t) {
    if (t.at() < i.start() || t.at() > i.end() + GRACE_MS) {
      return false;
    }
    Dims target = i.target();
    for (int k = 0; k < target.size(); k++) {
      String v = t.series().get(target.key(k));
      if (v != null && !v.equals(target.value(k))) {
        return false;
      }
    }
    return true;
  }
}

package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.pulse.loadtests.Bench.CORES;
import static io.pulse.loadtests.Bench.awaitIdle;
import static io.pulse.loadtests.Bench.checkAlive;
import static io.pulse.loadtests.Bench.javaBin;
import static io.pulse.loadtests.Bench.maxMs;
import static io.pulse.loadtests.Bench.ms;
import static io.pulse.loadtests.Bench.nan;
import static io.pulse.loadtests.Bench.nonNegative;
import static io.pulse.loadtests.Bench.others;
import static io.pulse.loadtests.Bench.positive;
import static io.pulse.loadtests.Bench.shorten;
import static io.pulse.loadtests.Bench.sleep;
import static io.pulse.loadtests.Bench.value;

/**
 * The W1 speed benchmark: Pulse's ingest throughput against a parse-and-discard baseline, and
 * event-to-subscriber latency at half of Pulse's maximum rate. See loadtests/README.md.
 *
 * <pre>java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.W1Benchmark [--quick] [options]</pre>
 *
 * Pulse runs with storage off ({@code PULSE_STORAGE=false}) unless {@code --storage on}: W1 measures
 * ingest and the live feed, as it did before Pulse stored anything; {@link W1StorageBenchmark}
 * measures what storage costs.
 *
 * Exit code: 0 every target met, 1 a target missed, 2 the run itself went wrong (a non-202 answer,
 * a failed request, a server that did not start, a subscriber error).
 */
public final class W1Benchmark {

  static final double TARGET_RATIO = 0.50;
  static final long TARGET_P99_MS = 500;

  /** Command-line options; see {@link #usage()}. */
  static final class Options {
    double warmupS = 25;
    double maxS = 20;
    double settleS = 3;
    double pacedS = 20;
    double baselineWarmupS = 5;
    double drainS = 3.5;
    double fraction = 0.5;
    int connections = 6;
    int subscribers = 100;
    int batch = 1000;
    int templates = 32;
    boolean pulse = true;
    boolean baseline = true;
    boolean quick;
    boolean storage;
    /** Event scoring of the W1 stream (PULSE_SCORING_STREAMS=w1): its model trains during the warm-up. */
    boolean scoring;
    /** Pulse's JWT authentication: on, every request and subscriber carries a token from the jar's token command. */
    boolean auth;
    String jar = "target/pulse.jar";
    String classpath = "target/pulse.jar" + java.io.File.pathSeparator + "target/test-classes";
    String reportDir = "loadtests/reports";
    String heap = "1g";
    List<String> serverJvmArgs = new ArrayList<>();
    double readyTimeoutS = 120;
    boolean trace;

    JsonObject toJson() {
      return new JsonObject().put("warmupS", warmupS).put("maxS", maxS).put("settleS", settleS)
          .put("pacedS", pacedS).put("baselineWarmupS", baselineWarmupS).put("drainS", drainS)
          .put("paceFraction", fraction).put("connections", connections).put("subscribers", subscribers)
          .put("batchEvents", batch).put("templates", templates).put("pulse", pulse).put("baseline", baseline)
          .put("quick", quick).put("storage", storage).put("scoring", scoring).put("auth", auth).put("jar", jar).put("serverHeap", heap)
          .put("serverJvmArgs", new JsonArray(new ArrayList<>(serverJvmArgs)));
    }
  }

  static String usage() {
    return String.join("\n",
        "usage: W1Benchmark [options]",
        "  --quick                 smoke run (< 40 s): warmup 2, max 5, settle 1, paced 5, baseline warmup 1.5",
        "  --warmup S              Pulse (and first baseline) warm-up, closed loop (default 25)",
        "  --max S                 max-throughput phase, closed loop, Pulse and baseline (default 20)",
        "  --settle S              paced load before the paced measurement starts (default 3)",
        "  --paced S               paced phase (default 20)",
        "  --fraction F            paced rate as a fraction of Pulse's max (default 0.5)",
        "  --baseline-warmup S     baseline warm-up (default 5)",
        "  --drain S               wait after the paced phase for the last windows to close (default 3.5)",
        "  --connections N         HTTP keep-alive connections (default 6)",
        "  --subscribers N         WebSocket subscribers (default 100)",
        "  --batch N               events per POST (default 1000)",
        "  --skip-baseline | --skip-pulse",
        "  --storage on|off        Pulse's PostgreSQL storage (default off: PULSE_STORAGE=false, as W1 was",
        "                          measured before storage existed; w1-storage.sh measures its cost)",
        "  --scoring on|off        event scoring of stream w1 (default off; on: PULSE_SCORING_STREAMS=w1, its",
        "                          one-class SVM trains on the warm-up's events and scores every event after)",
        "  --auth on|off           Pulse's JWT authentication (default off: PULSE_AUTH=false, as W1 was measured",
        "                          before auth existed; on: PULSE_AUTH=true, a token from `pulse.jar token` on",
        "                          every ingest request and WebSocket upgrade; the baseline never checks one)",
        "  --jar PATH              Pulse fat jar (default target/pulse.jar)",
        "  --classpath CP          classpath for ParseDiscardServer (default target/pulse.jar:target/test-classes)",
        "  --heap SIZE             -Xmx of both servers (default 1g)",
        "  --server-jvm-arg ARG    extra JVM argument for the servers (repeatable), e.g. JFR",
        "  --report-dir DIR        where w1-<timestamp>.txt/.json go (default loadtests/reports)",
        "  --trace                 write the paced phase's messages of two subscribers, with receive times,",
        "                          to live-trace.tsv in the run's temporary folder (at most 20,000 lines)");
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> {
          o.quick = true;
          o.warmupS = 2;
          o.maxS = 5;
          o.settleS = 1;
          o.pacedS = 5;
          o.baselineWarmupS = 1.5;
          o.drainS = 3;
        }
        case "--warmup" -> o.warmupS = positive(a, args, ++i);
        case "--max" -> o.maxS = positive(a, args, ++i);
        case "--settle" -> o.settleS = nonNegative(a, args, ++i);
        case "--paced" -> o.pacedS = positive(a, args, ++i);
        case "--fraction" -> o.fraction = positive(a, args, ++i);
        case "--baseline-warmup" -> o.baselineWarmupS = nonNegative(a, args, ++i);
        case "--drain" -> o.drainS = nonNegative(a, args, ++i);
        case "--connections" -> o.connections = (int) positive(a, args, ++i);
        case "--subscribers" -> o.subscribers = (int) nonNegative(a, args, ++i);
        case "--batch" -> o.batch = (int) positive(a, args, ++i);
        case "--skip-baseline" -> o.baseline = false;
        case "--skip-pulse" -> o.pulse = false;
        case "--storage" -> o.storage = onOff(a, args, ++i);
        case "--scoring" -> o.scoring = onOff(a, args, ++i);
        case "--auth" -> o.auth = onOff(a, args, ++i);
        case "--jar" -> o.jar = value(a, args, ++i);
        case "--classpath" -> o.classpath = value(a, args, ++i);
        case "--heap" -> o.heap = value(a, args, ++i);
        case "--server-jvm-arg" -> o.serverJvmArgs.add(value(a, args, ++i));
        case "--report-dir" -> o.reportDir = value(a, args, ++i);
        case "--trace" -> o.trace = true;
        case "-h", "--help" -> {
          System.out.println(usage());
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
      }
    }
    if (o.fraction > 1) {
      throw new IllegalArgumentException("--fraction must be in (0, 1]");
    }
    if (o.connections > 64 || o.subscribers > 1000 || o.batch > 100_000) {
      throw new IllegalArgumentException("bounds: connections <= 64, subscribers <= 1000, batch <= 100000");
    }
    if (o.warmupS + o.maxS + o.settleS + o.pacedS + o.baselineWarmupS + o.maxS > 3600) {
      throw new IllegalArgumentException("phases add up to more than an hour");
    }
    return o;
  }

  private static boolean onOff(String name, String[] args, int i) {
    String v = value(name, args, i);
    if (!v.equals("on") && !v.equals("off")) {
      throw new IllegalArgumentException(name + " must be on or off");
    }
    return v.equals("on");
  }

  public static void main(String[] args) {
    int code;
    try {
      code = new W1Benchmark(parse(args)).run();
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      code = 64;
    } catch (Exception e) {
      System.err.println("W1 FAILED: " + e);
      e.printStackTrace();
      code = 2;
    }
    System.exit(code);
  }

  // ---------------------------------------------------------------------------------------------

  private final Options o;
  private final JsonObject json = new JsonObject();
  private Bench bench;
  private List<String> problems;
  private W1Workload workload;

  // results, filled in as the run goes
  private double othersBefore;
  private PhaseStats pulseWarmup;
  private PhaseStats pulseMax;
  private PhaseStats pulseSettle;
  private PhaseStats pulsePaced;
  private PhaseStats pulseDrain;
  private PhaseStats baseWarmup;
  private PhaseStats baseMax;
  /** The baseline's max phase run before Pulse; the ratio is against the mean of both, which cancels drift. */
  private PhaseStats baseMaxBefore;
  private double pacedTarget;
  private int pacedMaxOutstanding;
  private long pulseConnectionsOpened;
  private long baseConnectionsOpened;
  private int subsConnected;
  private int subsWithRollups;
  private int subsAcked;
  private long subsMinMessages;
  private long subsMaxMessages;
  private long subsClosedByServer;
  private List<String> subsErrors = List.of();
  private List<String> sampleMessages = List.of();
  private long totalAccepted;
  private long finalCountSum = -1;
  private int finalWindows;
  private Map<String, Double> pulseMetrics = new TreeMap<>();
  private String pulseLog;
  private String baselineLog;

  W1Benchmark(Options o) {
    this.o = o;
  }

  int run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path runDir = Files.createTempDirectory("pulse-w1-");
    System.out.println("[w1] W1 benchmark " + stamp + " — " + CORES + " cores, Java " + System.getProperty("java.version")
        + "; server logs under " + runDir);
    workload = new W1Workload(o.batch, o.templates, 42);
    // how busy the machine is without us: other processes skew every figure below
    othersBefore = Bench.otherLoadBefore("w1");
    try (Bench b = new Bench("w1")) {
      bench = b;
      problems = b.problems;
      try {
        if (o.baseline && o.pulse) {
          // the baseline brackets Pulse (before and after), so drift of the machine during the run
          // moves both sides of the ratio alike; the first one warms up as long as Pulse does
          baseMaxBefore = runBaseline(runDir, o.warmupS, "baseline-before.log");
        }
        if (o.pulse) {
          runPulse(runDir);
        }
        if (o.baseline) {
          baseMax = runBaseline(runDir, o.baselineWarmupS, "baseline.log");
        }
      } catch (Exception e) {
        problems.add("run aborted: " + e.getMessage());
        System.err.println("W1: run aborted: " + e);
      }
    }
    Bench.deleteTree(runDir.resolve("data"));
    return report(stamp);
  }

  private void runPulse(Path runDir) throws Exception {
    Path data = Files.createDirectories(runDir.resolve("data"));
    pulseLog = runDir.resolve("pulse.log").toString();
    Bench.PulseCommand pc = new Bench.PulseCommand(o.jar, o.heap, o.serverJvmArgs, o.readyTimeoutS);
    // minted before Pulse starts, on its data folder, so that Pulse verifies with the key the command made
    String token = o.auth ? bench.mintToken(o.jar, data, "default", "ingest,read", "6h") : null;
    try (ChildServer pulse = bench.startPulse("Pulse", pc, data, Map.of("PULSE_STORAGE", String.valueOf(o.storage),
        "PULSE_SCORING_STREAMS", o.scoring ? W1Workload.STREAM : "", "PULSE_AUTH", String.valueOf(o.auth)),
        runDir.resolve("pulse.log"))) {
      if (o.storage) {
        pulse.watchDatabase(data.resolve("pg").resolve("postmaster.pid"));
      }
      int port = pulse.port;
      Context ingestCtx = bench.newContext();
      Context subsCtx = bench.newContext();
      try (Sampler sampler = new Sampler(port);
           LiveSubscribers subs = new LiveSubscribers(bench.vertx, subsCtx, port, o.subscribers, token);
           IngestDriver driver = new IngestDriver(bench.vertx, ingestCtx, port, o.connections, workload, token)) {
        if (o.subscribers > 0) {
          subs.connectAll().await(30, TimeUnit.SECONDS);
        }
        subsConnected = subs.connected();
        bench.say(subsConnected + " WebSocket subscribers connected and subscribed");

        pulseWarmup = new PhaseStats("pulse warm-up");
        bench.begin(pulseWarmup, pulse, sampler, driver, subs);
        driver.startClosedLoop();
        sleep(o.warmupS);
        pulseMax = new PhaseStats("pulse max");
        bench.end(pulseWarmup, pulse, sampler);
        bench.begin(pulseMax, pulse, sampler, driver, subs);
        bench.progress(pulseWarmup);
        sleep(o.maxS);
        bench.end(pulseMax, pulse, sampler);
        pulseSettle = new PhaseStats("pulse settle");
        bench.begin(pulseSettle, pulse, sampler, driver, subs);
        driver.stopClosedLoop();
        awaitIdle(driver);
        bench.progress(pulseMax);
        checkAlive(pulse);

        pacedTarget = o.fraction * pulseMax.eventsPerSecond();
        if (pacedTarget < o.batch) {
          problems.add(String.format(Locale.ROOT, "Pulse's max rate (%.0f events/s) is too low to pace at %.0f%%",
              pulseMax.eventsPerSecond(), o.fraction * 100));
        } else {
          bench.say(String.format(Locale.ROOT, "pacing at %.0f events/s (%.0f%% of max)", pacedTarget, o.fraction * 100));
          driver.startPaced(pacedTarget);
          pacedMaxOutstanding = driver.maxOutstanding();
          sleep(o.settleS);
          pulsePaced = new PhaseStats("pulse paced");
          bench.end(pulseSettle, pulse, sampler);
          bench.begin(pulsePaced, pulse, sampler, driver, subs);
          subs.tracing = o.trace;
          sleep(o.pacedS);
          subs.tracing = false;
          pulseDrain = new PhaseStats("pulse drain");
          bench.end(pulsePaced, pulse, sampler);
          bench.begin(pulseDrain, pulse, sampler, driver, subs);
          driver.stopPaced();
          awaitIdle(driver);
          bench.progress(pulsePaced);
        }
        if (pulseDrain == null) {
          pulseDrain = pulseSettle;
        }
        // let the last windows close so their "final" rollups arrive
        sleep(o.drainS);
        bench.end(pulseDrain, pulse, sampler);
        driver.record(null);
        subs.record(null);
        sampler.record(null);
        checkAlive(pulse);

        pulseConnectionsOpened = driver.connectionsOpened.get();
        if (o.trace) {
          Path tr = runDir.resolve("live-trace.tsv");
          Files.write(tr, subs.trace, StandardCharsets.UTF_8);
          bench.say("live trace: " + tr + " (" + subs.trace.size() + " messages)");
        }
        collectSubscribers(subs);
        collectPulseMetrics(sampler);
        if (sampler.lastError != null) {
          problems.add("sampling Pulse's /metrics: " + sampler.lastError);
        }
      }
      if (!problems.isEmpty()) {
        bench.say("Pulse log tail (" + pulse.log + "):\n" + pulse.tail(15));
      }
    }
  }

  /** One baseline server: warm-up, then the max phase, whose figures it returns. */
  private PhaseStats runBaseline(Path runDir, double warmupS, String logName) throws Exception {
    PhaseStats max;
    int port = ChildServer.freePort();
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + o.heap));
    cmd.addAll(o.serverJvmArgs);
    cmd.addAll(List.of("-cp", o.classpath, ParseDiscardServer.class.getName(), String.valueOf(port)));
    bench.say("starting baseline: " + String.join(" ", cmd).replace(o.classpath, shorten(o.classpath)) + " on 127.0.0.1:" + port);
    baselineLog = runDir.resolve(logName).toString();
    try (ChildServer base = ChildServer.start("baseline", cmd, Map.of(), port, runDir.resolve(logName))) {
      base.awaitReady("/health/ready", Duration.ofSeconds(60));
      Context ingestCtx = bench.newContext();
      try (Sampler sampler = new Sampler(null);
           IngestDriver driver = new IngestDriver(bench.vertx, ingestCtx, port, o.connections, workload)) {
        baseWarmup = new PhaseStats("baseline warm-up");
        bench.begin(baseWarmup, base, sampler, driver, null);
        driver.startClosedLoop();
        sleep(warmupS);
        max = new PhaseStats("baseline max");
        bench.end(baseWarmup, base, sampler);
        bench.begin(max, base, sampler, driver, null);
        sleep(o.maxS);
        bench.end(max, base, sampler);
        driver.record(null);
        driver.stopClosedLoop();
        awaitIdle(driver);
        bench.progress(max);
        baseConnectionsOpened = driver.connectionsOpened.get();
        checkAlive(base);
      }
    }
    return max;
  }

  private void collectSubscribers(LiveSubscribers subs) {
    subsClosedByServer = subs.closedByServer.sum();
    subsWithRollups = 0;
    subsMinMessages = Long.MAX_VALUE;
    subsMaxMessages = 0;
    for (LiveSubscribers.Sub s : subs.subs()) {
      if (s.rollups.get() > 0) {
        subsWithRollups++;
      }
      subsMinMessages = Math.min(subsMinMessages, s.messages.get());
      subsMaxMessages = Math.max(subsMaxMessages, s.messages.get());
    }
    if (subs.subs().isEmpty()) {
      subsMinMessages = 0;
    }
    subsErrors = new ArrayList<>(subs.errorMessages);
    sampleMessages = new ArrayList<>();
    new TreeMap<>(subs.firstMessages).forEach((k, v) -> sampleMessages.add(k + ": " + v));
    subsAcked = (int) subs.subs().stream().filter(x -> x.acked.get()).count();
    totalAccepted = Stream.of(pulseWarmup, pulseMax, pulseSettle, pulsePaced)
        .filter(s -> s != null).mapToLong(s -> s.accepted.sum()).sum()
        + (pulseDrain != null && pulseDrain != pulseSettle ? pulseDrain.accepted.sum() : 0);
    if (!subs.totalFinalCounts.isEmpty()) {
      finalCountSum = subs.totalFinalCounts.values().stream().mapToLong(Long::longValue).sum();
      finalWindows = subs.totalFinalCounts.size();
    }
    if (subs.errorCount.get() > 0) {
      problems.add(subs.errorCount.get() + " error message(s) or anomalies on the live feed");
    }
    if (subsConnected < o.subscribers) {
      problems.add("only " + subsConnected + " of " + o.subscribers + " subscribers connected");
    }
  }

  private void collectPulseMetrics(Sampler sampler) {
    pulseMetrics = Bench.pulseMetrics(sampler.lastScrape());
  }

  // ---------------------------------------------------------------------------------------------
  // report

  private int report(String stamp) throws IOException {
    line("W1 benchmark — Pulse ingest and live feed vs a parse-and-discard baseline");
    line("run " + stamp + ", " + CORES + " cores, Java " + System.getProperty("java.version")
        + ", generator + servers + subscribers on one machine");
    line(String.format(Locale.ROOT,
        "workload: stream w1, %d series (region 10 x store 100), NDJSON batches of %,d events, %.0f B/event, %.1f kB/body",
        W1Workload.SERIES, o.batch, workload.meanBodyBytes() / o.batch, workload.meanBodyBytes() / 1024));
    line(String.format(Locale.ROOT,
        "load: %d keep-alive HTTP/1.1 connections, %d WebSocket subscribers (half groupBy region, half stream total)%s",
        o.connections, o.subscribers, o.quick ? ", QUICK smoke run (short phases: figures are rough)" : ""));
    line(String.format(Locale.ROOT, "other processes' CPU in the 2 s before the run: %.0f%% of the machine", othersBefore * 100));
    line(o.storage ? "Pulse storage: on (PULSE_STORAGE=true, embedded PostgreSQL in the run's data folder)"
        : "Pulse storage: off (PULSE_STORAGE=false, as W1 was measured before storage existed; see w1-storage.sh)");
    line(o.scoring ? "Pulse event scoring: on for stream w1 (PULSE_SCORING_STREAMS=w1; its model trains in the warm-up)"
        : "Pulse event scoring: off (--scoring on scores every event of w1)");
    line(o.auth ? "Pulse authentication: on (PULSE_AUTH=true; every ingest request and WebSocket upgrade carries a JWT "
        + "from `pulse.jar token`)" : "Pulse authentication: off (PULSE_AUTH=false, as W1 was measured before auth; --auth on)");
    line(String.format(Locale.ROOT, "phases: %sPulse warm-up %.0f s, max %.0f s, settle %.0f s, paced %.0f s at %.0f%% "
        + "of max; baseline warm-up %.0f s, max %.0f s", o.baseline && o.pulse ? String.format(Locale.ROOT,
        "baseline warm-up %.0f s, max %.0f s; ", o.warmupS, o.maxS) : "", o.warmupS, o.maxS, o.settleS, o.pacedS,
        o.fraction * 100, o.baselineWarmupS, o.maxS));
    json.put("run", new JsonObject().put("stamp", stamp).put("cores", CORES)
        .put("java", System.getProperty("java.version")).put("options", o.toJson())
        .put("otherLoadBeforeStart", nan(othersBefore)).put("jarModified", Bench.jarModified(o.jar)).put("meanBodyBytes", workload.meanBodyBytes()).put("pulseLog", pulseLog).put("baselineLog", baselineLog));

    if (pulseMax != null) {
      line("");
      line(String.format(Locale.ROOT, "Pulse — max throughput (closed loop, %d connections, %.1f s)", o.connections,
          pulseMax.seconds()));
      bench.ingestLines(pulseMax);
      bench.serverLines(pulseMax, true);
      line(String.format(Locale.ROOT, "  live feed (info)      %,d running + %,d final rollups; running latency p50 %s, p99 %s, max %s",
          pulseMax.rollupsLive.sum(), pulseMax.rollupsFinal.sum(), ms(pulseMax.liveLatencyMs, 50),
          ms(pulseMax.liveLatencyMs, 99), maxMs(pulseMax.liveLatencyMs)));
      json.put("pulseMax", bench.phaseJson(pulseMax, true));
    }
    if (pulsePaced != null) {
      line("");
      line(String.format(Locale.ROOT, "Pulse — paced at %.0f%% of max = %,.0f events/s (open loop, %.1f s, after %.0f s settle)",
          o.fraction * 100, pacedTarget, pulsePaced.seconds(), o.settleS));
      line(String.format(Locale.ROOT, "  achieved              %,.0f events/s; batches scheduled %,d, skipped (over %,d outstanding) %,d%s",
          pulsePaced.eventsPerSecond(), pulsePaced.batchesScheduled.sum(), pacedMaxOutstanding,
          pulsePaced.batchesSkipped.sum(), pulsePaced.batchesSkipped.sum() > 0 ? "  <- Pulse fell behind the pace" : ""));
      Histogram h = pulsePaced.liveLatencyMs;
      line(String.format(Locale.ROOT,
          "  event→subscriber      p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (receive − latest, running rollups, n=%,d)",
          ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), maxMs(h), h.getTotalCount()));
      Histogram f = pulsePaced.finalLatencyMs;
      line(String.format(Locale.ROOT, "  final rollups (info)  p50 %s  p99 %s  max %s  (receive − latest, n=%,d)",
          ms(f, 50), ms(f, 99), maxMs(f), f.getTotalCount()));
      line(String.format(Locale.ROOT, "  messages              running %,d, final %,d, other %s; without latest %,d",
          pulsePaced.rollupsLive.sum(), pulsePaced.rollupsFinal.sum(), others(pulsePaced),
          pulsePaced.rollupsWithoutLatest.sum()));
      bench.ingestLines(pulsePaced);
      bench.serverLines(pulsePaced, true);
      json.put("pulsePaced", bench.phaseJson(pulsePaced, true).put("targetEventsPerSecond", pacedTarget));
    }
    if (baseMaxBefore != null) {
      line("");
      line(String.format(Locale.ROOT, "Baseline ParseDiscardServer, before Pulse — max throughput (closed loop, %d "
          + "connections, %.1f s, after a %.0f s warm-up)", o.connections, baseMaxBefore.seconds(), o.warmupS));
      bench.ingestLines(baseMaxBefore);
      bench.serverLines(baseMaxBefore, false);
      json.put("baselineMaxBefore", bench.phaseJson(baseMaxBefore, false));
    }
    if (baseMax != null) {
      line("");
      line(String.format(Locale.ROOT, "Baseline ParseDiscardServer%s — max throughput (closed loop, %d connections, %.1f s)",
          baseMaxBefore != null ? ", after Pulse" : "", o.connections, baseMax.seconds()));
      bench.ingestLines(baseMax);
      bench.serverLines(baseMax, false);
      json.put("baselineMax", bench.phaseJson(baseMax, false));
    }

    // checks
    line("");
    line("Checks");
    JsonObject checks = bench.ingestChecks(pulseWarmup, pulseMax, pulseSettle, pulsePaced, pulseDrain, baseWarmup,
        baseMax);
    if (o.pulse) {
      line(String.format(Locale.ROOT, "  HTTP connections opened: Pulse %d, baseline %d (pool of %d; more means keep-alive broke)",
          pulseConnectionsOpened, baseConnectionsOpened, o.connections));
      line(String.format(Locale.ROOT,
          "  subscribers: %d/%d connected, %d acknowledged (\"subscribed\"), %d with rollups, messages per subscriber %,d..%,d, closed by server %d, errors %d",
          subsConnected, o.subscribers, subsAcked, subsWithRollups, subsMinMessages, subsMaxMessages, subsClosedByServer,
          subsErrors.size()));
      for (String e : subsErrors) {
        line("    " + e);
      }
      if (finalCountSum >= 0) {
        line(String.format(Locale.ROOT,
            "  stream-total \"final\" counts: %,d events over %d windows, of %,d accepted (%.2f%%)%s", finalCountSum,
            finalWindows, totalAccepted, 100.0 * finalCountSum / Math.max(1, totalAccepted),
            finalCountSum == totalAccepted ? "  OK" : "  (differs: see README)"));
      } else if (o.subscribers > 0) {
        line("  stream-total \"final\" counts: none received");
      }
      Double counted = pulseMetrics.get("pulse_events_accepted_total{stream=\"w1\",tenant=\"default\"}");
      if (counted != null) {
        line(String.format(Locale.ROOT, "  Pulse's pulse_events_accepted_total{stream=w1}: %,.0f, generator's sum of accepted: %,d%s",
            counted, totalAccepted, counted.longValue() == totalAccepted ? "  OK" : "  (differs)"));
      }
      for (String m : sampleMessages) {
        line("  first " + m);
      }
      json.put("checks", checks.put("pulseConnectionsOpened", pulseConnectionsOpened)
          .put("baselineConnectionsOpened", baseConnectionsOpened).put("subscribersConnected", subsConnected)
          .put("subscribersAcknowledged", subsAcked).put("subscribersWithRollups", subsWithRollups).put("messagesPerSubscriberMin", subsMinMessages)
          .put("messagesPerSubscriberMax", subsMaxMessages).put("closedByServer", subsClosedByServer)
          .put("liveErrors", new JsonArray(subsErrors)).put("finalCountSum", finalCountSum)
          .put("finalWindows", finalWindows).put("totalAccepted", totalAccepted)
          .put("sampleMessages", new JsonArray(sampleMessages)));
      JsonObject pm = new JsonObject();
      pulseMetrics.forEach(pm::put);
      json.put("pulseMetricsAtEnd", pm);
    }

    // targets
    line("");
    line("Targets");
    boolean miss = false;
    JsonObject targets = new JsonObject();
    if (pulseMax != null && baseMax != null && baseMax.eventsPerSecond() > 0) {
      double base = baseMax.eventsPerSecond();
      String of = "baseline";
      if (baseMaxBefore != null && baseMaxBefore.eventsPerSecond() > 0) {
        base = (baseMaxBefore.eventsPerSecond() + baseMax.eventsPerSecond()) / 2;
        of = String.format(Locale.ROOT, "baseline (mean of %,.0f before and %,.0f after Pulse)",
            baseMaxBefore.eventsPerSecond(), baseMax.eventsPerSecond());
      }
      double ratio = pulseMax.eventsPerSecond() / base;
      boolean pass = ratio >= TARGET_RATIO;
      miss |= !pass;
      line(String.format(Locale.ROOT, "  Pulse ingest >= %.0f%% of %s: %,.0f / %,.0f events/s = %.1f%%  %s",
          TARGET_RATIO * 100, of, pulseMax.eventsPerSecond(), base, ratio * 100, pass ? "PASS" : "MISS"));
      if (baseMaxBefore != null && baseMaxBefore.eventsPerSecond() > 0) {
        double drift = Math.abs(baseMaxBefore.eventsPerSecond() - baseMax.eventsPerSecond()) / base;
        if (drift > 0.10) {
          line(String.format(Locale.ROOT, "    WARNING: the two baseline runs differ by %.1f%%: the machine drifted "
              + "during the run, so the ratio is rough", drift * 100));
        }
      }
      targets.put("ratio", new JsonObject().put("value", ratio).put("target", TARGET_RATIO).put("pass", pass)
          .put("baselineEventsPerSecond", base));
    } else {
      line("  Pulse ingest vs baseline: not measured");
    }
    if (pulsePaced != null && pulsePaced.liveLatencyMs.getTotalCount() > 0) {
      long p99 = pulsePaced.liveLatencyMs.getValueAtPercentile(99);
      boolean pass = p99 <= TARGET_P99_MS;
      miss |= !pass;
      line(String.format(Locale.ROOT, "  event->subscriber p99 <= %d ms at %.0f%% of Pulse's max: %d ms  %s", TARGET_P99_MS,
          o.fraction * 100, p99, pass ? "PASS" : "MISS"));
      targets.put("p99", new JsonObject().put("valueMs", p99).put("targetMs", TARGET_P99_MS).put("pass", pass));
    } else if (o.pulse) {
      line("  event->subscriber p99: not measured (no rollups received in the paced phase)");
      if (o.subscribers > 0) {
        problems.add("no latency measured in the paced phase");
      }
    }
    json.put("targets", targets);
    return bench.finish("w1", stamp, o.reportDir, json, targets, miss);
  }

  private void line(String s) {
    bench.line(s);
  }
}

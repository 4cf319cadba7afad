package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The W1 speed benchmark: Pulse's ingest throughput against a parse-and-discard baseline, and
 * event-to-subscriber latency at half of Pulse's maximum rate. See loadtests/README.md.
 *
 * <pre>java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.W1Benchmark [--quick] [options]</pre>
 *
 * Exit code: 0 every target met, 1 a target missed, 2 the run itself went wrong (a non-202 answer,
 * a failed request, a server that did not start, a subscriber error).
 */
public final class W1Benchmark {

  static final double TARGET_RATIO = 0.50;
  static final long TARGET_P99_MS = 500;
  static final int CORES = Runtime.getRuntime().availableProcessors();

  /** Command-line options; see {@link #usage()}. */
  static final class Options {
    double warmupS = 10;
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
          .put("quick", quick).put("jar", jar).put("serverHeap", heap)
          .put("serverJvmArgs", new JsonArray(new ArrayList<>(serverJvmArgs)));
    }
  }

  static String usage() {
    return String.join("\n",
        "usage: W1Benchmark [options]",
        "  --quick                 smoke run (< 40 s): warmup 2, max 5, settle 1, paced 5, baseline warmup 1.5",
        "  --warmup S              Pulse warm-up, closed loop (default 10)",
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

  private static String value(String name, String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }

  private static double positive(String name, String[] args, int i) {
    double v = Double.parseDouble(value(name, args, i));
    if (!(v > 0)) {
      throw new IllegalArgumentException(name + " must be > 0");
    }
    return v;
  }

  private static double nonNegative(String name, String[] args, int i) {
    double v = Double.parseDouble(value(name, args, i));
    if (!(v >= 0)) {
      throw new IllegalArgumentException(name + " must be >= 0");
    }
    return v;
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
  private final List<String> problems = new ArrayList<>();
  /** Phases where something besides the server and the generator used much of the machine. */
  private final List<String> noisy = new ArrayList<>();
  private final JsonObject json = new JsonObject();
  private final StringBuilder text = new StringBuilder();
  private Vertx vertx;
  private W1Workload workload;

  // results, filled in as the run goes
  private PhaseStats idleCheck;
  private double othersBefore;
  private PhaseStats pulseWarmup;
  private PhaseStats pulseMax;
  private PhaseStats pulseSettle;
  private PhaseStats pulsePaced;
  private PhaseStats pulseDrain;
  private PhaseStats baseWarmup;
  private PhaseStats baseMax;
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
    say("W1 benchmark " + stamp + " — " + CORES + " cores, Java " + System.getProperty("java.version")
        + "; server logs under " + runDir);
    workload = new W1Workload(o.batch, o.templates, 42);
    // how busy the machine is without us: other processes skew every figure below
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    idleCheck = new PhaseStats("before start");
    idleCheck.startNanos = System.nanoTime();
    idleCheck.genCpuStartNanos = os.getProcessCpuTime();
    idleCheck.machineStart = PhaseStats.machineJiffies();
    Thread.sleep(2000);
    idleCheck.machineEnd = PhaseStats.machineJiffies();
    idleCheck.endNanos = System.nanoTime();
    idleCheck.genCpuEndNanos = os.getProcessCpuTime();
    othersBefore = idleCheck.machineBusyShare() - idleCheck.genCpuShare(CORES);
    if (othersBefore > 0.10) {
      say(String.format(Locale.ROOT, "WARNING: other processes keep the machine %.0f%% busy before the run; figures will be suspect",
          othersBefore * 100));
    }
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(3));
    try {
      if (o.pulse) {
        runPulse(runDir);
      }
      if (o.baseline) {
        runBaseline(runDir);
      }
    } catch (Exception e) {
      problems.add("run aborted: " + e.getMessage());
      System.err.println("W1: run aborted: " + e);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    deleteTree(runDir.resolve("data"));
    return report(stamp);
  }

  private void runPulse(Path runDir) throws Exception {
    Path data = Files.createDirectories(runDir.resolve("data"));
    int port = ChildServer.freePort();
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + o.heap));
    cmd.addAll(o.serverJvmArgs);
    cmd.addAll(List.of("-jar", o.jar));
    Map<String, String> env = Map.of("PULSE_HTTP_PORT", String.valueOf(port), "PULSE_HTTP_HOST", "127.0.0.1",
        "PULSE_DEMO", "false", "PULSE_DATA_DIR", data.toString());
    say("starting Pulse: " + String.join(" ", cmd) + " on 127.0.0.1:" + port);
    pulseLog = runDir.resolve("pulse.log").toString();
    try (ChildServer pulse = ChildServer.start("pulse", cmd, env, port, runDir.resolve("pulse.log"))) {
      long t0 = System.nanoTime();
      pulse.awaitReady("/health/ready", Duration.ofMillis((long) (o.readyTimeoutS * 1000)));
      say(String.format(Locale.ROOT, "Pulse ready in %.1f s (pid %d)", (System.nanoTime() - t0) / 1e9, pulse.pid()));

      Context ingestCtx = newContext();
      Context subsCtx = newContext();
      try (Sampler sampler = new Sampler(port);
           LiveSubscribers subs = new LiveSubscribers(vertx, subsCtx, port, o.subscribers);
           IngestDriver driver = new IngestDriver(vertx, ingestCtx, port, o.connections, workload)) {
        if (o.subscribers > 0) {
          subs.connectAll().await(30, TimeUnit.SECONDS);
        }
        subsConnected = subs.connected();
        say(subsConnected + " WebSocket subscribers connected and subscribed");

        pulseWarmup = new PhaseStats("pulse warm-up");
        begin(pulseWarmup, pulse, sampler, driver, subs);
        driver.startClosedLoop();
        sleep(o.warmupS);
        pulseMax = new PhaseStats("pulse max");
        end(pulseWarmup, pulse, sampler);
        begin(pulseMax, pulse, sampler, driver, subs);
        progress(pulseWarmup);
        sleep(o.maxS);
        end(pulseMax, pulse, sampler);
        pulseSettle = new PhaseStats("pulse settle");
        begin(pulseSettle, pulse, sampler, driver, subs);
        driver.stopClosedLoop();
        awaitIdle(driver);
        progress(pulseMax);
        checkAlive(pulse);

        pacedTarget = o.fraction * pulseMax.eventsPerSecond();
        if (pacedTarget < o.batch) {
          problems.add(String.format(Locale.ROOT, "Pulse's max rate (%.0f events/s) is too low to pace at %.0f%%",
              pulseMax.eventsPerSecond(), o.fraction * 100));
        } else {
          say(String.format(Locale.ROOT, "pacing at %.0f events/s (%.0f%% of max)", pacedTarget, o.fraction * 100));
          driver.startPaced(pacedTarget);
          pacedMaxOutstanding = driver.maxOutstanding();
          sleep(o.settleS);
          pulsePaced = new PhaseStats("pulse paced");
          end(pulseSettle, pulse, sampler);
          begin(pulsePaced, pulse, sampler, driver, subs);
          subs.tracing = o.trace;
          sleep(o.pacedS);
          subs.tracing = false;
          pulseDrain = new PhaseStats("pulse drain");
          end(pulsePaced, pulse, sampler);
          begin(pulseDrain, pulse, sampler, driver, subs);
          driver.stopPaced();
          awaitIdle(driver);
          progress(pulsePaced);
        }
        if (pulseDrain == null) {
          pulseDrain = pulseSettle;
        }
        // let the last windows close so their "final" rollups arrive
        sleep(o.drainS);
        end(pulseDrain, pulse, sampler);
        driver.record(null);
        subs.record(null);
        sampler.record(null);
        checkAlive(pulse);

        pulseConnectionsOpened = driver.connectionsOpened.get();
        if (o.trace) {
          Path tr = runDir.resolve("live-trace.tsv");
          Files.write(tr, subs.trace, StandardCharsets.UTF_8);
          say("live trace: " + tr + " (" + subs.trace.size() + " messages)");
        }
        collectSubscribers(subs);
        collectPulseMetrics(sampler);
        if (sampler.lastError != null) {
          problems.add("sampling Pulse's /metrics: " + sampler.lastError);
        }
      }
      if (!problems.isEmpty()) {
        say("Pulse log tail (" + pulse.log + "):\n" + pulse.tail(15));
      }
    }
  }

  private void runBaseline(Path runDir) throws Exception {
    int port = ChildServer.freePort();
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + o.heap));
    cmd.addAll(o.serverJvmArgs);
    cmd.addAll(List.of("-cp", o.classpath, ParseDiscardServer.class.getName(), String.valueOf(port)));
    say("starting baseline: " + String.join(" ", cmd).replace(o.classpath, shorten(o.classpath)) + " on 127.0.0.1:" + port);
    baselineLog = runDir.resolve("baseline.log").toString();
    try (ChildServer base = ChildServer.start("baseline", cmd, Map.of(), port, runDir.resolve("baseline.log"))) {
      base.awaitReady("/health/ready", Duration.ofSeconds(60));
      Context ingestCtx = newContext();
      try (Sampler sampler = new Sampler(null);
           IngestDriver driver = new IngestDriver(vertx, ingestCtx, port, o.connections, workload)) {
        baseWarmup = new PhaseStats("baseline warm-up");
        begin(baseWarmup, base, sampler, driver, null);
        driver.startClosedLoop();
        sleep(o.baselineWarmupS);
        baseMax = new PhaseStats("baseline max");
        end(baseWarmup, base, sampler);
        begin(baseMax, base, sampler, driver, null);
        sleep(o.maxS);
        end(baseMax, base, sampler);
        driver.record(null);
        driver.stopClosedLoop();
        awaitIdle(driver);
        progress(baseMax);
        baseConnectionsOpened = driver.connectionsOpened.get();
        checkAlive(base);
      }
    }
  }

  private void begin(PhaseStats s, ChildServer server, Sampler sampler, IngestDriver driver, LiveSubscribers subs) {
    s.startNanos = System.nanoTime();
    s.serverCpuStartNanos = server.cpuNanos();
    s.genCpuStartNanos = sampler.generatorCpuNanos();
    s.machineStart = PhaseStats.machineJiffies();
    driver.record(s);
    if (subs != null) {
      subs.record(s);
    }
    sampler.record(s);
  }

  private void end(PhaseStats s, ChildServer server, Sampler sampler) {
    s.endNanos = System.nanoTime();
    s.serverCpuEndNanos = server.cpuNanos();
    s.genCpuEndNanos = sampler.generatorCpuNanos();
    s.machineEnd = PhaseStats.machineJiffies();
  }

  private void progress(PhaseStats s) {
    say(String.format(Locale.ROOT, "  %-16s %8.1f s  %,10.0f events/s  %,6d requests  non-202 %d  failures %d",
        s.name, s.seconds(), s.eventsPerSecond(), s.requests.sum(), s.non202.sum(), s.failures.sum()));
  }

  private void checkAlive(ChildServer server) throws IOException {
    if (!server.alive()) {
      throw new IOException(server.name + " died during the run; log " + server.log + ":\n" + server.tail(30));
    }
  }

  private static void awaitIdle(IngestDriver driver) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (driver.outstanding() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private Context newContext() throws java.util.concurrent.TimeoutException {
    Promise<Context> p = Promise.promise();
    vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        p.complete(context);
        return Future.succeededFuture();
      }
    }).await(10, TimeUnit.SECONDS);
    return p.future().await(10, TimeUnit.SECONDS);
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
    String scrape = sampler.lastScrape();
    if (scrape == null) {
      return;
    }
    // Pulse's own counters (pulse_*), and the Vert.x/HTTP ones worth a glance; labels kept
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      if (line.contains("_bucket{")) {
        continue;
      }
      if (line.startsWith("pulse_") || line.startsWith("process_cpu_usage") || line.startsWith("system_cpu_usage")
          || line.startsWith("jvm_gc_pause_seconds_sum") || line.startsWith("jvm_gc_pause_seconds_count")
          || line.startsWith("jvm_threads_live_threads")) {
        int cut = line.lastIndexOf('}') >= 0 ? line.lastIndexOf('}') + 1 : line.indexOf(' ');
        try {
          pulseMetrics.put(line.substring(0, cut).trim(), Sampler.value(line));
        } catch (RuntimeException e) {
          // not a sample line we understand; skip it
        }
        if (pulseMetrics.size() >= 200) {
          break;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // report

  private int report(String stamp) throws IOException {
    text.setLength(0);
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
    line(String.format(Locale.ROOT, "phases: Pulse warm-up %.0f s, max %.0f s, settle %.0f s, paced %.0f s at %.0f%% of max; "
        + "baseline warm-up %.0f s, max %.0f s", o.warmupS, o.maxS, o.settleS, o.pacedS, o.fraction * 100,
        o.baselineWarmupS, o.maxS));
    json.put("run", new JsonObject().put("stamp", stamp).put("cores", CORES)
        .put("java", System.getProperty("java.version")).put("options", o.toJson())
        .put("otherLoadBeforeStart", nan(othersBefore)).put("jarModified", jarModified()).put("meanBodyBytes", workload.meanBodyBytes()).put("pulseLog", pulseLog).put("baselineLog", baselineLog));

    if (pulseMax != null) {
      line("");
      line(String.format(Locale.ROOT, "Pulse — max throughput (closed loop, %d connections, %.1f s)", o.connections,
          pulseMax.seconds()));
      ingestLines(pulseMax);
      serverLines(pulseMax, true);
      line(String.format(Locale.ROOT, "  live feed (info)      %,d running + %,d final rollups; running latency p50 %s, p99 %s, max %s",
          pulseMax.rollupsLive.sum(), pulseMax.rollupsFinal.sum(), ms(pulseMax.liveLatencyMs, 50),
          ms(pulseMax.liveLatencyMs, 99), maxMs(pulseMax.liveLatencyMs)));
      json.put("pulseMax", phaseJson(pulseMax, true));
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
      ingestLines(pulsePaced);
      serverLines(pulsePaced, true);
      json.put("pulsePaced", phaseJson(pulsePaced, true).put("targetEventsPerSecond", pacedTarget));
    }
    if (baseMax != null) {
      line("");
      line(String.format(Locale.ROOT, "Baseline ParseDiscardServer — max throughput (closed loop, %d connections, %.1f s)",
          o.connections, baseMax.seconds()));
      ingestLines(baseMax);
      serverLines(baseMax, false);
      json.put("baselineMax", phaseJson(baseMax, false));
    }

    // checks
    line("");
    line("Checks");
    long non202 = 0;
    long failures = 0;
    long rejected = 0;
    List<String> errs = new ArrayList<>();
    for (PhaseStats s : new PhaseStats[] {pulseWarmup, pulseMax, pulseSettle, pulsePaced, pulseDrain, baseWarmup, baseMax}) {
      if (s == null || (s == pulseDrain && s == pulseSettle)) {
        continue;
      }
      non202 += s.non202.sum();
      failures += s.failures.sum();
      rejected += s.rejected.sum();
      for (String e : s.errorSamples) {
        if (errs.size() < 10) {
          errs.add(s.name + ": " + e);
        }
      }
    }
    if (non202 > 0) {
      problems.add(non202 + " non-202 answer(s)");
    }
    if (failures > 0) {
      problems.add(failures + " failed request(s)");
    }
    if (rejected > 0) {
      problems.add(rejected + " rejected event(s)");
    }
    line(String.format(Locale.ROOT, "  non-202 answers %,d, failed requests %,d, rejected events %,d%s", non202, failures,
        rejected, non202 + failures + rejected == 0 ? "  OK" : "  FAIL"));
    for (String e : errs) {
      line("    " + e);
    }
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
      Double counted = pulseMetrics.get("pulse_events_accepted_total{stream=\"w1\"}");
      if (counted != null) {
        line(String.format(Locale.ROOT, "  Pulse's pulse_events_accepted_total{stream=w1}: %,.0f, generator's sum of accepted: %,d%s",
            counted, totalAccepted, counted.longValue() == totalAccepted ? "  OK" : "  (differs)"));
      }
      for (String m : sampleMessages) {
        line("  first " + m);
      }
      json.put("checks", new JsonObject().put("non202", non202).put("failures", failures).put("rejected", rejected)
          .put("errors", new JsonArray(errs)).put("pulseConnectionsOpened", pulseConnectionsOpened)
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
      double ratio = pulseMax.eventsPerSecond() / baseMax.eventsPerSecond();
      boolean pass = ratio >= TARGET_RATIO;
      miss |= !pass;
      line(String.format(Locale.ROOT, "  Pulse ingest >= %.0f%% of baseline: %,.0f / %,.0f events/s = %.1f%%  %s",
          TARGET_RATIO * 100, pulseMax.eventsPerSecond(), baseMax.eventsPerSecond(), ratio * 100, pass ? "PASS" : "MISS"));
      targets.put("ratio", new JsonObject().put("value", ratio).put("target", TARGET_RATIO).put("pass", pass));
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
    if (!noisy.isEmpty()) {
      line("  WARNING: other load on the machine during " + String.join(", ", noisy) + "; rerun on a quiet machine");
      targets.put("noisyPhases", new JsonArray(new ArrayList<>(noisy)));
    }
    int code = !problems.isEmpty() ? 2 : miss ? 1 : 0;
    line("");
    if (!problems.isEmpty()) {
      line("RESULT: RUN FAILED — " + String.join("; ", problems));
    } else {
      line("RESULT: " + (miss ? "MISS (a target was not met)" : "PASS")
          + (noisy.isEmpty() ? "" : " — but other load shared the machine, so the figures are suspect"));
    }
    json.put("problems", new JsonArray(new ArrayList<>(problems))).put("exitCode", code);

    Path dir = Paths.get(o.reportDir);
    Files.createDirectories(dir);
    Path txt = dir.resolve("w1-" + stamp + ".txt");
    Path js = dir.resolve("w1-" + stamp + ".json");
    Files.writeString(txt, text.toString(), StandardCharsets.UTF_8);
    Files.writeString(js, json.encodePrettily() + "\n", StandardCharsets.UTF_8);
    System.out.println();
    System.out.print(text);
    System.out.println("report: " + txt + " and " + js);
    return code;
  }

  private void ingestLines(PhaseStats s) {
    line(String.format(Locale.ROOT, "  events/s accepted     %,.0f  (%,.1f MB/s of NDJSON, %,.1f requests/s)",
        s.eventsPerSecond(), s.bytesSent.sum() / s.seconds() / 1e6, s.requests.sum() / s.seconds()));
    Histogram r = s.httpRttMicros;
    line(String.format(Locale.ROOT, "  POST round trip       p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%,d)",
        r.getValueAtPercentile(50) / 1000.0, r.getValueAtPercentile(99) / 1000.0, r.getMaxValue() / 1000.0,
        r.getTotalCount()));
  }

  private void serverLines(PhaseStats s, boolean metrics) {
    double share = s.serverCpuShare(CORES);
    String usage = metrics ? String.format(Locale.ROOT, "; process_cpu_usage mean %.2f", PhaseStats.mean(s.serverCpuUsage)) : "";
    line(String.format(Locale.ROOT, "  server CPU            %.2f cores = %.0f%% of %d%s", share * CORES, share * 100, CORES, usage));
    if (metrics) {
      line(String.format(Locale.ROOT, "  server heap used max  %.0f MB (sum of jvm_memory_used_bytes{area=heap}, sampled 1/s)",
          PhaseStats.max(s.serverHeapBytes) / 1e6));
    }
    double gen = s.genCpuShare(CORES);
    line(String.format(Locale.ROOT, "  generator CPU         %.2f cores = %.0f%% of %d; OS-bean process load mean %.2f",
        gen * CORES, gen * 100, CORES, PhaseStats.mean(s.genCpuLoad)));
    double machine = s.machineBusyShare();
    if (!Double.isNaN(machine)) {
      double irq = s.machineIrqShare();
      double rest = machine - irq - share - gen;
      line(String.format(Locale.ROOT,
          "  machine busy          %.0f%% of %d cores: irq/softirq (loopback TCP) %.0f%%, everything else %.0f%%%s",
          machine * 100, CORES, irq * 100, rest * 100,
          rest > 0.10 ? "  <- another process used the CPU: figures are suspect" : ""));
      if (rest > 0.10) {
        noisy.add(s.name);
      }
    }
  }

  private JsonObject phaseJson(PhaseStats s, boolean pulse) {
    JsonObject j = new JsonObject().put("seconds", s.seconds()).put("eventsPerSecond", s.eventsPerSecond())
        .put("requests", s.requests.sum()).put("accepted", s.accepted.sum()).put("rejected", s.rejected.sum())
        .put("non202", s.non202.sum()).put("failures", s.failures.sum()).put("bytesSent", s.bytesSent.sum())
        .put("batchesScheduled", s.batchesScheduled.sum()).put("batchesSkipped", s.batchesSkipped.sum())
        .put("httpRttMs", hist(s.httpRttMicros, 1000.0))
        .put("serverCpuShare", nan(s.serverCpuShare(CORES))).put("generatorCpuShare", nan(s.genCpuShare(CORES)))
        .put("generatorCpuLoadMean", nan(PhaseStats.mean(s.genCpuLoad)))
        .put("machineBusyShare", nan(s.machineBusyShare())).put("machineIrqShare", nan(s.machineIrqShare()));
    if (pulse) {
      j.put("processCpuUsageMean", nan(PhaseStats.mean(s.serverCpuUsage)))
          .put("heapUsedMaxBytes", nan(PhaseStats.max(s.serverHeapBytes)))
          .put("liveLatencyMs", hist(s.liveLatencyMs, 1)).put("finalLatencyMs", hist(s.finalLatencyMs, 1))
          .put("rollupsRunning", s.rollupsLive.sum()).put("rollupsFinal", s.rollupsFinal.sum())
          .put("rollupsWithoutLatest", s.rollupsWithoutLatest.sum()).put("negativeLatencies", s.negativeLatencies.sum())
          .put("otherMessages", new JsonObject(new LinkedHashMap<>(counts(s))));
    }
    return j;
  }

  private static Map<String, Object> counts(PhaseStats s) {
    Map<String, Object> m = new TreeMap<>();
    s.otherMessages.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  private static String others(PhaseStats s) {
    return s.otherMessages.isEmpty() ? "none" : counts(s).toString();
  }

  private static JsonObject hist(Histogram h, double div) {
    JsonObject j = new JsonObject().put("count", h.getTotalCount());
    if (h.getTotalCount() > 0) {
      j.put("p50", h.getValueAtPercentile(50) / div).put("p90", h.getValueAtPercentile(90) / div)
          .put("p99", h.getValueAtPercentile(99) / div).put("p999", h.getValueAtPercentile(99.9) / div)
          .put("max", h.getMaxValue() / div).put("mean", h.getMean() / div);
    }
    return j;
  }

  private static Object nan(double d) {
    return Double.isNaN(d) ? null : d;
  }

  private static String ms(Histogram h, double pct) {
    return h.getTotalCount() == 0 ? "-" : h.getValueAtPercentile(pct) + " ms";
  }

  private static String maxMs(Histogram h) {
    return h.getTotalCount() == 0 ? "-" : h.getMaxValue() + " ms";
  }

  private void line(String s) {
    text.append(s).append('\n');
  }

  private static void say(String s) {
    System.out.println("[w1] " + s);
  }

  private static void sleep(double seconds) throws InterruptedException {
    Thread.sleep((long) (seconds * 1000));
  }

  private String jarModified() {
    try {
      return Files.getLastModifiedTime(Paths.get(o.jar)).toString();
    } catch (IOException e) {
      return null;
    }
  }

  private static String shorten(String s) {
    return s.length() <= 80 ? s : s.substring(0, 60) + "...(" + s.length() + " chars)";
  }

  private static String javaBin() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("W1: could not delete " + root + ": " + e);
    }
  }
}

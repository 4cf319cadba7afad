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
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the benchmarks share: the driver's Vert.x, starting Pulse as a child process, phase
 * bookkeeping ({@link #begin}/{@link #end}), the problems and noisy phases found on the way, and the
 * report's common lines, result and files. {@link W1Benchmark} and {@link W1StorageBenchmark} hold
 * their own phases and targets.
 */
final class Bench implements AutoCloseable {

  static final int CORES = Runtime.getRuntime().availableProcessors();

  private final String tag;
  final Vertx vertx;
  /** Anything that makes the run itself invalid (exit code 2). */
  final List<String> problems = new ArrayList<>();
  /** Phases where something besides the servers and the generator used much of the machine. */
  final List<String> noisy = new ArrayList<>();
  private final StringBuilder text = new StringBuilder();

  Bench(String tag) {
    this.tag = tag;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(3));
  }

  @Override
  public void close() throws java.util.concurrent.TimeoutException {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** How busy other processes keep the machine, measured over 2 s before anything starts (share of all cores). */
  static double otherLoadBefore(String tag) throws InterruptedException {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    PhaseStats idle = new PhaseStats("before start");
    idle.startNanos = System.nanoTime();
    idle.genCpuStartNanos = os.getProcessCpuTime();
    idle.machineStart = PhaseStats.machineJiffies();
    Thread.sleep(2000);
    idle.machineEnd = PhaseStats.machineJiffies();
    idle.endNanos = System.nanoTime();
    idle.genCpuEndNanos = os.getProcessCpuTime();
    double others = idle.machineBusyShare() - idle.genCpuShare(CORES);
    if (others > 0.10) {
      System.out.println(String.format(Locale.ROOT,
          "[%s] WARNING: other processes keep the machine %.0f%% busy before the run; figures will be suspect",
          tag, others * 100));
    }
    return others;
  }

  // ---------------------------------------------------------------------------------------------
  // servers and phases

  /** How to start Pulse: the jar, -Xmx and extra JVM arguments. */
  record PulseCommand(String jar, String heap, List<String> jvmArgs, double readyTimeoutS) {
  }

  /**
   * Starts Pulse on a free loopback port with demo off, its data in {@code data} and {@code env} on
   * top ({@code PULSE_STORAGE} and the like), its output in {@code log}; returns once
   * {@code /health/ready} answers 200.
   */
  ChildServer startPulse(String name, PulseCommand pc, Path data, Map<String, String> env, Path log)
      throws IOException, InterruptedException {
    int port = ChildServer.freePort();
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + pc.heap()));
    cmd.addAll(pc.jvmArgs());
    cmd.addAll(List.of("-jar", pc.jar()));
    Map<String, String> all = new LinkedHashMap<>(Map.of("PULSE_HTTP_PORT", String.valueOf(port),
        "PULSE_HTTP_HOST", "127.0.0.1", "PULSE_DEMO", "false", "PULSE_DATA_DIR", data.toString()));
    all.putAll(env);
    say("starting " + name + ": " + String.join(" ", cmd) + " on 127.0.0.1:" + port + (env.isEmpty() ? "" : " with " + env));
    ChildServer pulse = ChildServer.start(name, cmd, all, port, log);
    try {
      long t0 = System.nanoTime();
      pulse.awaitReady("/health/ready", Duration.ofMillis((long) (pc.readyTimeoutS() * 1000)));
      say(String.format(Locale.ROOT, "%s ready in %.1f s (pid %d)", name, (System.nanoTime() - t0) / 1e9, pulse.pid()));
      return pulse;
    } catch (IOException | InterruptedException | RuntimeException e) {
      pulse.close();
      throw e;
    }
  }

  /**
   * A token for Pulse with its data in {@code data}, from the jar's {@code token} command run
   * before Pulse starts: the command makes the signing key under {@code data} on first use, and
   * Pulse started on the same folder verifies with it. Returns the JWT the command prints.
   */
  String mintToken(String jar, Path data, String tenant, String scopes, String ttl)
      throws IOException, InterruptedException {
    List<String> cmd = List.of(javaBin(), "-jar", jar, "token", "--tenant", tenant, "--scopes", scopes, "--ttl", ttl);
    say("minting a token: " + String.join(" ", cmd) + " with PULSE_DATA_DIR=" + data);
    Path log = data.resolveSibling("token-command.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PULSE_DATA_DIR", data.toString());
    pb.environment().put("PULSE_AUTH", "true");
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("the token command did not finish in 60 s; its output: " + log);
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    // the command prints the JWT alone on a line (header.payload.signature); anything else is a complaint
    String token = out.lines().map(String::strip).filter(l -> l.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"))
        .reduce((a, b) -> b).orElse(null);
    if (p.exitValue() != 0 || token == null) {
      throw new IOException("the token command failed (exit " + p.exitValue() + "): " + out.strip());
    }
    return token;
  }

  /** An event-loop context of the driver's Vert.x, for a load generator or the subscribers. */
  Context newContext() throws java.util.concurrent.TimeoutException {
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

  /** Starts a phase: its clocks, and where the driver, subscribers and sampler record from now on. */
  void begin(PhaseStats s, ChildServer server, Sampler sampler, IngestDriver driver, LiveSubscribers subs) {
    s.startNanos = System.nanoTime();
    s.serverCpuStartNanos = server.cpuNanos();
    s.dbCpuStartNanos = server.databaseCpuNanos();
    s.genCpuStartNanos = sampler.generatorCpuNanos();
    s.machineStart = PhaseStats.machineJiffies();
    driver.record(s);
    if (subs != null) {
      subs.record(s);
    }
    sampler.record(s);
  }

  void end(PhaseStats s, ChildServer server, Sampler sampler) {
    s.endNanos = System.nanoTime();
    s.serverCpuEndNanos = server.cpuNanos();
    s.dbCpuEndNanos = server.databaseCpuNanos();
    s.genCpuEndNanos = sampler.generatorCpuNanos();
    s.machineEnd = PhaseStats.machineJiffies();
  }

  void progress(PhaseStats s) {
    say(String.format(Locale.ROOT, "  %-16s %8.1f s  %,10.0f events/s  %,6d requests  non-202 %d  failures %d",
        s.name, s.seconds(), s.eventsPerSecond(), s.requests.sum(), s.non202.sum(), s.failures.sum()));
  }

  static void checkAlive(ChildServer server) throws IOException {
    if (!server.alive()) {
      throw new IOException(server.name + " died during the run; log " + server.log + ":\n" + server.tail(30));
    }
  }

  /** Waits (up to 30 s) until every request the driver sent has been answered. */
  static void awaitIdle(IngestDriver driver) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (driver.outstanding() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  /** Pulse's own counters (pulse_*) and a few JVM ones worth a glance, labels kept, from one /metrics scrape. */
  static Map<String, Double> pulseMetrics(String scrape) {
    Map<String, Double> out = new TreeMap<>();
    if (scrape == null) {
      return out;
    }
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#") || line.isBlank() || line.contains("_bucket{")) {
        continue;
      }
      if (line.startsWith("pulse_") || line.startsWith("process_cpu_usage") || line.startsWith("system_cpu_usage")
          || line.startsWith("jvm_gc_pause_seconds_sum") || line.startsWith("jvm_gc_pause_seconds_count")
          || line.startsWith("jvm_threads_live_threads")) {
        int cut = line.lastIndexOf('}') >= 0 ? line.lastIndexOf('}') + 1 : line.indexOf(' ');
        try {
          out.put(line.substring(0, cut).trim(), Sampler.value(line));
        } catch (RuntimeException e) {
          // not a sample line we understand; skip it
        }
        if (out.size() >= 200) {
          break;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // report

  void line(String s) {
    text.append(s).append('\n');
  }

  void ingestLines(PhaseStats s) {
    line(String.format(Locale.ROOT, "  events/s accepted     %,.0f  (%,.1f MB/s of NDJSON, %,.1f requests/s)",
        s.eventsPerSecond(), s.bytesSent.sum() / s.seconds() / 1e6, s.requests.sum() / s.seconds()));
    Histogram r = s.httpRttMicros;
    line(String.format(Locale.ROOT, "  POST round trip       p50 %.1f ms  p99 %.1f ms  max %.1f ms  (n=%,d)",
        r.getValueAtPercentile(50) / 1000.0, r.getValueAtPercentile(99) / 1000.0, r.getMaxValue() / 1000.0,
        r.getTotalCount()));
  }

  /** CPU lines of a phase; {@code metrics}: the server had a /metrics to sample. Flags the phase if others used the CPU. */
  void serverLines(PhaseStats s, boolean metrics) {
    double share = s.serverCpuShare(CORES);
    String usage = metrics ? String.format(Locale.ROOT, "; process_cpu_usage mean %.2f", PhaseStats.mean(s.serverCpuUsage)) : "";
    line(String.format(Locale.ROOT, "  server CPU            %.2f cores = %.0f%% of %d%s", share * CORES, share * 100, CORES, usage));
    double db = s.dbCpuShare(CORES);
    if (!Double.isNaN(db)) {
      line(String.format(Locale.ROOT, "  PostgreSQL CPU        %.2f cores = %.0f%% of %d (the embedded server's processes)",
          db * CORES, db * 100, CORES));
    }
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
      double rest = machine - irq - share - gen - (Double.isNaN(db) ? 0 : db);
      line(String.format(Locale.ROOT,
          "  machine busy          %.0f%% of %d cores: irq/softirq (loopback TCP) %.0f%%, everything else %.0f%%%s",
          machine * 100, CORES, irq * 100, rest * 100,
          rest > 0.10 ? "  <- another process used the CPU: figures are suspect" : ""));
      if (rest > 0.10) {
        noisy.add(s.name);
      }
    }
  }

  JsonObject phaseJson(PhaseStats s, boolean pulse) {
    JsonObject j = new JsonObject().put("seconds", s.seconds()).put("eventsPerSecond", s.eventsPerSecond())
        .put("requests", s.requests.sum()).put("accepted", s.accepted.sum()).put("rejected", s.rejected.sum())
        .put("non202", s.non202.sum()).put("failures", s.failures.sum()).put("bytesSent", s.bytesSent.sum())
        .put("batchesScheduled", s.batchesScheduled.sum()).put("batchesSkipped", s.batchesSkipped.sum())
        .put("httpRttMs", hist(s.httpRttMicros, 1000.0))
        .put("serverCpuShare", nan(s.serverCpuShare(CORES))).put("generatorCpuShare", nan(s.genCpuShare(CORES)))
        .put("generatorCpuLoadMean", nan(PhaseStats.mean(s.genCpuLoad)))
        .put("machineBusyShare", nan(s.machineBusyShare())).put("machineIrqShare", nan(s.machineIrqShare()));
    if (!Double.isNaN(s.dbCpuShare(CORES))) {
      j.put("postgresCpuShare", s.dbCpuShare(CORES));
    }
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

  /**
   * The "non-202 answers, failed requests, rejected events" check over the phases given (each
   * counted once, nulls skipped): one report line, up to 10 error samples, problems added.
   */
  JsonObject ingestChecks(PhaseStats... phases) {
    Set<PhaseStats> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    long non202 = 0;
    long authRefused = 0;
    long failures = 0;
    long rejected = 0;
    List<String> errs = new ArrayList<>();
    for (PhaseStats s : phases) {
      if (s == null || !seen.add(s)) {
        continue;
      }
      non202 += s.non202.sum();
      authRefused += s.authRefused.sum();
      failures += s.failures.sum();
      rejected += s.rejected.sum();
      for (String e : s.errorSamples) {
        if (errs.size() < 10) {
          errs.add(s.name + ": " + e);
        }
      }
    }
    if (authRefused > 0) {
      problems.add("AUTHENTICATION REFUSED: " + authRefused + " answer(s) 401/403 (see the samples under Checks)");
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
    line(String.format(Locale.ROOT, "  non-202 answers %,d (401/403 %,d), failed requests %,d, rejected events %,d%s", non202,
        authRefused, failures, rejected, non202 + failures + rejected == 0 ? "  OK" : "  FAIL"));
    for (String e : errs) {
      line("    " + e);
    }
    return new JsonObject().put("non202", non202).put("authRefused", authRefused).put("failures", failures).put("rejected", rejected)
        .put("errors", new JsonArray(errs));
  }

  /**
   * Ends the report: the noisy-machine warning, the RESULT line; writes {@code <name>-<stamp>.txt}
   * and {@code .json} to {@code reportDir}, prints the text. Returns the exit code: 2 on any
   * problem, 1 when a target was missed, else 0.
   */
  int finish(String name, String stamp, String reportDir, JsonObject json, JsonObject targets, boolean miss)
      throws IOException {
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

    Path dir = Paths.get(reportDir);
    Files.createDirectories(dir);
    Path txt = dir.resolve(name + "-" + stamp + ".txt");
    Path js = dir.resolve(name + "-" + stamp + ".json");
    Files.writeString(txt, text.toString(), StandardCharsets.UTF_8);
    Files.writeString(js, json.encodePrettily() + "\n", StandardCharsets.UTF_8);
    System.out.println();
    System.out.print(text);
    System.out.println("report: " + txt + " and " + js);
    return code;
  }

  static Map<String, Object> counts(PhaseStats s) {
    Map<String, Object> m = new TreeMap<>();
    s.otherMessages.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  static String others(PhaseStats s) {
    return s.otherMessages.isEmpty() ? "none" : counts(s).toString();
  }

  static JsonObject hist(Histogram h, double div) {
    JsonObject j = new JsonObject().put("count", h.getTotalCount());
    if (h.getTotalCount() > 0) {
      j.put("p50", h.getValueAtPercentile(50) / div).put("p90", h.getValueAtPercentile(90) / div)
          .put("p99", h.getValueAtPercentile(99) / div).put("p999", h.getValueAtPercentile(99.9) / div)
          .put("max", h.getMaxValue() / div).put("mean", h.getMean() / div);
    }
    return j;
  }

  static Object nan(double d) {
    return Double.isNaN(d) ? null : d;
  }

  static String ms(Histogram h, double pct) {
    return h.getTotalCount() == 0 ? "-" : h.getValueAtPercentile(pct) + " ms";
  }

  static String maxMs(Histogram h) {
    return h.getTotalCount() == 0 ? "-" : h.getMaxValue() + " ms";
  }

  // ---------------------------------------------------------------------------------------------
  // small things

  /** The value of option {@code name} at {@code args[i]}. */
  static String value(String name, String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }

  static double positive(String name, String[] args, int i) {
    double v = Double.parseDouble(value(name, args, i));
    if (!(v > 0)) {
      throw new IllegalArgumentException(name + " must be > 0");
    }
    return v;
  }

  static double nonNegative(String name, String[] args, int i) {
    double v = Double.parseDouble(value(name, args, i));
    if (!(v >= 0)) {
      throw new IllegalArgumentException(name + " must be >= 0");
    }
    return v;
  }

  void say(String s) {
    System.out.println("[" + tag + "] " + s);
  }

  static void sleep(double seconds) throws InterruptedException {
    Thread.sleep((long) (seconds * 1000));
  }

  static String javaBin() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  static String shorten(String s) {
    return s.length() <= 80 ? s : s.substring(0, 60) + "...(" + s.length() + " chars)";
  }

  static String jarModified(String jar) {
    try {
      return Files.getLastModifiedTime(Paths.get(jar)).toString();
    } catch (IOException e) {
      return null;
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e);
    }
  }
}

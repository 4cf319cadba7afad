package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.HdrHistogram.Histogram;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Many viewers on one node (issue 15): 1 viewer, 1,000 and 10,000 concurrent live subscribers
 * (WebSocket and SSE, stream totals, filters and group-bys: {@link ViewersClients#VIEWS}) on one
 * Pulse under W1 load at a steady rate. Pulse runs as a child JVM (storage off, JMX on loopback,
 * a JFR recording); the viewers run in a second child JVM ({@link ViewersClients}); this JVM sends
 * the W1 load ({@link IngestDriver}) and measures.
 *
 * <p>Phases: warm-up with one viewer; then {@code --rounds} times "1 viewer" and "1,000 viewers"
 * alternating (each after a warm-up), so the CPU of the two is compared in the same run, several
 * times; then "10,000 viewers". Each phase: event-to-viewer latency (receive time - the rollup's
 * {@code latest}, running rollups), server process CPU, its Java threads' CPU (JMX ThreadMXBean),
 * and where the server's samples went (JFR execution samples by the first Pulse frame: aggregation,
 * per-view live work, per-subscriber sending, ingest). Heap after full GCs (JMX, median of 5) with 1,
 * 1,000 and 10,000 viewers gives the heap per viewer.
 *
 * <pre>loadtests/viewers.sh [--quick] [--rate 20000] [--viewers 1000] [--many 10000] [--rounds 2]</pre>
 * Exit code 0 when the targets are met (p99 &lt;= 250 ms at 1,000 viewers; heap per viewer &lt;= 20 KB),
 * 1 when one is missed, 2 when the run went wrong, 64 on bad options.
 */
public final class ViewersBenchmark {

  static final double P99_TARGET_MS = 250;
  static final double HEAP_TARGET_BYTES = 20 * 1024;

  private double rate = 20_000;
  private int viewers = 1_000;
  private int many = 10_000;
  private int rounds = 2;
  private double warmup = 30;
  private double phaseWarmup = 10;
  private double measure = 20;
  private int connections = 4;
  private String jar = "target/pulse.jar";
  private String serverHeap = "1g";
  private String clientHeap = "1g";
  private String reportDir = "loadtests/reports";
  private boolean quick;

  /** One measured phase. */
  static final class Phase {
    final String name;
    final int viewers;
    final PhaseStats stats;
    long startMs;
    long endMs;
    JsonObject clients;
    Map<String, Long> threadCpu = new LinkedHashMap<>();
    Map<String, Long> jfr = new TreeMap<>();
    long jfrSamples;
    Histogram running;
    /** pulse_live_* counters over the phase: coalesced running updates, dropped messages, slow closes. */
    Map<String, Double> live = new TreeMap<>();
    /** The machine's 1-minute load average at the phase's end (runnable threads; 2 = both cores busy). */
    String loadAvg = "?";
    /** The wall time the thread snapshots span (a little more than the phase: JMX answers slowly on a busy machine). */
    long threadWallNanos;

    Phase(String name, int viewers) {
      this.name = name;
      this.viewers = viewers;
      this.stats = new PhaseStats(name);
    }

    double seconds() {
      return stats.seconds();
    }

    double cores() {
      return stats.serverCpuShare(Bench.CORES) * Bench.CORES;
    }
  }

  public static void main(String[] args) throws Exception {
    ViewersBenchmark b = new ViewersBenchmark();
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--quick" -> {
            b.quick = true;
            b.rounds = 1;
            b.warmup = 5;
            b.phaseWarmup = 3;
            b.measure = 6;
            b.many = 2_000;
          }
          case "--rate" -> b.rate = Bench.positive("--rate", args, ++i);
          case "--viewers" -> b.viewers = (int) Bench.positive("--viewers", args, ++i);
          case "--many" -> b.many = (int) Bench.nonNegative("--many", args, ++i);
          case "--rounds" -> b.rounds = (int) Bench.positive("--rounds", args, ++i);
          case "--warmup" -> b.warmup = Bench.nonNegative("--warmup", args, ++i);
          case "--phase-warmup" -> b.phaseWarmup = Bench.nonNegative("--phase-warmup", args, ++i);
          case "--measure" -> b.measure = Bench.positive("--measure", args, ++i);
          case "--connections" -> b.connections = (int) Bench.positive("--connections", args, ++i);
          case "--jar" -> b.jar = Bench.value("--jar", args, ++i);
          case "--server-heap" -> b.serverHeap = Bench.value("--server-heap", args, ++i);
          case "--client-heap" -> b.clientHeap = Bench.value("--client-heap", args, ++i);
          case "--report-dir" -> b.reportDir = Bench.value("--report-dir", args, ++i);
          case "--help" -> {
            usage();
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (b.many != 0 && b.many <= b.viewers) {
        throw new IllegalArgumentException("--many must be more than --viewers (or 0 to skip that phase)");
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      usage();
      System.exit(64);
    }
    System.exit(b.run());
  }

  private static void usage() {
    System.err.println("usage: loadtests/viewers.sh [--quick] [--rate EVENTS/S] [--viewers N] [--many N|0] [--rounds R]\n"
        + "  [--warmup S] [--phase-warmup S] [--measure S] [--connections N] [--server-heap 1g] [--client-heap 1g]\n"
        + "  [--jar target/pulse.jar] [--report-dir loadtests/reports]");
  }

  // ---------------------------------------------------------------------------------------------

  private final List<Phase> phases = new ArrayList<>();
  /** A heap reading: with how many viewers, when ("before", "after 1000"), bytes. */
  record HeapReading(int viewers, String when, long bytes) {
  }

  private final List<HeapReading> heap = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  /** Answers outside the measured phases (warm-ups, connecting, heap readings): only checked. */
  private final PhaseStats between = new PhaseStats("warm-ups");
  private Map<String, String> serverEnv;
  private String serverArgs;

  int run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path runDir = Files.createTempDirectory("pulse-viewers-");
    System.out.println("[viewers] many viewers " + stamp + " — " + Bench.CORES + " cores; logs under " + runDir);
    double others = Bench.otherLoadBefore("viewers");
    int max = Math.max(viewers, many);
    Bench bench = new Bench("viewers");
    Path jfrFile = runDir.resolve("pulse.jfr");
    try (bench) {
      int jmxPort = ChildServer.freePort();
      List<String> jvm = List.of("-Dcom.sun.management.jmxremote.port=" + jmxPort,
          "-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort, "-Dcom.sun.management.jmxremote.host=127.0.0.1",
          "-Djava.rmi.server.hostname=127.0.0.1", "-Dcom.sun.management.jmxremote.authenticate=false",
          "-Dcom.sun.management.jmxremote.ssl=false",
          "-XX:StartFlightRecording=name=viewers,settings=default,disk=true,maxage=2h");
      serverArgs = "-Xmx" + serverHeap + " " + String.join(" ", jvm.subList(jvm.size() - 1, jvm.size()))
          + " (and JMX on 127.0.0.1)";
      // the limits that would refuse thousands of live connections from one address, set explicitly
      serverEnv = new LinkedHashMap<>();
      serverEnv.put("PULSE_STORAGE", "false");
      serverEnv.put("PULSE_HTTP_MAX_CONNECTIONS", String.valueOf(max + 1_000));
      serverEnv.put("PULSE_LIMIT_LIVE_CONNECTIONS_PER_TOKEN", "0");
      serverEnv.put("PULSE_LIMIT_QUERY_PER_ADDRESS", "0");
      serverEnv.put("PULSE_LIMIT_QUERY_PER_TOKEN", "0");
      Bench.PulseCommand pc = new Bench.PulseCommand(jar, serverHeap, jvm, 120);
      Path data = Files.createDirectories(runDir.resolve("data"));
      try (ChildServer pulse = bench.startPulse("Pulse", pc, data, serverEnv, runDir.resolve("pulse.log"));
           ServerProbe probe = ServerProbe.connect(jmxPort);
           Clients clients = Clients.start(pulse.port, max, clientHeap, runDir.resolve("clients.log"));
           Sampler sampler = new Sampler(pulse.port)) {
        Context ingestCtx = bench.newContext();
        W1Workload workload = new W1Workload(1000, 64, 42);
        try (IngestDriver driver = new IngestDriver(bench.vertx, ingestCtx, pulse.port, connections, workload)) {
          bench.say("viewer 0 (one WebSocket, a subscription to each of the " + ViewersClients.VIEWS.size()
              + " views): " + clients.cmd("add 1"));
          bench.begin(between, pulse, sampler, driver, null); // the warm-ups' answers are checked with the phases
          driver.startPaced(rate);
          bench.say(String.format(Locale.ROOT, "W1 load paced at %,.0f events/s; warm-up %.0f s", rate, warmup));
          Bench.sleep(warmup);
          for (int r = 1; r <= rounds; r++) {
            String tag = rounds > 1 ? " #" + r : "";
            measure(bench, pulse, sampler, driver, probe, clients, new Phase("1 viewer" + tag, 1));
            if (r == rounds) {
              heap(bench, driver, probe, 1, "before");
            }
            bench.say("connecting " + (viewers - 1) + " viewers: " + clients.cmd("add " + viewers));
            Bench.sleep(phaseWarmup);
            measure(bench, pulse, sampler, driver, probe, clients, new Phase(String.format(Locale.ROOT, "%,d viewers%s",
                viewers, tag), viewers));
            if (r == rounds) {
              heap(bench, driver, probe, viewers, "");
            }
            bench.say("back to 1 viewer: " + clients.cmd("trim 1"));
            if (r == rounds) {
              heap(bench, driver, probe, 1, "after " + viewers);
            } else {
              Bench.sleep(phaseWarmup);
            }
          }
          if (many > 0) {
            bench.say("connecting " + (many - 1) + " viewers: " + clients.cmd("add " + many));
            Bench.sleep(phaseWarmup * 1.5);
            measure(bench, pulse, sampler, driver, probe, clients, new Phase(String.format(Locale.ROOT, "%,d viewers",
                many), many));
            heap(bench, driver, probe, many, "");
            bench.say("back to 1 viewer: " + clients.cmd("trim 1"));
            heap(bench, driver, probe, 1, "after " + many);
          }
          driver.stopPaced();
          Bench.awaitIdle(driver);
          driver.record(null);
          Bench.checkAlive(pulse);
          dumpJfr(bench, pulse, jfrFile);
        }
      }
    } catch (Exception e) {
      e.printStackTrace();
      bench.problems.add("run aborted: " + e);
    }
    try {
      if (Files.exists(jfrFile)) {
        classify(jfrFile);
      }
    } catch (Exception e) {
      warnings.add("JFR recording could not be read: " + e);
    }
    return report(bench, stamp, others);
  }

  private void measure(Bench bench, ChildServer pulse, Sampler sampler, IngestDriver driver, ServerProbe probe,
      Clients clients, Phase p) throws Exception {
    Bench.checkAlive(pulse);
    clients.cmd("record");
    long threadsFrom = System.nanoTime();
    Map<Long, Object[]> t0 = probe.threads();
    Map<String, Double> m0 = liveCounters(pulse.port);
    p.startMs = System.currentTimeMillis();
    bench.begin(p.stats, pulse, sampler, driver, null);
    Bench.sleep(measure);
    bench.end(p.stats, pulse, sampler);
    driver.record(between); // answers after the phase's end do not count in it, but are checked
    sampler.record(null);
    p.endMs = System.currentTimeMillis();
    p.loadAvg = loadAverage();
    Map<Long, Object[]> t1 = probe.threads();
    p.threadWallNanos = System.nanoTime() - threadsFrom;
    Map<String, Double> m1 = liveCounters(pulse.port);
    m1.forEach((k, v) -> p.live.put(k, v - m0.getOrDefault(k, 0.0)));
    p.clients = new JsonObject(clients.cmd("stats"));
    p.running = ViewersClients.decode(p.clients.getString("runningHist"));
    p.threadCpu = ServerProbe.byGroup(t0, t1);
    phases.add(p);
    JsonObject lat = p.clients.getJsonObject("running");
    bench.say(String.format(Locale.ROOT, "  %-18s %,8.0f events/s  server %.2f cores  viewers open %d  %,.0f msgs/s  p50 %s p99 %s ms",
        p.name, p.stats.eventsPerSecond(), p.cores(), p.clients.getInteger("open"),
        p.clients.getLong("messages") / p.clients.getDouble("seconds"), lat.getValue("p50"), lat.getValue("p99")));
  }

  /**
   * Heap used after full GCs with {@code n} viewers connected (median of 5), read while the load
   * pauses: request bodies in flight and messages in the sockets' queues are not what a viewer
   * holds. The load stops, its answers come, 2 s pass (the flush ticks send what waited), then the
   * readings; the load starts again after them.
   */
  private long heap(Bench bench, IngestDriver driver, ServerProbe probe, int n, String when) throws Exception {
    driver.stopPaced();
    Bench.awaitIdle(driver);
    Bench.sleep(2);
    long h = probe.heapAfterGc();
    driver.startPaced(rate);
    heap.add(new HeapReading(n, when, h));
    bench.say(String.format(Locale.ROOT, "  heap after GC with %,d viewer(s)%s, load paused: %,.1f MB", n,
        when.isEmpty() ? "" : " (" + when + ")", h / 1e6));
    return h;
  }

  /** The first field of /proc/loadavg, or "?". */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  /** Pulse's pulse_live_* counters (coalesced, dropped, slow closes), from /metrics. */
  private static Map<String, Double> liveCounters(int port) {
    Map<String, Double> out = new TreeMap<>();
    try {
      java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
      String text = c.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(java.time.Duration.ofSeconds(20)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      Bench.pulseMetrics(text).forEach((k, v) -> {
        if (k.startsWith("pulse_live_coalesced") || k.startsWith("pulse_live_dropped") || k.startsWith("pulse_live_slow")) {
          int brace = k.indexOf('{');
          out.merge(brace < 0 ? k : k.substring(0, brace), v, Double::sum);
        }
      });
    } catch (Exception e) {
      out.put("(unreadable)", 0.0);
    }
    return out;
  }

  private void dumpJfr(Bench bench, ChildServer pulse, Path file) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Process p = new ProcessBuilder(jcmd, String.valueOf(pulse.pid()), "JFR.dump", "name=viewers", "filename=" + file)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.exists(file)) {
      warnings.add("JFR.dump failed: " + out.strip());
    } else {
      bench.say("JFR recording: " + file + " (" + Files.size(file) / 1024 + " kB)");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // where the server's time went: JFR execution samples by the first Pulse frame

  static final String AGG = "aggregate, combine, detect";
  static final String VIEW = "live, per view (sequence, encode once)";
  static final String SEND = "live, per subscriber (fan-out, frame, write)";
  static final String INGEST = "ingest (HTTP POST, parse, validate)";
  static final String OTHER = "other Pulse code";
  static final String NONE = "no Pulse frame (Netty/Vert.x I/O, JDK)";
  static final List<String> CATEGORIES = List.of(AGG, VIEW, SEND, INGEST, OTHER, NONE);

  static String category(RecordedStackTrace st) {
    if (st == null) {
      return NONE;
    }
    for (RecordedFrame f : st.getFrames()) {
      if (f.getMethod() == null || f.getMethod().getType() == null) {
        continue;
      }
      String cls = f.getMethod().getType().getName();
      if (!cls.startsWith("io.pulse.")) {
        continue;
      }
      int dot = cls.lastIndexOf('.');
      String pkg = cls.substring(0, dot);
      String simple = cls.substring(dot + 1);
      int dollar = simple.indexOf('$');
      String top = dollar < 0 ? simple : simple.substring(0, dollar);
      String method = f.getMethod().getName();
      switch (top) {
        case "LiveHub", "LiveConnection", "WsConnection", "SseConnection", "Outbox", "LiveId", "LiveSubscription" -> {
          return SEND;
        }
        case "LiveJson" -> {
          return "withSub".equals(method) || "quote".equals(method) ? SEND : VIEW;
        }
        case "LiveVerticle", "Sequencer", "ResumeLog" -> {
          return VIEW;
        }
        case "AggregateVerticle", "CombineVerticle", "AlertVerticle", "ScoringVerticle" -> {
          return AGG;
        }
        case "IngestApi", "IngestJob" -> {
          return INGEST;
        }
        default -> {
          // by package
        }
      }
      if (pkg.equals("io.pulse.agg") || pkg.equals("io.pulse.detect") || pkg.equals("io.pulse.anomaly")
          || pkg.equals("io.pulse.alert") || pkg.equals("io.pulse.score") || pkg.equals("io.pulse.catalog")) {
        return AGG;
      }
      if (pkg.equals("io.pulse.ingest") || pkg.equals("io.pulse.event")) {
        return INGEST;
      }
      if (pkg.equals("io.pulse.live")) {
        return VIEW;
      }
      return OTHER;
    }
    return NONE;
  }

  private void classify(Path file) throws IOException {
    try (RecordingFile rf = new RecordingFile(file)) {
      while (rf.hasMoreEvents()) {
        RecordedEvent e = rf.readEvent();
        if (!"jdk.ExecutionSample".equals(e.getEventType().getName())) {
          continue;
        }
        long t = e.getStartTime().toEpochMilli();
        for (Phase p : phases) {
          if (t >= p.startMs && t < p.endMs) {
            p.jfr.merge(category(e.getStackTrace()), 1L, Long::sum);
            p.jfrSamples++;
            break;
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // report

  private int report(Bench bench, String stamp, double others) throws IOException {
    bench.line("Many viewers on one node — live subscribers of one Pulse under W1 load");
    bench.line(String.format(Locale.ROOT, "run %s, %d cores, Java %s; Pulse, the viewers and the load generator in three JVMs on one machine%s",
        stamp, Bench.CORES, System.getProperty("java.version"), quick ? " (--quick: short phases, rough figures)" : ""));
    bench.line(String.format(Locale.ROOT, "load: W1 bodies (stream w1, 1,000 series) paced at %,.0f events/s over %d keep-alive connections",
        rate, connections));
    bench.line("server: java " + serverArgs + " -jar " + jar + ", env " + serverEnv);
    bench.line("  (http.maxConnections raised above the viewers; limits.liveConnectionsPerToken, limits.queryPerAddress and"
        + " limits.queryPerToken set to 0 = no limit, since every viewer comes from 127.0.0.1 without a token;"
        + " limits.perTenant.* stay 0 = no cap; limits.ingestPerAddress stays at its default; other keys at their defaults:"
        + " live.flushMs 250, 1 s windows, allowed lateness 1 s)");
    bench.line("viewers: a JVM of their own (Vert.x WebSocket and HTTP clients, -Xmx" + clientHeap + "); viewer 0 is one"
        + " WebSocket with a subscription to each view below (the '1 viewer' phases), every other viewer one subscription,"
        + " WebSocket when its number is even, SSE when odd:");
    int[] share = new int[ViewersClients.VIEWS.size()];
    for (int i = 0; i < 20; i++) {
      share[ViewersClients.viewOf(i)]++;
    }
    for (int k = 0; k < share.length; k++) {
      ViewersClients.View v = ViewersClients.VIEWS.get(k);
      bench.line(String.format(Locale.ROOT, "  %3d%%  %-55s WS %s  |  SSE %s", share[k] * 5, v.name(),
          v.subscribe("s").encode(), v.sseUri()));
    }
    bench.line(String.format(Locale.ROOT, "phases: warm-up %.0f s with 1 viewer; %d round(s) of [1 viewer, %,d viewers], each"
        + " measured %.0f s after a %.0f s warm-up; then %,d viewers (warm-up %.0f s); heap after GC with 1, %,d, 1, %,d and 1",
        warmup, rounds, viewers, measure, phaseWarmup, many, phaseWarmup * 1.5, viewers, many));
    bench.line(String.format(Locale.ROOT, "other processes' CPU in the 2 s before the run: %.0f%% of the machine; load average"
        + " at the end %s (the table gives it per phase: above 2, threads wait for a core)", others * 100, loadAverage()));
    bench.line("");

    bench.line("| phase | viewers open | events/s | msgs/s to viewers | latency p50 / p99 / max (ms) | final p50 (ms) | server CPU (cores) | event loops | other Java | GC, JIT, VM | viewers' JVM CPU | machine busy | load avg |");
    bench.line("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (Phase p : phases) {
      JsonObject c = p.clients;
      double secs = c.getDouble("seconds");
      long loops = p.threadCpu.getOrDefault("event loops", 0L);
      long java = p.threadCpu.values().stream().mapToLong(Long::longValue).sum();
      double process = (p.stats.serverCpuEndNanos - p.stats.serverCpuStartNanos) / (p.seconds() * 1e9);
      double wall = p.threadWallNanos > 0 ? p.threadWallNanos : p.seconds() * 1e9;
      bench.line(String.format(Locale.ROOT, "| %s | %,d | %,.0f | %,.0f | %s / %s / %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %s |",
          p.name, c.getInteger("open"), p.stats.eventsPerSecond(), c.getLong("messages") / secs,
          pct(p.running, 50), pct(p.running, 99), p.running.getTotalCount() == 0 ? "-" : String.valueOf(p.running.getMaxValue()),
          c.getJsonObject("final").getValue("p50", "-"), p.cores(), loops / wall, (java - loops) / wall,
          Math.max(0, process - java / wall), c.getLong("cpuNanos") / (secs * 1e9), p.stats.machineBusyShare() * 100, p.loadAvg));
    }
    bench.line("  latency: receive time − the rollup's latest (newest event ts in the window, set when the event left the"
        + " generator), running (\"final\":false) rollups of every viewer; final rollups wait for the window's end + 1 s"
        + " lateness and are info only");
    bench.line("  server CPU: the Pulse process (OS); event loops / other Java: its threads by JMX ThreadMXBean (other Java"
        + " includes the JMX connection this benchmark reads them through); GC, JIT, VM: the rest of the process");
    bench.line("");

    // CPU side by side
    List<Phase> ones = phases.stream().filter(p -> p.viewers == 1).toList();
    List<Phase> ks = phases.stream().filter(p -> p.viewers == viewers).toList();
    Phase big = phases.stream().filter(p -> p.viewers == many).findFirst().orElse(null);
    JsonObject targets = new JsonObject();
    boolean miss = false;
    if (!ones.isEmpty() && !ks.isEmpty()) {
      double c1 = ones.stream().mapToDouble(Phase::cores).average().orElse(Double.NaN);
      double ck = ks.stream().mapToDouble(Phase::cores).average().orElse(Double.NaN);
      bench.line(String.format(Locale.ROOT, "Server CPU, 1 viewer vs %,d viewers at the same ingest rate (mean of %d alternating round(s)):",
          viewers, ones.size()));
      StringBuilder per = new StringBuilder();
      for (int i = 0; i < Math.min(ones.size(), ks.size()); i++) {
        per.append(String.format(Locale.ROOT, "%s%.2f → %.2f (×%.2f)", i == 0 ? "" : ", ", ones.get(i).cores(),
            ks.get(i).cores(), ks.get(i).cores() / ones.get(i).cores()));
      }
      bench.line(String.format(Locale.ROOT, "  process CPU: %.2f cores with 1 viewer, %.2f with %,d: ratio %.2f (per round: %s)",
          c1, ck, viewers, ck / c1, per));
      targets.put("cpuCores1Viewer", c1).put("cpuCoresViewers", ck).put("cpuRatio", ck / c1);
      if (big != null) {
        bench.line(String.format(Locale.ROOT, "  with %,d viewers: %.2f cores, ratio to 1 viewer %.2f", many, big.cores(), big.cores() / c1));
        targets.put("cpuCoresMany", big.cores());
      }
      jfrTable(bench, ones, ks, big);
    }
    bench.line("");

    // latency target
    Histogram k = new Histogram(3_600_000L, 3);
    ks.forEach(p -> k.add(p.running));
    bench.line("Targets:");
    if (k.getTotalCount() > 0) {
      double p99 = k.getValueAtPercentile(99);
      boolean ok = p99 <= P99_TARGET_MS;
      miss |= !ok;
      bench.line(String.format(Locale.ROOT, "  event→viewer p99 at %,d viewers: %.0f ms (p50 %d, n=%,d, the %d phase(s) merged)  target <= %.0f ms  %s",
          viewers, p99, k.getValueAtPercentile(50), k.getTotalCount(), ks.size(), P99_TARGET_MS, ok ? "PASS" : "MISS"));
      targets.put("p99MsAtViewers", p99).put("p99Pass", ok);
    } else {
      bench.problems.add("no running rollups reached the viewers in the " + viewers + "-viewer phases");
    }
    if (big != null && big.running.getTotalCount() > 0) {
      bench.line(String.format(Locale.ROOT, "  event→viewer at %,d viewers (reported, no target): p50 %d ms, p99 %d ms, max %d ms (n=%,d)",
          many, big.running.getValueAtPercentile(50), big.running.getValueAtPercentile(99), big.running.getMaxValue(),
          big.running.getTotalCount()));
      targets.put("p99MsAtMany", big.running.getValueAtPercentile(99));
    }
    // a size's readings are bracketed by two with 1 viewer (just before and just after it): the mean of the two is
    // its baseline, so what grows with time alone (the views' resume logs fill up with finals) cancels out
    for (int i = 1; i + 1 < heap.size(); i++) {
      HeapReading n = heap.get(i);
      HeapReading before = heap.get(i - 1);
      HeapReading after = heap.get(i + 1);
      if (n.viewers() == 1 || before.viewers() != 1 || after.viewers() != 1) {
        continue;
      }
      double base = (before.bytes() + after.bytes()) / 2.0;
      double per = (n.bytes() - base) / (n.viewers() - 1);
      boolean ok = per <= HEAP_TARGET_BYTES;
      miss |= !ok;
      bench.line(String.format(Locale.ROOT, "  heap per viewer at %,d: (%,.1f MB − %,.1f MB, the mean of 1 viewer before (%,.1f) and after (%,.1f)) / %,d = %,.1f KB  target <= 20 KB  %s",
          n.viewers(), n.bytes() / 1e6, base / 1e6, before.bytes() / 1e6, after.bytes() / 1e6, n.viewers() - 1, per / 1024,
          ok ? "PASS" : "MISS"));
      targets.put("heapPerViewerBytesAt" + n.viewers(), per);
    }
    bench.line("  (heap: used after 3 System.gc() through JMX, median of 5 readings, taken after the phase while the load"
        + " pauses for a few seconds; a viewer holds one subscription, viewer 0 five; the reading after going back to 1"
        + " viewer after a size show what closed viewers leave behind)");

    // checks
    bench.line("");
    bench.line("Checks:");
    List<PhaseStats> all = new ArrayList<>();
    phases.forEach(p -> all.add(p.stats));
    all.add(between);
    bench.ingestChecks(all.toArray(PhaseStats[]::new));
    for (Phase p : phases) {
      JsonObject c = p.clients;
      long closed = c.getLong("closedByServer");
      int silent = c.getInteger("silent");
      String line = String.format(Locale.ROOT, "  %-18s open %,d of %,d, silent (no rollup in the phase) %d, rollups per viewer %d..%d,"
          + " closed by the server so far %d, connect failures %d, errors %d",
          p.name, c.getInteger("open"), p.viewers, silent, c.getLong("rollupsPerViewerMin"), c.getLong("rollupsPerViewerMax"),
          closed, c.getLong("connectFailures"), c.getLong("errors"));
      bench.line(line);
      bench.line(String.format(Locale.ROOT, "  %-18s server: %s", "", p.live.isEmpty() ? "(no pulse_live_* counters)" : p.live));
      for (Object s : c.getJsonArray("errorSamples")) {
        bench.line("      " + s);
      }
      if (c.getInteger("open") < p.viewers || silent > 0 || c.getLong("connectFailures") > 0) {
        if (p.viewers <= viewers) {
          bench.problems.add(p.name + ": " + (p.viewers - c.getInteger("open")) + " viewer(s) not open, " + silent + " silent");
        } else {
          warnings.add(p.name + ": " + (p.viewers - c.getInteger("open")) + " viewer(s) not open (closed as slow?), " + silent + " silent");
        }
      }
    }
    for (String w : warnings) {
      bench.line("  WARNING: " + w);
    }

    JsonObject json = new JsonObject().put("stamp", stamp).put("rate", rate).put("viewers", viewers).put("many", many)
        .put("rounds", rounds).put("quick", quick).put("serverEnv", new JsonObject(new LinkedHashMap<>(serverEnv == null ? Map.of() : serverEnv)))
        .put("heapBytes", heapJson()).put("targets", targets).put("warnings", new JsonArray(warnings));
    JsonArray ps = new JsonArray();
    for (Phase p : phases) {
      JsonObject c = p.clients.copy();
      c.remove("runningHist");
      c.remove("finalHist");
      ps.add(new JsonObject().put("name", p.name).put("viewers", p.viewers).put("server", bench.phaseJson(p.stats, false))
          .put("serverCores", p.cores()).put("loadAverage", p.loadAvg).put("threadCpuNanos", new JsonObject(new LinkedHashMap<>(p.threadCpu)))
          .put("jfrSamples", new JsonObject(new LinkedHashMap<>(p.jfr)))
          .put("liveCounters", new JsonObject(new LinkedHashMap<>(p.live))).put("clients", c));
    }
    json.put("phases", ps);
    return bench.finish("viewers", stamp, reportDir, json, targets, miss);
  }

  private JsonArray heapJson() {
    JsonArray a = new JsonArray();
    heap.forEach(h -> a.add(new JsonObject().put("viewers", h.viewers()).put("when", h.when()).put("bytes", h.bytes())));
    return a;
  }

  private void jfrTable(Bench bench, List<Phase> ones, List<Phase> ks, Phase big) {
    List<Phase> cols = new ArrayList<>(phases);
    if (cols.stream().allMatch(p -> p.jfrSamples == 0)) {
      bench.line("  (no JFR samples: the recording could not be read)");
      return;
    }
    bench.line("  Where the server's Java time went: JFR execution samples per second (default settings, every 20 ms per"
        + " running Java thread), by the first io.pulse frame on the stack:");
    StringBuilder head = new StringBuilder("  | category |");
    StringBuilder sep = new StringBuilder("  | --- |");
    for (Phase p : cols) {
      head.append(' ').append(p.name).append(" |");
      sep.append(" --- |");
    }
    head.append(String.format(Locale.ROOT, " %,d / 1 |", viewers));
    sep.append(" --- |");
    bench.line(head.toString());
    bench.line(sep.toString());
    for (String cat : CATEGORIES) {
      StringBuilder row = new StringBuilder("  | " + cat + " |");
      for (Phase p : cols) {
        row.append(String.format(Locale.ROOT, " %.1f |", p.jfr.getOrDefault(cat, 0L) / p.seconds()));
      }
      double a = ones.stream().mapToDouble(p -> p.jfr.getOrDefault(cat, 0L) / p.seconds()).average().orElse(0);
      double b = ks.stream().mapToDouble(p -> p.jfr.getOrDefault(cat, 0L) / p.seconds()).average().orElse(0);
      row.append(a > 0 ? String.format(Locale.ROOT, " ×%.2f |", b / a) : " - |");
      bench.line(row.toString());
    }
    StringBuilder total = new StringBuilder("  | all samples |");
    for (Phase p : cols) {
      total.append(String.format(Locale.ROOT, " %.1f |", p.jfrSamples / p.seconds()));
    }
    total.append(" |");
    bench.line(total.toString());
    bench.line("  (a sample stands for ~20 ms of a thread running Java code; time in the kernel's socket writes and in GC"
        + " is not sampled, it is in the CPU columns above)");
    bench.line("  Per unit of work (holds when the server gets less CPU than it asks for, as on a busy machine, where the"
        + " CPU per second only shows its share):");
    bench.line("  | phase | server CPU ms per 1,000 events | aggregate samples per 1M events | per-subscriber samples per 100k messages |");
    bench.line("  | --- | --- | --- | --- |");
    for (Phase p : cols) {
      double events = p.stats.accepted.sum();
      double msgs = p.clients.getLong("messages");
      double cpuMs = (p.stats.serverCpuEndNanos - p.stats.serverCpuStartNanos) / 1e6;
      bench.line(String.format(Locale.ROOT, "  | %s | %.2f | %.1f | %s |", p.name, events > 0 ? cpuMs / (events / 1000) : Double.NaN,
          events > 0 ? p.jfr.getOrDefault(AGG, 0L) / (events / 1e6) : Double.NaN,
          msgs > 1000 ? String.format(Locale.ROOT, "%.1f", p.jfr.getOrDefault(SEND, 0L) / (msgs / 1e5)) : "-"));
    }
  }

  private static String pct(Histogram h, double p) {
    return h.getTotalCount() == 0 ? "-" : String.valueOf(h.getValueAtPercentile(p));
  }

  // ---------------------------------------------------------------------------------------------

  /** The viewers' JVM, steered over its stdin; one answer line (prefixed "> ") per command. */
  static final class Clients implements AutoCloseable {
    private final Process process;
    private final Writer in;
    private final BufferedReader out;

    private Clients(Process process) {
      this.process = process;
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static Clients start(int port, int max, String heap, Path log) throws IOException {
      List<String> cmd = List.of(Bench.javaBin(), "-Xmx" + heap, "-cp", System.getProperty("java.class.path"),
          ViewersClients.class.getName(), String.valueOf(port), String.valueOf(max));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.to(log.toFile())).start();
      Clients c = new Clients(p);
      String first = c.answer();
      if (!"ready".equals(first)) {
        c.close();
        throw new IOException("the viewers' JVM did not start: " + first + "; log " + log);
      }
      return c;
    }

    synchronized String cmd(String line) throws IOException {
      in.write(line + "\n");
      in.flush();
      String a = answer();
      if (a.startsWith("error")) {
        throw new IOException("viewers' JVM: " + line + ": " + a);
      }
      return a;
    }

    private String answer() throws IOException {
      String l;
      while ((l = out.readLine()) != null) {
        if (l.startsWith("> ")) {
          return l.substring(2);
        }
      }
      throw new IOException("the viewers' JVM ended (exit " + (process.isAlive() ? "?" : process.exitValue()) + ")");
    }

    @Override
    public void close() {
      try {
        in.write("quit\n");
        in.flush();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    }
  }

  /** The server's JVM through JMX on loopback: heap after GC, and its threads' CPU. */
  static final class ServerProbe implements AutoCloseable {
    private final JMXConnector connector;
    private final MemoryMXBean memory;
    private final com.sun.management.ThreadMXBean threads;

    private ServerProbe(JMXConnector connector) throws IOException {
      this.connector = connector;
      MBeanServerConnection c = connector.getMBeanServerConnection();
      this.memory = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
      this.threads = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.THREAD_MXBEAN_NAME,
          com.sun.management.ThreadMXBean.class);
    }

    static ServerProbe connect(int port) throws Exception {
      JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
      Exception last = null;
      for (int i = 0; i < 50; i++) {
        try {
          return new ServerProbe(JMXConnectorFactory.connect(url));
        } catch (IOException e) {
          last = e;
          Thread.sleep(200);
        }
      }
      throw new IOException("no JMX connection to the server on port " + port, last);
    }

    /** Heap used after garbage collection has settled: the median of 5 readings, each after 3 full GCs. */
    long heapAfterGc() throws InterruptedException {
      long[] v = new long[5];
      for (int i = 0; i < v.length; i++) {
        for (int g = 0; g < 3; g++) {
          memory.gc();
          Thread.sleep(100);
        }
        v[i] = memory.getHeapMemoryUsage().getUsed();
      }
      Arrays.sort(v);
      return v[v.length / 2];
    }

    /** Every live Java thread: id -> {name, CPU ns}. */
    Map<Long, Object[]> threads() {
      long[] ids = threads.getAllThreadIds();
      ThreadInfo[] infos = threads.getThreadInfo(ids);
      long[] cpu = threads.getThreadCpuTime(ids);
      Map<Long, Object[]> m = new HashMap<>();
      for (int i = 0; i < ids.length; i++) {
        if (infos[i] != null && cpu[i] >= 0) {
          m.put(ids[i], new Object[] {infos[i].getThreadName(), cpu[i]});
        }
      }
      return m;
    }

    /** CPU ns per thread group between two snapshots (threads born in between count from 0). */
    static Map<String, Long> byGroup(Map<Long, Object[]> t0, Map<Long, Object[]> t1) {
      Map<String, Long> out = new LinkedHashMap<>();
      out.put("event loops", 0L);
      for (Map.Entry<Long, Object[]> e : t1.entrySet()) {
        String name = (String) e.getValue()[0];
        long end = (Long) e.getValue()[1];
        Object[] before = t0.get(e.getKey());
        long d = end - (before == null ? 0 : (Long) before[1]);
        out.merge(group(name), Math.max(0, d), Long::sum);
      }
      return out;
    }

    static String group(String name) {
      if (name.startsWith("vert.x-eventloop-thread")) {
        return "event loops";
      }
      if (name.startsWith("vert.x-worker-thread") || name.startsWith("vert.x-internal-blocking")) {
        return "vert.x workers";
      }
      if (name.startsWith("RMI ") || name.startsWith("JMX ")) {
        return "JMX (this benchmark's probe)";
      }
      if (name.startsWith("JFR ")) {
        return "JFR";
      }
      return "other Java threads";
    }

    @Override
    public void close() {
      try {
        connector.close();
      } catch (IOException e) {
        // the server is going anyway
      }
    }
  }
}

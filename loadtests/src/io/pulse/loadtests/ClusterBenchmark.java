package io.pulse.loadtests;

import io.vertx.core.Context;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.pulse.loadtests.Bench.positive;
import static io.pulse.loadtests.Bench.sleep;
import static io.pulse.loadtests.Bench.value;

/**
 * loadtests/cluster.sh: a local Pulse cluster without Docker, and what it guarantees, in one run.
 * <ol>
 *   <li>Starts a KRaft broker in its own JVM ({@link KafkaBroker}) and one PostgreSQL (zonky's
 *       embedded server, in this JVM's control; two databases on it: {@code single} and
 *       {@code cluster}).</li>
 *   <li>Direct path: one Pulse without Kafka on the {@code single} database, W1 closed loop
 *       (warm-up, then the timed max phase).</li>
 *   <li>Kafka path: three Pulse instances (separate JVMs, one consumer group) on the {@code cluster}
 *       database, with W1's per-series group-by configured as a permanent view; one WebSocket
 *       subscriber on each. The same driver, split over the three, closed loop: warm-up and max
 *       phase. Then W1 at a steady rate on all three; in the middle one instance is killed with
 *       SIGKILL (its driver first waits for its answers, so no request is in doubt), after a pause
 *       longer than the session timeout it is started again on the same port and data folder, and a
 *       new subscriber connects to it.</li>
 *   <li>Checks: the stored history of stream w1 (sum of {@code rollup_1s.count} over its series rows
 *       of kind 'series') equals the events acknowledged with 202, exactly, once it settles and again
 *       after every instance stopped; each subscriber (the restarted instance's one from its
 *       reconnection on) saw a closing rollup of every one of the 1,000 series.</li>
 * </ol>
 * Every child process's pid goes to {@code RUN_DIR/pids} as it starts, so that cluster.sh's trap can
 * stop what is left if this JVM dies. Exit code: 0 counts exact and every subscriber saw every
 * series, 1 a count or a subscriber is off, 2 the run itself failed, 64 bad options.
 */
public final class ClusterBenchmark implements AutoCloseable {

  static final String TAG = "cluster";

  static final class Options {
    boolean quick;
    double warmupS = 5;
    double maxS = 20;
    double steadyS = 75;
    double rate = 3000;
    double killAtS = 25;
    double downS = 10;
    int connections = 6;
    int batch = 1000;
    double settleTimeoutS = 120;
    String jar = "target/pulse.jar";
    String heap = "512m";
    String brokerHeap = "768m";
    /** Extra JVM arguments of every Pulse instance (not the single node), e.g. a JFR recording. */
    List<String> pulseJvmArgs = new ArrayList<>();
    String testClasspath;
    Path runDir;
    String reportDir = "loadtests/reports";
    /** Configure w1's per-series group-by as a permanent view (the default); off: the subscribers' group-by is ad hoc. */
    boolean view = true;
  }

  static String usage() {
    return String.join("\n",
        "usage: ClusterBenchmark --run-dir DIR --test-classpath CP [options]",
        "  --quick              run of under three minutes once built: warm-up 2, max 6, steady 25 s, kill at 8 s, down 7 s",
        "  --warmup S           closed-loop warm-up before each max phase (default 5)",
        "  --max S              closed-loop max phase, single node and cluster (default 20)",
        "  --steady S           steady-rate phase on the cluster (default 75)",
        "  --rate N             events/s of the steady phase, over the three instances (default 3000)",
        "  --kill-at S          when in the steady phase one instance gets SIGKILL (default 25)",
        "  --down S             how long it stays down before it starts again (default 10)",
        "  --connections N      HTTP connections in all, split over the instances (default 6)",
        "  --settle-timeout S   longest wait for stored history to equal the acknowledged events (default 120)",
        "  --jar PATH           Pulse fat jar (default target/pulse.jar)",
        "  --heap SIZE          -Xmx of each Pulse (default 512m)",
        "  --pulse-jvm-arg ARG  extra JVM argument of each cluster instance (repeatable; %n is its number), e.g.",
        "                       -XX:StartFlightRecording=filename=/tmp/pulse-%n.jfr,settings=profile",
        "  --report-dir DIR     where cluster-<timestamp>.txt goes (default loadtests/reports)",
        "  --no-view            an experiment: no permanent group-by [region, store] for w1, so the subscribers'",
        "                       group-by is an ad-hoc view (not cluster-wide yet: expect them to miss series)");
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> {
          o.quick = true;
          o.warmupS = 2;
          o.maxS = 6;
          o.steadyS = 25;
          o.killAtS = 8;
          o.downS = 7;
          o.settleTimeoutS = 60;
        }
        case "--warmup" -> o.warmupS = positive(a, args, ++i);
        case "--max" -> o.maxS = positive(a, args, ++i);
        case "--steady" -> o.steadyS = positive(a, args, ++i);
        case "--rate" -> o.rate = positive(a, args, ++i);
        case "--kill-at" -> o.killAtS = positive(a, args, ++i);
        case "--down" -> o.downS = positive(a, args, ++i);
        case "--connections" -> o.connections = (int) positive(a, args, ++i);
        case "--settle-timeout" -> o.settleTimeoutS = positive(a, args, ++i);
        case "--jar" -> o.jar = value(a, args, ++i);
        case "--heap" -> o.heap = value(a, args, ++i);
        case "--pulse-jvm-arg" -> o.pulseJvmArgs.add(value(a, args, ++i));
        case "--report-dir" -> o.reportDir = value(a, args, ++i);
        case "--no-view" -> o.view = false;
        case "--run-dir" -> o.runDir = Path.of(value(a, args, ++i)).toAbsolutePath();
        case "--test-classpath" -> o.testClasspath = value(a, args, ++i);
        case "--help", "-h" -> {
          System.out.println(usage());
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
      }
    }
    if (o.runDir == null || o.testClasspath == null) {
      throw new IllegalArgumentException("--run-dir and --test-classpath are required (cluster.sh passes them)\n" + usage());
    }
    if (o.killAtS + o.downS >= o.steadyS) {
      throw new IllegalArgumentException("--kill-at + --down must be shorter than --steady");
    }
    return o;
  }

  public static void main(String[] args) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(64);
      return;
    }
    int code;
    try (ClusterBenchmark b = new ClusterBenchmark(o)) {
      try {
        code = b.run();
      } catch (Exception e) {
        System.err.println("[cluster] the run failed: " + e);
        e.printStackTrace();
        b.problems.add("the run failed: " + e.getMessage());
        code = b.report();
      }
    } catch (Exception e) {
      System.err.println("[cluster] the run failed: " + e);
      e.printStackTrace();
      code = 2;
    }
    System.exit(code);
  }

  // ---------------------------------------------------------------------------------------------

  private final Options o;
  private final Bench bench = new Bench(TAG);
  private final List<String> problems = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final Map<String, String> figures = new LinkedHashMap<>();
  private final StringBuilder log = new StringBuilder();
  private final long t0 = System.nanoTime();
  private final W1Workload workload;
  private ChildServer broker;
  private EmbeddedPostgres pg;
  private final ChildServer[] nodes = new ChildServer[3];
  private final List<ChildServer> allStarted = new ArrayList<>();
  private final List<AutoCloseable> clients = new ArrayList<>();

  private ClusterBenchmark(Options o) {
    this.o = o;
    this.workload = new W1Workload(o.batch, 32, 42);
  }

  private void say(String s) {
    String line = String.format(Locale.ROOT, "[cluster %6.1f s] %s", (System.nanoTime() - t0) / 1e9, s);
    System.out.println(line);
    synchronized (log) {
      log.append(line).append('\n');
    }
  }

  private void figure(String name, String value) {
    synchronized (figures) {
      figures.put(name, value);
    }
  }

  /** Records a child's pid in RUN_DIR/pids for cluster.sh's trap. */
  private synchronized void notePid(long pid, String what) throws IOException {
    Files.writeString(o.runDir.resolve("pids"), pid + " " + what + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  int run() throws Exception {
    Files.createDirectories(o.runDir);
    say("run folder " + o.runDir + (o.quick ? " (quick)" : ""));
    // the broker starts while the single node runs (that one needs no Kafka)
    Exception[] brokerError = new Exception[1];
    Thread brokerStart = new Thread(() -> {
      try {
        startBroker();
      } catch (Exception e) {
        brokerError[0] = e;
      }
    }, "broker-start");
    brokerStart.start();
    startPostgres();

    // 1. the direct path
    double single = singleNode();
    brokerStart.join();
    if (brokerError[0] != null) {
      throw brokerError[0];
    }
    String bootstrap = Files.readString(o.runDir.resolve("bootstrap"), StandardCharsets.US_ASCII).strip();

    // 2. the Kafka path
    Path conf = o.runDir.resolve("pulse-cluster.json");
    Files.writeString(conf, o.view ? "{\"streams\": {\"w1\": {\"groupBy\": [[\"region\", \"store\"]]}}}\n" : "{}\n",
        StandardCharsets.UTF_8);
    int[] ports = {ChildServer.freePort(), ChildServer.freePort(), ChildServer.freePort()};
    long ts = System.nanoTime();
    // one after another: three JVMs starting at once on a small shared machine made the first
    // storage ping of some time out (see the report)
    for (int i = 0; i < 3; i++) {
      nodes[i] = startNode(i, ports[i], bootstrap, conf);
    }
    figure("cluster start (3 instances, one after another)", String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - ts) / 1e9));

    Context[] ctx = {bench.newContext(), bench.newContext(), bench.newContext()};
    Context subsCtx = bench.newContext();
    IngestDriver[] drivers = new IngestDriver[3];
    ClusterSubscriber[] subs = new ClusterSubscriber[3];
    int perNode = Math.max(1, o.connections / 3);
    for (int i = 0; i < 3; i++) {
      drivers[i] = new IngestDriver(bench.vertx, ctx[i], ports[i], perNode, workload);
      clients.add(drivers[i]);
      subs[i] = subscriber("instance " + (i + 1), ports[i]);
    }
    List<PhaseStats> all = new ArrayList<>();

    PhaseStats[] warm = phases("cluster warm-up", all);
    record(drivers, warm);
    closedLoop(drivers, warm, o.warmupS);
    PhaseStats[] max = phases("cluster max", all);
    record(drivers, max);
    double clusterRate = closedLoop(drivers, max, o.maxS);
    say(String.format(Locale.ROOT, "Kafka path, 3 instances, max: %,.0f events/s", clusterRate));
    figure("direct path, 1 node, max (events/s)", String.format(Locale.ROOT, "%,.0f", single));
    figure("Kafka path, 3 instances, max (events/s)", String.format(Locale.ROOT, "%,.0f", clusterRate));
    figure("ratio Kafka path / direct path", String.format(Locale.ROOT, "%.2f", clusterRate / single));

    // steady rate with a crash in the middle
    PhaseStats[] steady = phases("steady", all);
    record(drivers, steady);
    long steadyStart = System.nanoTime();
    for (IngestDriver d : drivers) {
      d.startPaced(o.rate / 3);
    }
    say(String.format(Locale.ROOT, "steady phase: %,.0f events/s over the three instances for %.0f s", o.rate, o.steadyS));
    sleepUntil(steadyStart, o.killAtS);
    int victim = 1;
    drivers[victim].stopPaced();
    Bench.awaitIdle(drivers[victim]);
    long pid = nodes[victim].pid();
    int seenBefore = subs[victim].seriesFinal.size();
    say("kill -9 " + pid + " (instance " + (victim + 1) + "), its driver idle; its subscriber had seen " + seenBefore
        + " series");
    new ProcessBuilder("kill", "-9", String.valueOf(pid)).inheritIO().start().waitFor();
    long killedAt = System.nanoTime();
    ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
    figure("killed", String.format(Locale.ROOT, "instance %d (pid %d) at %.0f s of the steady phase, SIGKILL",
        victim + 1, pid, o.killAtS));
    sleepUntil(killedAt, o.downS);
    ClusterSubscriber oldSub = subs[victim];
    long restartT = System.nanoTime();
    nodes[victim] = startNode(victim, ports[victim], bootstrap, conf);
    figure("restart of the killed instance", String.format(Locale.ROOT, "down %.0f s, then ready in %.1f s", o.downS,
        (System.nanoTime() - restartT) / 1e9));
    drivers[victim].startPaced(o.rate / 3);
    long resumedAt = System.nanoTime();
    subs[victim] = subscriber("instance " + (victim + 1) + " after its restart", ports[victim], 0);
    // the rest of the steady phase, and at least until the new subscriber saw every series (at most 90 s more)
    double left = Math.max(5, o.steadyS - (resumedAt - steadyStart) / 1e9);
    sleepUntil(resumedAt, left);
    long capAt = System.nanoTime() + 90_000_000_000L;
    while (subs[victim].seriesFinal.size() < W1Workload.SERIES && System.nanoTime() < capAt) {
      Thread.sleep(200);
    }
    sleep(2); // a couple more closed windows for every subscriber
    for (IngestDriver d : drivers) {
      d.stopPaced();
    }
    for (IngestDriver d : drivers) {
      Bench.awaitIdle(d);
    }
    long lastAnswer = System.nanoTime();
    for (PhaseStats s : steady) {
      s.endNanos = lastAnswer;
    }
    double steadySeconds = (lastAnswer - steadyStart) / 1e9;
    long steadyAcked = sum(steady);
    figure("steady phase", String.format(Locale.ROOT, "%.0f s at %,.0f events/s asked, %,.0f acknowledged/s (%,d events)",
        steadySeconds, o.rate, steadyAcked / steadySeconds, steadyAcked));

    long acked = 0;
    long non202 = 0;
    long failed = 0;
    long skipped = 0;
    for (PhaseStats s : all) {
      acked += s.accepted.sum();
      non202 += s.non202.sum();
      failed += s.failures.sum();
      skipped += s.batchesSkipped.sum();
      for (String e : s.errorSamples) {
        say("  " + s.name + ": " + e);
      }
    }
    figure("events acknowledged (202) by the cluster", String.format(Locale.ROOT, "%,d", acked));
    figure("requests not 202 / failed / skipped by the pacer", non202 + " / " + failed + " / " + skipped);

    // a request still unanswered (an overloaded cluster can take longer than the 30 s awaitIdle gives it) may
    // yet be acknowledged: the acknowledged count is taken again at every look, and the report says so
    int unanswered = 0;
    for (IngestDriver d : drivers) {
      unanswered += d.outstanding();
    }
    if (unanswered > 0) {
      figure("requests unanswered 30 s after the load stopped", unanswered + " (counted when they answer)");
    }
    // stored history settles at the acknowledged events
    long want = acked;
    long settleStart = System.nanoTime();
    long stored = -1;
    long deadline = settleStart + (long) (o.settleTimeoutS * 1e9);
    while (System.nanoTime() < deadline) {
      stored = storedCount("cluster");
      want = 0;
      for (PhaseStats ps : all) {
        want += ps.accepted.sum();
      }
      boolean answered = true;
      for (IngestDriver d : drivers) {
        answered &= d.outstanding() == 0;
      }
      if (stored == want && answered) {
        break;
      }
      for (ChildServer n : nodes) {
        if (!n.alive()) {
          throw new IOException(n.name + " died; log " + n.log + ":\n" + n.tail(30));
        }
      }
      Thread.sleep(500);
    }
    double settleS = (System.nanoTime() - settleStart) / 1e9;
    figure("stored history (sum of rollup_1s.count, w1 series rows), settled",
        String.format(Locale.ROOT, "%,d %s (%.1f s after the last answer)", stored,
            stored == want ? "= acknowledged, EXACT" : "!= acknowledged " + String.format(Locale.ROOT, "%,d", want)
                + " (off by " + (stored - want) + ")", settleS));
    if (stored != want) {
      failures.add("stored " + stored + " != acknowledged " + want + " after " + o.settleTimeoutS + " s");
    }
    // it stays so: a few more seconds, then every instance gone
    sleep(3);
    long again = storedCount("cluster");
    if (again != stored) {
      failures.add("stored history moved from " + stored + " to " + again + " 3 s after it settled");
    }

    // every subscriber saw every series
    long subDeadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < subDeadline && !allSeen(subs)) {
      Thread.sleep(250);
    }
    reportSubscriber(oldSub, "(before the kill; the kill closed its socket)", false);
    for (ClusterSubscriber s : subs) {
      reportSubscriber(s, "", true);
    }

    // graceful stop of the cluster, then the count once more
    long stopT = System.nanoTime();
    stopAll(nodes);
    figure("graceful stop of the 3 instances", String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - stopT) / 1e9));
    long after = storedCount("cluster");
    figure("stored history after every instance stopped", String.format(Locale.ROOT, "%,d %s", after,
        after == want ? "= acknowledged, EXACT" : "!= acknowledged (off by " + (after - want) + ")"));
    if (after != want) {
      failures.add("stored " + after + " != acknowledged " + want + " after every instance stopped");
    }
    return report();
  }

  private boolean allSeen(ClusterSubscriber[] subs) {
    for (ClusterSubscriber s : subs) {
      if (s.seriesFinal.size() < W1Workload.SERIES) {
        return false;
      }
    }
    return true;
  }

  private void reportSubscriber(ClusterSubscriber s, String note, boolean mustSeeAll) {
    int seen = s.seriesFinal.size();
    String when = s.allSeenAtMillis > 0
        ? String.format(Locale.ROOT, ", all within %.1f s of connecting", (s.allSeenAtMillis - s.connectedAtMillis) / 1e3)
        : "";
    figure("subscriber on " + s.name + " " + note, String.format(Locale.ROOT, "%d of %d series in final rollups "
        + "(%,d final rollups, %,d messages%s)%s", seen, W1Workload.SERIES, s.finals.get(), s.messages.get(), when,
        s.errors.get() > 0 ? " errors " + s.errors.get() + ": " + s.errorSamples : ""));
    if (mustSeeAll && seen != W1Workload.SERIES) {
      failures.add("the subscriber on " + s.name + " saw " + seen + " of " + W1Workload.SERIES + " series");
    }
    if (mustSeeAll && !s.subscribed.get()) {
      failures.add("the subscriber on " + s.name + " got no \"subscribed\"");
    }
  }

  private ClusterSubscriber subscriber(String name, int port) throws Exception {
    return subscriber(name, port, 30);
  }

  /** Connects a subscriber; waits up to {@code waitS} for its "subscribed" (0: not at all). */
  private ClusterSubscriber subscriber(String name, int port, double waitS) throws Exception {
    ClusterSubscriber s = new ClusterSubscriber(bench.vertx, name, port);
    clients.add(s);
    s.connect().await(30, TimeUnit.SECONDS);
    if (waitS <= 0) {
      return s;
    }
    long deadline = System.nanoTime() + (long) (waitS * 1e9);
    while (!s.subscribed.get() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    if (!s.subscribed.get()) {
      say("the subscriber on " + name + " got no \"subscribed\" in 30 s: " + s.errorSamples);
    }
    return s;
  }

  private static PhaseStats[] phases(String name, List<PhaseStats> all) {
    PhaseStats[] p = new PhaseStats[3];
    for (int i = 0; i < 3; i++) {
      p[i] = new PhaseStats(name + " #" + (i + 1));
      all.add(p[i]);
    }
    return p;
  }

  private static void record(IngestDriver[] drivers, PhaseStats[] phases) {
    long now = System.nanoTime();
    for (int i = 0; i < drivers.length; i++) {
      phases[i].startNanos = now;
      drivers[i].record(phases[i]);
    }
  }

  /** Closed loop on every driver for {@code seconds}; returns events/s acknowledged over all of them. */
  private double closedLoop(IngestDriver[] drivers, PhaseStats[] phases, double seconds) throws Exception {
    long start = System.nanoTime();
    for (PhaseStats p : phases) {
      p.startNanos = start;
    }
    for (IngestDriver d : drivers) {
      d.startClosedLoop();
    }
    sleep(seconds);
    for (IngestDriver d : drivers) {
      d.stopClosedLoop();
    }
    for (IngestDriver d : drivers) {
      Bench.awaitIdle(d);
    }
    long end = System.nanoTime();
    for (PhaseStats p : phases) {
      p.endNanos = end;
    }
    long acc = sum(phases);
    double rate = acc / ((end - start) / 1e9);
    long bad = 0;
    for (PhaseStats p : phases) {
      bad += p.non202.sum() + p.failures.sum();
    }
    org.HdrHistogram.Histogram rtt = new org.HdrHistogram.Histogram(60_000_000L, 3);
    for (PhaseStats p : phases) {
      rtt.add(p.httpRttMicros);
    }
    String name = phases[0].name.replaceAll(" #\\d+$", "");
    say(String.format(Locale.ROOT, "  %s: %.1f s, %,d events acknowledged, %,.0f events/s, non-202 or failed requests %d, "
        + "POST round trip p50 %.0f ms p99 %.0f ms", name, (end - start) / 1e9, acc, rate, bad,
        rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3));
    if (name.endsWith("max")) {
      figure(name + ": POST round trip p50 / p99", String.format(Locale.ROOT, "%.0f ms / %.0f ms (%d connections, %d events a POST)",
          rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3, phases.length == 1 ? o.connections
              : Math.max(1, o.connections / 3) * 3, o.batch));
    }
    return rate;
  }

  private static long sum(PhaseStats[] phases) {
    long s = 0;
    for (PhaseStats p : phases) {
      s += p.accepted.sum();
    }
    return s;
  }

  private static void sleepUntil(long startNanos, double seconds) throws InterruptedException {
    long until = startNanos + (long) (seconds * 1e9);
    long now;
    while ((now = System.nanoTime()) < until) {
      Thread.sleep(Math.min(200, Math.max(1, (until - now) / 1_000_000)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the processes

  private void startBroker() throws Exception {
    Path tmp = Files.createDirectories(o.runDir.resolve("kafka-tmp"));
    Path bootstrap = o.runDir.resolve("bootstrap");
    List<String> cmd = List.of(Bench.javaBin(), "-Xmx" + o.brokerHeap, "-Djava.io.tmpdir=" + tmp,
        "-Dclustersh.run=" + o.runDir, "-cp", o.testClasspath, "io.pulse.loadtests.KafkaBroker", bootstrap.toString());
    long t = System.nanoTime();
    broker = ChildServer.start("Kafka broker", cmd, Map.of(), 0, o.runDir.resolve("kafka.log"));
    synchronized (allStarted) {
      allStarted.add(broker);
    }
    notePid(broker.pid(), "kafka-broker");
    say("starting the KRaft broker (pid " + broker.pid() + "), log " + o.runDir.resolve("kafka.log"));
    long deadline = t + 120_000_000_000L;
    while (!Files.exists(bootstrap)) {
      if (!broker.alive()) {
        throw new IOException("the Kafka broker exited before it was ready:\n" + broker.tail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the Kafka broker was not ready in 120 s:\n" + broker.tail(40));
      }
      Thread.sleep(100);
    }
    String b = Files.readString(bootstrap, StandardCharsets.US_ASCII).strip();
    figure("Kafka broker (KRaft, 1 node, own JVM)", String.format(Locale.ROOT, "ready in %.1f s at %s", (System.nanoTime() - t) / 1e9, b));
    say("broker ready at " + b);
  }

  private void startPostgres() throws Exception {
    long t = System.nanoTime();
    Path dir = o.runDir.resolve("pg");
    pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(true).setPort(ChildServer.freePort())
        .start();
    try {
      List<String> pidLines = Files.readAllLines(dir.resolve("postmaster.pid"), StandardCharsets.US_ASCII);
      notePid(Long.parseLong(pidLines.get(0).trim()), "postgres");
    } catch (IOException | RuntimeException e) {
      say("could not note PostgreSQL's pid: " + e);
    }
    for (String db : List.of("single", "cluster")) {
      exec("postgres", "create database " + db);
    }
    figure("PostgreSQL (zonky embedded, " + serverVersion() + ")", String.format(Locale.ROOT,
        "ready in %.1f s on port %d, databases single and cluster", (System.nanoTime() - t) / 1e9, pg.getPort()));
    say("PostgreSQL ready on port " + pg.getPort());
  }

  private String pgUrl(String db) {
    return "postgresql://postgres:postgres@127.0.0.1:" + pg.getPort() + "/" + db;
  }

  private Connection jdbc(String db) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, "postgres", "postgres");
  }

  private void exec(String db, String sql) throws SQLException {
    try (Connection c = jdbc(db); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private String serverVersion() {
    try (Connection c = jdbc("postgres"); Statement s = c.createStatement(); ResultSet r = s.executeQuery("show server_version")) {
      r.next();
      return "PostgreSQL " + r.getString(1);
    } catch (SQLException e) {
      return "version unknown";
    }
  }

  /** Sum of rollup_1s.count over the series rows of kind 'series' of stream w1; 0 before Pulse made the tables. */
  long storedCount(String db) throws SQLException {
    try (Connection c = jdbc(db); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("select coalesce(sum(r.count), 0) from series s join rollup_1s r on r.series_id = s.id "
             + "where s.stream = 'w1' and s.kind = 'series'")) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) { // undefined table: nothing stored yet
        return 0;
      }
      throw e;
    }
  }

  private ChildServer startPulse(String name, int port, Path data, Map<String, String> env, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Bench.javaBin(), "-Xmx" + o.heap, "-Dclustersh.run=" + o.runDir));
    if (name.startsWith("instance ")) {
      String n = name.substring("instance ".length()) + "-" + (++jvmStarts); // a restart gets a file of its own
      o.pulseJvmArgs.forEach(a -> cmd.add(a.replace("%n", n)));
    }
    cmd.addAll(List.of("-jar", o.jar));
    Map<String, String> all = new LinkedHashMap<>();
    all.put("PULSE_HTTP_HOST", "127.0.0.1");
    all.put("PULSE_HTTP_PORT", String.valueOf(port));
    all.put("PULSE_DATA_DIR", data.toString());
    all.put("PULSE_DEMO", "false");
    all.put("PULSE_AUTH", "false");
    all.put("PULSE_STORAGE", "true");
    // the default 3 s is also the wait for a pooled connection: on a shared 2-core machine a Pulse started next
    // to busy ones failed its first storage ping with "Timeout waiting for connection" (see the report)
    all.put("PULSE_PG_QUERY_TIMEOUT_MS", "15000");
    // anomaly detection on, as by default: a restarted instance's replay is scored in slices (the report counts
    // Vert.x's blocked-thread warnings in the instances' logs)
    all.putAll(env);
    long t = System.nanoTime();
    ChildServer p = ChildServer.start(name, cmd, all, port, log);
    synchronized (allStarted) {
      allStarted.add(p);
    }
    notePid(p.pid(), name.replace(' ', '-'));
    say("starting " + name + " (pid " + p.pid() + ") on 127.0.0.1:" + port + ", log " + log);
    p.awaitReady("/health/ready", Duration.ofSeconds(120));
    say(String.format(Locale.ROOT, "%s ready in %.1f s", name, (System.nanoTime() - t) / 1e9));
    return p;
  }

  private int starts;
  private int jvmStarts;

  private ChildServer startNode(int i, int port, String bootstrap, Path conf) throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PULSE_PG_URL", pgUrl("cluster"));
    env.put("PULSE_KAFKA_BOOTSTRAP", bootstrap);
    env.put("PULSE_KAFKA_CLIENT_SESSION_TIMEOUT_MS", "6000");
    env.put("PULSE_KAFKA_CLIENT_HEARTBEAT_INTERVAL_MS", "500");
    // a flush record of the output topic carries a partition's closed windows; catching up after a stall
    // they passed 1 MB (RecordTooLargeException with Kafka's default max.request.size): see the report
    env.put("PULSE_KAFKA_CLIENT_MAX_REQUEST_SIZE", String.valueOf(KafkaBroker.MAX_MESSAGE_BYTES));
    env.put("PULSE_CONFIG", conf.toString());
    Path data = Files.createDirectories(o.runDir.resolve("data-" + (i + 1)));
    int n;
    synchronized (this) {
      n = ++starts;
    }
    return startPulse("instance " + (i + 1), port, data, env,
        o.runDir.resolve("pulse-" + (i + 1) + (n > 3 ? "-restart" : "") + ".log"));
  }

  /** The direct path: one Pulse without Kafka on the same PostgreSQL, W1 closed loop. Returns the max phase's events/s. */
  private double singleNode() throws Exception {
    int port = ChildServer.freePort();
    ChildServer p = startPulse("single node", port, Files.createDirectories(o.runDir.resolve("data-single")),
        Map.of("PULSE_PG_URL", pgUrl("single")), o.runDir.resolve("pulse-single.log"));
    Context ctx = bench.newContext();
    double rate;
    long acked;
    try (IngestDriver d = new IngestDriver(bench.vertx, ctx, port, o.connections, workload)) {
      IngestDriver[] ds = {d};
      PhaseStats[] warm = {new PhaseStats("single warm-up")};
      record(ds, warm);
      closedLoop(ds, warm, o.warmupS);
      PhaseStats[] max = {new PhaseStats("single max")};
      record(ds, max);
      rate = closedLoop(ds, max, o.maxS);
      acked = warm[0].accepted.sum() + max[0].accepted.sum();
    }
    say(String.format(Locale.ROOT, "direct path, 1 node, max: %,.0f events/s", rate));
    long t = System.nanoTime();
    p.close(); // SIGTERM: its last windows are flushed and stored
    long stored = storedCount("single");
    figure("single node: stored after its graceful stop", String.format(Locale.ROOT, "%,d of %,d acknowledged%s (stop %.1f s)",
        stored, acked, stored == acked ? ", exact" : " (off by " + (stored - acked) + ")", (System.nanoTime() - t) / 1e9));
    if (stored != acked) {
      failures.add("single node: stored " + stored + " != acknowledged " + acked);
    }
    return rate;
  }

  private void stopAll(ChildServer[] servers) throws InterruptedException {
    List<Thread> ts = new ArrayList<>();
    for (ChildServer s : servers) {
      if (s != null) {
        Thread t = new Thread(s::close);
        t.start();
        ts.add(t);
      }
    }
    for (Thread t : ts) {
      t.join();
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Vert.x's blocked-thread warnings in the Pulse instances' logs (a loop held past 2 s), per log. */
  private String blockedWarnings() throws IOException {
    List<String> parts = new ArrayList<>();
    long total = 0;
    try (var logs = Files.list(o.runDir)) {
      for (Path p : logs.filter(f -> f.getFileName().toString().startsWith("pulse-")).sorted().toList()) {
        long n;
        try (var lines = Files.lines(p, StandardCharsets.UTF_8)) {
          n = lines.filter(l -> l.contains("has been blocked for")).count();
        }
        total += n;
        parts.add(p.getFileName() + " " + n);
      }
    }
    return total + " blocked-thread warnings (" + String.join(", ", parts) + ")";
  }

  private int report() throws IOException {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    StringBuilder r = new StringBuilder();
    r.append("Pulse local cluster (loadtests/cluster.sh").append(o.quick ? " --quick" : "").append("), ")
        .append(stamp).append("\n");
    r.append(String.format(Locale.ROOT, "machine: %d cores (shared); W1: 1,000 series, batches of %d events; "
        + "connections %d in all; warm-up %.0f s, max %.0f s, steady %.0f s at %,.0f events/s, kill at %.0f s, down %.0f s%n",
        Bench.CORES, o.batch, o.connections, o.warmupS, o.maxS, o.steadyS, o.rate, o.killAtS, o.downS));
    r.append("Pulse instances: java -Xmx").append(o.heap).append(" -jar ").append(o.jar)
        .append(", session.timeout.ms 6000, heartbeat.interval.ms 500, anomaly detection on, ")
        .append(o.view ? "permanent group-by w1: [region, store]" : "NO permanent group-by (--no-view): the subscribers' [region, store] is ad hoc")
        .append("\n\n");
    int w;
    synchronized (figures) {
      w = figures.keySet().stream().mapToInt(String::length).max().orElse(10);
      for (Map.Entry<String, String> e : figures.entrySet()) {
        r.append(String.format(Locale.ROOT, "%-" + w + "s  %s%n", e.getKey(), e.getValue()));
      }
    }
    r.append(String.format(Locale.ROOT, "%-" + w + "s  %.0f s%n", "whole run", (System.nanoTime() - t0) / 1e9));
    r.append(String.format(Locale.ROOT, "%-" + w + "s  %s%n", "event loops blocked", blockedWarnings()));
    int code = !problems.isEmpty() ? 2 : failures.isEmpty() ? 0 : 1;
    r.append("\nresult: ").append(code == 0 ? "PASS: stored history equals the acknowledged events exactly, and every "
        + "subscriber saw every series" : "FAIL").append('\n');
    for (String f : failures) {
      r.append("  - ").append(f).append('\n');
    }
    for (String p : problems) {
      r.append("  - run problem: ").append(p).append('\n');
    }
    synchronized (log) {
      r.append("\nrun log:\n").append(log);
    }
    Path dir = Files.createDirectories(Path.of(o.reportDir));
    Path file = dir.resolve("cluster-" + stamp + ".txt");
    Files.writeString(file, r.toString(), StandardCharsets.UTF_8);
    System.out.println();
    System.out.print(r.substring(0, r.indexOf("\nrun log:")));
    System.out.println("\nreport: " + file);
    return code;
  }

  @Override
  public void close() {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception e) {
        // best effort
      }
    }
    List<ChildServer> copy;
    synchronized (allStarted) {
      copy = new ArrayList<>(allStarted);
    }
    List<ChildServer> pulses = new ArrayList<>(copy);
    pulses.remove(broker);
    try {
      stopAll(pulses.toArray(new ChildServer[0]));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (broker != null) {
      broker.close();
    }
    if (pg != null) {
      try {
        pg.close();
      } catch (IOException e) {
        System.err.println("could not stop PostgreSQL: " + e);
      }
    }
    try {
      bench.close();
    } catch (Exception e) {
      // best effort
    }
  }
}

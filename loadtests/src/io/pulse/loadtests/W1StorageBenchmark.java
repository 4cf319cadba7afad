package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.pulse.loadtests.Bench.CORES;
import static io.pulse.loadtests.Bench.checkAlive;
import static io.pulse.loadtests.Bench.nan;
import static io.pulse.loadtests.Bench.nonNegative;
import static io.pulse.loadtests.Bench.positive;
import static io.pulse.loadtests.Bench.sleep;
import static io.pulse.loadtests.Bench.value;

/**
 * Issue 3's speed targets in one run (see loadtests/README.md):
 * <ol>
 *   <li>W1's max ingest with storage on (embedded PostgreSQL) against the same with storage off
 *       ({@code PULSE_STORAGE=false}), each a fresh Pulse under the same load, alternated (off, on,
 *       off by default): on must reach 90% of off. During the run with storage, the write queue
 *       must stay short and empty out right after the load, no row may fail, and the stored
 *       stream totals must add up to the events accepted.</li>
 *   <li>Before that run its database gets a day of history ({@link HistorySeed}); after it, a
 *       24 h, 1 min step history query of one series is timed: median under 100 ms.</li>
 * </ol>
 *
 * <pre>java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.W1StorageBenchmark [--quick] [options]</pre>
 *
 * Exit code: 0 every target met, 1 a target missed, 2 the run itself went wrong.
 */
public final class W1StorageBenchmark {

  static final String TAG = "w1-storage";
  static final double TARGET_RATIO = 0.90;
  static final double TARGET_QUERY_MS = 100;
  /** Rows Pulse stores per 1 s window of W1: each series and the stream total (no group-by is configured). */
  static final int ROWS_PER_WINDOW = W1Workload.SERIES + 1;
  /** Runs without storage further apart than this (of their mean) make the ratio inconclusive: the report warns. */
  static final double MAX_DRIFT = 0.10;
  /** Keeping up: the write queue never holds more than this many seconds of finals (sampled over the run). */
  static final double QUEUE_LIMIT_S = 3;
  /** Keeping up: every final is written within this after the last answer (the last window closes ~2 s after it). */
  static final double DRAIN_LIMIT_S = 5;
  /** The downsampling job's first run is over when its rows written have not moved for this long. */
  private static final double STARTUP_QUIET_S = 1.5;
  /** Longest wait for that run: a few seconds for the default seed, minutes for --seed-minutes 1440. */
  private static final double STARTUP_TIMEOUT_S = 600;
  /** The last window closes window (1 s) + lateness (1 s) + a flush tick after the last event. */
  private static final double LAST_CLOSE_S = 2.5;

  static final class Options {
    double warmupS = 10;
    double maxS = 20;
    int connections = 6;
    int subscribers = 100;
    int batch = 1000;
    int templates = 32;
    List<Boolean> order = List.of(false, true, false);
    int queries = 50;
    int queryWarmup = 5;
    int seedMinutes = 60;
    int seedSeconds = 300;
    double drainTimeoutS = 60;
    boolean quick;
    String jar = "target/pulse.jar";
    String reportDir = "loadtests/reports";
    String heap = "1g";
    List<String> serverJvmArgs = new ArrayList<>();
    double readyTimeoutS = 120;

    JsonObject toJson() {
      return new JsonObject().put("warmupS", warmupS).put("maxS", maxS).put("connections", connections)
          .put("subscribers", subscribers).put("batchEvents", batch).put("templates", templates)
          .put("order", orderText(order)).put("queries", queries).put("queryWarmup", queryWarmup)
          .put("seedMinutes", seedMinutes).put("seedSeconds", seedSeconds).put("drainTimeoutS", drainTimeoutS)
          .put("quick", quick).put("jar", jar).put("serverHeap", heap)
          .put("serverJvmArgs", new JsonArray(new ArrayList<>(serverJvmArgs)));
    }
  }

  static String usage() {
    return String.join("\n",
        "usage: W1StorageBenchmark [options]",
        "  --quick                 smoke run (< 1 min): warmup 2, max 5, 30 queries, seed 10 min / 60 s of the others",
        "  --warmup S              warm-up of each Pulse, closed loop (default 10)",
        "  --max S                 max-throughput phase of each Pulse, closed loop (default 20)",
        "  --order LIST            storage of the Pulse runs in turn, one 'on' (default off,on,off)",
        "  --queries N             timed history queries (default 50), after --query-warmup N (default 5)",
        "  --seed-minutes M        1 min rows of the 999 other series: the last M minutes (default 60; 1440 = the day)",
        "  --seed-seconds S        1 s rows of the 999 other series: the last S seconds (default 300)",
        "  --drain-timeout S       longest wait for the stored finals after the load (default 60)",
        "  --connections N         HTTP keep-alive connections (default 6)",
        "  --subscribers N         WebSocket subscribers during every run (default 100)",
        "  --batch N               events per POST (default 1000)",
        "  --jar PATH              Pulse fat jar (default target/pulse.jar)",
        "  --heap SIZE             Pulse's -Xmx (default 1g)",
        "  --server-jvm-arg ARG    extra JVM argument for Pulse (repeatable)",
        "  --report-dir DIR        where w1-storage-<timestamp>.txt/.json go (default loadtests/reports)");
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
          o.queries = 30;
          o.queryWarmup = 3;
          o.seedMinutes = 10;
          o.seedSeconds = 60;
        }
        case "--warmup" -> o.warmupS = positive(a, args, ++i);
        case "--max" -> o.maxS = positive(a, args, ++i);
        case "--order" -> o.order = order(value(a, args, ++i));
        case "--queries" -> o.queries = (int) positive(a, args, ++i);
        case "--query-warmup" -> o.queryWarmup = (int) nonNegative(a, args, ++i);
        case "--seed-minutes" -> o.seedMinutes = (int) nonNegative(a, args, ++i);
        case "--seed-seconds" -> o.seedSeconds = (int) nonNegative(a, args, ++i);
        case "--drain-timeout" -> o.drainTimeoutS = positive(a, args, ++i);
        case "--connections" -> o.connections = (int) positive(a, args, ++i);
        case "--subscribers" -> o.subscribers = (int) nonNegative(a, args, ++i);
        case "--batch" -> o.batch = (int) positive(a, args, ++i);
        case "--jar" -> o.jar = value(a, args, ++i);
        case "--heap" -> o.heap = value(a, args, ++i);
        case "--server-jvm-arg" -> o.serverJvmArgs.add(value(a, args, ++i));
        case "--report-dir" -> o.reportDir = value(a, args, ++i);
        case "-h", "--help" -> {
          System.out.println(usage());
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
      }
    }
    if (o.connections > 64 || o.subscribers > 1000 || o.batch > 100_000 || o.queries > 10_000) {
      throw new IllegalArgumentException("bounds: connections <= 64, subscribers <= 1000, batch <= 100000, queries <= 10000");
    }
    if (o.seedMinutes > 1440 || o.seedSeconds > 3600) {
      throw new IllegalArgumentException("bounds: --seed-minutes <= 1440, --seed-seconds <= 3600");
    }
    if ((o.warmupS + o.maxS) * o.order.size() > 3600) {
      throw new IllegalArgumentException("phases add up to more than an hour");
    }
    return o;
  }

  private static List<Boolean> order(String v) {
    List<Boolean> out = new ArrayList<>();
    for (String p : v.split(",")) {
      switch (p.trim()) {
        case "on" -> out.add(true);
        case "off" -> out.add(false);
        default -> throw new IllegalArgumentException("--order: a comma-separated list of on and off, not " + v);
      }
    }
    if (out.stream().filter(b -> b).count() != 1 || !out.contains(false) || out.size() > 5) {
      throw new IllegalArgumentException("--order: exactly one 'on', at least one 'off', at most 5 runs: " + v);
    }
    return List.copyOf(out);
  }

  static String orderText(List<Boolean> order) {
    List<String> s = new ArrayList<>();
    order.forEach(b -> s.add(b ? "on" : "off"));
    return String.join(",", s);
  }

  public static void main(String[] args) {
    int code;
    try {
      code = new W1StorageBenchmark(parse(args)).run();
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      code = 64;
    } catch (Exception e) {
      System.err.println("W1 storage FAILED: " + e);
      e.printStackTrace();
      code = 2;
    }
    System.exit(code);
  }

  // ---------------------------------------------------------------------------------------------

  /** One Pulse run: storage on or off, its phases and what it showed. */
  private static final class Session {
    final String name;
    final boolean storage;
    /** With storage: from ready until the downsampling job's first run is over. */
    PhaseStats startup;
    double startupDownsampled;
    PhaseStats warmup;
    PhaseStats max;
    PhaseStats drain;
    String log;
    long startMillis;
    long connectionsOpened;
    int subsConnected;
    long subsClosedByServer;
    Map<String, Double> storeAtMaxStart;
    Map<String, Double> storeAtMaxEnd;
    Map<String, Double> storeAtEnd;
    double drainSeconds = Double.NaN;
    Map<String, Double> metrics = Map.of();

    Session(String name, boolean storage) {
      this.name = name;
      this.storage = storage;
    }

    long accepted() {
      return (warmup == null ? 0 : warmup.accepted.sum()) + (max == null ? 0 : max.accepted.sum())
          + (drain == null ? 0 : drain.accepted.sum());
    }
  }

  private final Options o;
  private final JsonObject json = new JsonObject();
  private Bench bench;
  private W1Workload workload;
  private double othersBefore;
  private final List<Session> sessions = new ArrayList<>();
  private HistorySeed.Result seeded;
  // the run with storage: its stored stream totals, and the history query
  private long storedSum = -1;
  private int storedWindows;
  private String exactnessUrl;
  private String historyUrl;
  private double[] historyMs = new double[0];
  private int historyPoints = -1;
  private int historySeries = -1;
  private long historyBytes;
  private long historyConnections;

  W1StorageBenchmark(Options o) {
    this.o = o;
  }

  int run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path runDir = Files.createTempDirectory("pulse-w1-storage-");
    System.out.println("[" + TAG + "] W1 storage benchmark " + stamp + " — " + CORES + " cores, Java "
        + System.getProperty("java.version") + "; server logs under " + runDir);
    workload = new W1Workload(o.batch, o.templates, 42);
    othersBefore = Bench.otherLoadBefore(TAG);
    try (Bench b = new Bench(TAG)) {
      bench = b;
      try {
        Path onData = Files.createDirectories(runDir.resolve("data-on"));
        long end = System.currentTimeMillis() / HistorySeed.MINUTE_MS * HistorySeed.MINUTE_MS;
        HistorySeed.Plan plan = new HistorySeed.Plan(end, o.seedMinutes, o.seedSeconds);
        bench.say(String.format(Locale.ROOT, "seeding the history of the run with storage: %,d + %,d rows ending %s",
            plan.minuteRows(), plan.secondRows(), Instant.ofEpochMilli(end)));
        seeded = HistorySeed.seed(b.vertx, onData, plan);
        bench.say(String.format(Locale.ROOT, "seeded in %.1f s: %s", seeded.seconds(), seeded.describe()));
        int offs = 0;
        for (boolean storage : o.order) {
          Session s = new Session(storage ? "storage on" : "storage off #" + ++offs, storage);
          sessions.add(s);
          runSession(s, storage ? onData : Files.createDirectories(runDir.resolve("data-off-" + offs)), runDir);
        }
      } catch (Exception e) {
        bench.problems.add("run aborted: " + e.getMessage());
        System.err.println("W1 storage: run aborted: " + e);
        e.printStackTrace();
      }
    }
    try (var dirs = Files.list(runDir)) {
      dirs.filter(p -> p.getFileName().toString().startsWith("data-")).forEach(Bench::deleteTree);
    }
    return report(stamp);
  }

  private void runSession(Session s, Path data, Path runDir) throws Exception {
    Path log = runDir.resolve("pulse-" + s.name.replace(' ', '-').replace("#", "") + ".log");
    s.log = log.toString();
    Bench.PulseCommand pc = new Bench.PulseCommand(o.jar, o.heap, o.serverJvmArgs, o.readyTimeoutS);
    try (ChildServer pulse = bench.startPulse("Pulse, " + s.name, pc, data,
        Map.of("PULSE_STORAGE", String.valueOf(s.storage)), log)) {
      if (s.storage) {
        pulse.watchDatabase(data.resolve("pg").resolve("postmaster.pid"));
      }
      Context ingestCtx = bench.newContext();
      Context subsCtx = bench.newContext();
      try (Sampler sampler = new Sampler(pulse.port);
           LiveSubscribers subs = new LiveSubscribers(bench.vertx, subsCtx, pulse.port, o.subscribers);
           IngestDriver driver = new IngestDriver(bench.vertx, ingestCtx, pulse.port, o.connections, workload)) {
        if (o.subscribers > 0) {
          subs.connectAll().await(30, TimeUnit.SECONDS);
        }
        s.subsConnected = subs.connected();
        if (s.storage) {
          s.startup = new PhaseStats(s.name + " start-up");
          bench.begin(s.startup, pulse, sampler, driver, subs);
          awaitStartupDownsampling(s, sampler);
          bench.end(s.startup, pulse, sampler);
        }
        s.startMillis = System.currentTimeMillis();

        s.warmup = new PhaseStats(s.name + " warm-up");
        bench.begin(s.warmup, pulse, sampler, driver, subs);
        driver.startClosedLoop();
        sleep(o.warmupS);
        s.max = new PhaseStats(s.name + " max");
        bench.end(s.warmup, pulse, sampler);
        bench.begin(s.max, pulse, sampler, driver, subs);
        s.storeAtMaxStart = s.storage ? sampler.scrapeNow() : null;
        bench.progress(s.warmup);
        sleep(o.maxS);
        bench.end(s.max, pulse, sampler);
        s.storeAtMaxEnd = s.storage ? sampler.scrapeNow() : null;
        s.drain = new PhaseStats(s.name + " drain");
        bench.begin(s.drain, pulse, sampler, driver, subs);
        driver.stopClosedLoop();
        Bench.awaitIdle(driver);
        long lastAnswer = System.nanoTime();
        bench.progress(s.max);
        checkAlive(pulse);
        if (s.storage) {
          awaitStored(s, sampler, lastAnswer);
        }
        bench.end(s.drain, pulse, sampler);
        driver.record(null);
        subs.record(null);
        sampler.record(null);
        s.connectionsOpened = driver.connectionsOpened.get();
        s.subsClosedByServer = subs.closedByServer.sum();
        if (subs.errorCount.get() > 0) {
          bench.problems.add(s.name + ": " + subs.errorCount.get() + " error message(s) or anomalies on the live feed: "
              + subs.errorMessages);
        }
        if (s.subsConnected < o.subscribers) {
          bench.problems.add(s.name + ": only " + s.subsConnected + " of " + o.subscribers + " subscribers connected");
        }
        if (s.storage) {
          queryHistory(s, pulse.port);
        }
        checkAlive(pulse);
        s.metrics = Bench.pulseMetrics(sampler.lastScrape());
        if (sampler.lastError != null) {
          bench.problems.add(s.name + ": sampling Pulse's /metrics: " + sampler.lastError);
        }
      }
      if (!bench.problems.isEmpty()) {
        bench.say("Pulse log tail (" + pulse.log + "):\n" + pulse.tail(15));
      }
    }
  }

  /**
   * Waits for the downsampling job's first run, 5 s after the start: it catches up on the seeded
   * history (the last seeded minute again from its 1 s rows, and the day's hours from the 1 min
   * rows) and would otherwise land in a measured phase. Over when its rows written have moved and
   * then not for {@link #STARTUP_QUIET_S} (a run with more to do goes on after 1 s).
   */
  private void awaitStartupDownsampling(Session s, Sampler sampler) throws Exception {
    long deadline = System.nanoTime() + (long) (STARTUP_TIMEOUT_S * 1e9);
    double rows = 0;
    long movedAt = 0;
    while (System.nanoTime() < deadline) {
      double r = sampler.scrapeNow().getOrDefault(Sampler.STORE_DOWNSAMPLED, 0.0);
      long now = System.nanoTime();
      if (r != rows) {
        rows = r;
        movedAt = now;
      }
      if (rows > 0 && now - movedAt > STARTUP_QUIET_S * 1e9) {
        s.startupDownsampled = rows;
        bench.say(String.format(Locale.ROOT, "  start-up downsampling over: %,.0f rows of 1 min and 1 h written", rows));
        return;
      }
      Thread.sleep(200);
    }
    bench.problems.add(s.name + ": the downsampling job's first run did not finish within " + STARTUP_TIMEOUT_S
        + " s of the start (" + rows + " rows so far); it would have run during the measurement");
  }

  /**
   * Waits until the last window has closed, the write queue is empty and the rows written have not
   * moved for 1.5 s; the drain time is when they last moved, counted from the last answer.
   */
  private void awaitStored(Session s, Sampler sampler, long lastAnswer) throws Exception {
    long deadline = lastAnswer + (long) (o.drainTimeoutS * 1e9);
    double written = -1;
    long movedAt = lastAnswer;
    while (System.nanoTime() < deadline) {
      Map<String, Double> m = sampler.scrapeNow();
      long now = System.nanoTime();
      double w = m.getOrDefault(Sampler.STORE_ROWS_WRITTEN, -1.0);
      if (w != written) {
        written = w;
        movedAt = now;
      }
      if (m.getOrDefault(Sampler.STORE_QUEUE_DEPTH, -1.0) == 0 && now - lastAnswer > LAST_CLOSE_S * 1e9
          && now - movedAt > 1_500_000_000L) {
        s.storeAtEnd = m;
        s.drainSeconds = (movedAt - lastAnswer) / 1e9;
        bench.say(String.format(Locale.ROOT, "  every final stored %.1f s after the last answer (%,.0f rows written)",
            s.drainSeconds, w));
        return;
      }
      Thread.sleep(200);
    }
    s.storeAtEnd = sampler.scrapeNow();
    bench.say("  the write queue did not empty out within " + o.drainTimeoutS + " s");
  }

  /** The stream totals stored for this run, then the timed 24 h query of one series, over one keep-alive connection. */
  private void queryHistory(Session s, int port) throws Exception {
    AtomicLong opened = new AtomicLong();
    HttpClientAgent client = bench.vertx.httpClientBuilder()
        .with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true)
            .setKeepAliveTimeout(120))
        .with(new PoolOptions().setHttp1MaxSize(1))
        .withConnectHandler(c -> opened.incrementAndGet())
        .build();
    try {
      // exactness: every accepted event in exactly one stored stream-total window
      long from = Math.max(seeded.plan().end(), (s.startMillis - 1000) / 1000 * 1000);
      exactnessUrl = "/api/v1/streams/" + W1Workload.STREAM + "/series?from=" + from + "&to="
          + (System.currentTimeMillis() + 1000) + "&step=1s";
      JsonObject totals = get(client, exactnessUrl).toJsonObject();
      JsonArray series = totals.getJsonArray("series", new JsonArray());
      storedSum = 0;
      storedWindows = 0;
      for (int i = 0; i < series.size(); i++) {
        for (Object p : series.getJsonObject(i).getJsonArray("points")) {
          storedSum += ((JsonArray) p).getJsonObject(1).getLong("count");
          storedWindows++;
        }
      }
      if (series.size() > 1) {
        bench.problems.add("the stream-total history answer has " + series.size() + " series, not 1");
      }
      bench.say(String.format(Locale.ROOT, "  stored stream totals: %,d events in %d windows; accepted %,d", storedSum,
          storedWindows, s.accepted()));

      long end = seeded.plan().end();
      historyUrl = "/api/v1/streams/" + W1Workload.STREAM + "/series?from=" + (end - HistorySeed.DAY_MS) + "&to=" + end
          + "&step=1m&filter=region:r3,store:s042";
      double[] ms = new double[o.queries];
      for (int i = -o.queryWarmup; i < o.queries; i++) {
        long t0 = System.nanoTime();
        Buffer body = get(client, historyUrl);
        long t = System.nanoTime() - t0;
        if (i < 0) {
          continue;
        }
        ms[i] = t / 1e6;
        if (i > 0 && body.length() != historyBytes) {
          bench.problems.add("history answers differ: " + body.length() + " bytes, the first had " + historyBytes);
        }
        if (i == 0) {
          JsonArray ss = body.toJsonObject().getJsonArray("series");
          historySeries = ss.size();
          historyPoints = ss.isEmpty() ? 0 : ss.getJsonObject(0).getJsonArray("points").size();
          historyBytes = body.length();
        }
      }
      historyMs = ms;
      historyConnections = opened.get();
      double[] sorted = ms.clone();
      Arrays.sort(sorted);
      bench.say(String.format(Locale.ROOT, "  history query: median %.1f ms over %d, %d points", percentile(sorted, 50),
          ms.length, historyPoints));
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static Buffer get(HttpClientAgent client, String uri) throws Exception {
    return client.request(HttpMethod.GET, uri)
        .compose(req -> req.send())
        .compose(resp -> resp.body().compose(b -> resp.statusCode() == 200 ? io.vertx.core.Future.succeededFuture(b)
            : io.vertx.core.Future.failedFuture("GET " + uri + " answered " + resp.statusCode() + ": "
                + IngestDriver.abbreviate(b.toString()))))
        .await(60, TimeUnit.SECONDS);
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double pct) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(pct / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  // ---------------------------------------------------------------------------------------------
  // report

  private int report(String stamp) throws java.io.IOException {
    line("W1 storage benchmark — Pulse ingest with PostgreSQL storage on vs off, and a 24 h history query");
    line("run " + stamp + ", " + CORES + " cores, Java " + System.getProperty("java.version")
        + ", generator + Pulse + PostgreSQL + subscribers on one machine");
    line(String.format(Locale.ROOT,
        "workload: stream w1, %d series (region 10 x store 100), NDJSON batches of %,d events, %.0f B/event, %.1f kB/body",
        W1Workload.SERIES, o.batch, workload.meanBodyBytes() / o.batch, workload.meanBodyBytes() / 1024));
    line(String.format(Locale.ROOT,
        "load: %d keep-alive HTTP/1.1 connections, %d WebSocket subscribers (half groupBy region, half stream total)%s",
        o.connections, o.subscribers, o.quick ? ", QUICK smoke run (short phases: figures are rough)" : ""));
    line(String.format(Locale.ROOT, "other processes' CPU in the 2 s before the run: %.0f%% of the machine", othersBefore * 100));
    line(String.format(Locale.ROOT, "order: storage %s — each a fresh Pulse, warm-up %.0f s then max %.0f s (closed loop); "
        + "on = embedded PostgreSQL in a temporary folder, off = PULSE_STORAGE=false", orderText(o.order).replace(",", ", "),
        o.warmupS, o.maxS));
    json.put("run", new JsonObject().put("stamp", stamp).put("cores", CORES)
        .put("java", System.getProperty("java.version")).put("options", o.toJson())
        .put("otherLoadBeforeStart", nan(othersBefore)).put("jarModified", Bench.jarModified(o.jar))
        .put("meanBodyBytes", workload.meanBodyBytes()));
    if (seeded != null) {
      line(String.format(Locale.ROOT, "seeded before the run with storage, in %.1f s: %s", seeded.seconds(),
          seeded.describe()));
      json.put("seed", new JsonObject().put("end", seeded.plan().end()).put("minuteRows", seeded.minuteRows())
          .put("secondRows", seeded.secondRows()).put("dataBytes", seeded.dataBytes()).put("seconds", seeded.seconds())
          .put("othersMinutes", seeded.plan().othersMinutes()).put("othersSeconds", seeded.plan().othersSeconds())
          .put("database", seeded.database()));
    }

    JsonArray runs = new JsonArray();
    for (Session s : sessions) {
      if (s.max == null || s.max.endNanos == 0) {
        continue;
      }
      line("");
      line(String.format(Locale.ROOT, "Pulse, %s — max throughput (closed loop, %d connections, %.1f s)", s.name,
          o.connections, s.max.seconds()));
      JsonObject r = new JsonObject();
      if (s.startup != null) {
        PhaseStats st = s.startup;
        double serverCpu = st.serverCpuShare(CORES) * CORES * st.seconds();
        double dbCpu = st.dbCpuShare(CORES) * CORES * st.seconds();
        line(String.format(Locale.ROOT, "  before the load       waited %.1f s for the downsampling job's first run (5 s after the "
            + "start) to catch up on the seeded day: %,.0f rows written (1 min rows of its last minute from their 1 s rows, "
            + "1 h rows of its complete hours from their 1 min rows)", st.seconds(), s.startupDownsampled));
        line(String.format(Locale.ROOT, "                        server CPU %.1f core-s, PostgreSQL %.1f core-s; not in the measured "
            + "phases (in steady state the job merges each minute once a minute, each hour once an hour)", serverCpu, dbCpu));
        r.put("startup", new JsonObject().put("downsampledRows", s.startupDownsampled).put("seconds", st.seconds())
            .put("serverCpuSeconds", nan(serverCpu)).put("postgresCpuSeconds", nan(dbCpu)));
      }
      bench.ingestLines(s.max);
      bench.serverLines(s.max, true);
      r.put("name", s.name).put("storage", s.storage).put("log", s.log)
          .put("max", bench.phaseJson(s.max, true)).put("accepted", s.accepted())
          .put("connectionsOpened", s.connectionsOpened).put("subscribersConnected", s.subsConnected)
          .put("subscribersClosedByServer", s.subsClosedByServer);
      if (s.storage) {
        r.put("store", storeLines(s));
      }
      runs.add(r);
    }
    json.put("runs", runs);

    if (historyMs.length > 0) {
      double[] sorted = historyMs.clone();
      Arrays.sort(sorted);
      line("");
      line("History query (the Pulse with storage, after its drain)");
      line("  GET " + historyUrl);
      line(String.format(Locale.ROOT, "  = 24 h ending %s (the end of the seeded day) of region r3, store s042 at 1 min step",
          Instant.ofEpochMilli(seeded.plan().end())));
      line(String.format(Locale.ROOT, "  latency               p50 %.1f ms  p90 %.1f ms  max %.1f ms  (n=%d after %d warm-up; "
              + "one client, %d connection(s) opened)", percentile(sorted, 50), percentile(sorted, 90),
          sorted[sorted.length - 1], sorted.length, o.queryWarmup, historyConnections));
      line(String.format(Locale.ROOT, "  answer                %d series, %,d points (1,440 seeded), %,.1f kB", historySeries,
          historyPoints, historyBytes / 1024.0));
      JsonArray all = new JsonArray();
      for (double d : historyMs) {
        all.add(d);
      }
      json.put("history", new JsonObject().put("uri", historyUrl).put("p50Ms", percentile(sorted, 50))
          .put("p90Ms", percentile(sorted, 90)).put("maxMs", sorted[sorted.length - 1]).put("series", historySeries)
          .put("points", historyPoints).put("bytes", historyBytes).put("connectionsOpened", historyConnections)
          .put("latenciesMs", all));
    }

    // checks
    line("");
    line("Checks");
    List<PhaseStats> phases = new ArrayList<>();
    sessions.forEach(s -> phases.addAll(Arrays.asList(s.startup, s.warmup, s.max, s.drain)));
    JsonObject checks = bench.ingestChecks(phases.toArray(new PhaseStats[0]));
    List<String> conns = new ArrayList<>();
    List<String> subsLine = new ArrayList<>();
    for (Session s : sessions) {
      conns.add(s.name + " " + s.connectionsOpened);
      subsLine.add(String.format(Locale.ROOT, "%s %d/%d (closed by server %d)", s.name, s.subsConnected, o.subscribers,
          s.subsClosedByServer));
    }
    line(String.format(Locale.ROOT, "  HTTP connections opened: %s (pool of %d; more means keep-alive broke)",
        String.join(", ", conns), o.connections));
    line("  subscribers connected: " + String.join(", ", subsLine));
    Session on = sessions.stream().filter(s -> s.storage).findFirst().orElse(null);
    boolean exact = false;
    if (on != null && storedSum >= 0) {
      exact = storedSum == on.accepted();
      line(String.format(Locale.ROOT, "  stored stream totals (GET %s): %,d events in %d windows, accepted by that Pulse %,d  %s",
          exactnessUrl, storedSum, storedWindows, on.accepted(), exact ? "OK" : "MISMATCH"));
      Double counted = on.metrics.get("pulse_events_accepted_total{stream=\"w1\",tenant=\"default\"}");
      if (counted != null) {
        line(String.format(Locale.ROOT, "  its pulse_events_accepted_total{stream=w1}: %,.0f%s", counted,
            counted.longValue() == on.accepted() ? "  OK" : "  (differs from the generator's sum)"));
      }
      checks.put("storedTotals", new JsonObject().put("uri", exactnessUrl).put("sum", storedSum)
          .put("windows", storedWindows).put("accepted", on.accepted()).put("exact", exact));
    } else if (on != null) {
      line("  stored stream totals: not read");
    }
    json.put("checks", checks);

    // targets
    line("");
    line("Targets");
    boolean miss = false;
    JsonObject targets = new JsonObject();
    List<Session> offs = sessions.stream().filter(s -> !s.storage && s.max != null && s.max.endNanos > 0).toList();
    if (on != null && on.max != null && on.max.endNanos > 0 && !offs.isEmpty()) {
      double off = offs.stream().mapToDouble(s -> s.max.eventsPerSecond()).average().orElse(0);
      double ratio = on.max.eventsPerSecond() / off;
      boolean pass = ratio >= TARGET_RATIO;
      miss |= !pass;
      String spread = "";
      double drift = 0;
      if (offs.size() > 1) {
        double lo = offs.stream().mapToDouble(s -> s.max.eventsPerSecond()).min().orElse(0);
        double hi = offs.stream().mapToDouble(s -> s.max.eventsPerSecond()).max().orElse(0);
        drift = (hi - lo) / off;
        spread = String.format(Locale.ROOT, "; the runs without differ by %.1f%%", 100 * drift);
      }
      line(String.format(Locale.ROOT, "  ingest with storage >= %.0f%% of without: %,.0f / %,.0f events/s (mean of %d run%s without%s) = %.1f%%  %s",
          TARGET_RATIO * 100, on.max.eventsPerSecond(), off, offs.size(), offs.size() > 1 ? "s" : "", spread, ratio * 100,
          pass ? "PASS" : "MISS"));
      if (drift > MAX_DRIFT) {
        line(String.format(Locale.ROOT, "    WARNING: the runs without storage differ by more than %.0f%%, so the ratio says little; "
            + "rerun%s on a quiet machine", MAX_DRIFT * 100, o.quick ? " without --quick" : ""));
      }
      targets.put("ratio", new JsonObject().put("value", ratio).put("target", TARGET_RATIO).put("pass", pass)
          .put("withStorage", on.max.eventsPerSecond()).put("withoutStorageMean", off).put("withoutStorageDrift", drift));
    } else {
      line("  ingest with vs without storage: not measured");
    }
    if (on != null && on.storeAtMaxEnd != null) {
      JsonObject keep = keepsUp(on);
      miss |= !keep.getBoolean("pass");
      targets.put("keepsUp", keep);
      if (storedSum >= 0) {
        miss |= !exact;
        line("  every accepted event in exactly one stored total window: " + (exact ? "OK  PASS" : "MISMATCH  MISS"));
        targets.put("exact", new JsonObject().put("pass", exact));
      }
    }
    if (historyMs.length > 0) {
      double[] sorted = historyMs.clone();
      Arrays.sort(sorted);
      double p50 = percentile(sorted, 50);
      boolean pointsOk = historyPoints == 1440 && historySeries == 1;
      boolean pass = p50 < TARGET_QUERY_MS && pointsOk;
      miss |= !pass;
      line(String.format(Locale.ROOT, "  history, 24 h of one series at 1 min, median < %.0f ms: %.1f ms (p90 %.1f, max %.1f; %,d points%s)  %s",
          TARGET_QUERY_MS, p50, percentile(sorted, 90), sorted[sorted.length - 1], historyPoints,
          pointsOk ? "" : ", not the 1,440 seeded", pass ? "PASS" : "MISS"));
      targets.put("history", new JsonObject().put("p50Ms", p50).put("targetMs", TARGET_QUERY_MS).put("points", historyPoints)
          .put("pass", pass));
    } else if (on != null) {
      line("  history query: not measured");
    }
    json.put("targets", targets);
    return bench.finish(TAG, stamp, o.reportDir, json, targets, miss);
  }

  /** What the run with storage's /metrics said about the store: the max phase's edges, the samples, the end. */
  private record Store(double written, double produced, double downsampled, double depthMax, double depthAtMaxEnd,
      double allWritten, double failed, double retried) {

    static Store of(Session s) {
      Map<String, Double> a = s.storeAtMaxStart;
      Map<String, Double> b = s.storeAtMaxEnd;
      Map<String, Double> end = s.storeAtEnd != null ? s.storeAtEnd : b;
      double written = delta(a, b, Sampler.STORE_ROWS_WRITTEN);
      double produced = written + delta(a, b, Sampler.STORE_ROWS_FAILED) + delta(a, b, Sampler.STORE_QUEUE_DEPTH);
      double depthMax = Math.max(a.getOrDefault(Sampler.STORE_QUEUE_DEPTH, 0.0), b.getOrDefault(Sampler.STORE_QUEUE_DEPTH, 0.0));
      for (PhaseStats p : new PhaseStats[] {s.warmup, s.max, s.drain}) {
        double m = p == null ? Double.NaN : PhaseStats.max(p.storeQueueDepth);
        depthMax = Double.isNaN(m) ? depthMax : Math.max(depthMax, m);
      }
      return new Store(written, produced, delta(a, b, Sampler.STORE_DOWNSAMPLED), depthMax,
          b.getOrDefault(Sampler.STORE_QUEUE_DEPTH, Double.NaN), end.getOrDefault(Sampler.STORE_ROWS_WRITTEN, Double.NaN),
          end.getOrDefault(Sampler.STORE_ROWS_FAILED, 0.0), end.getOrDefault(Sampler.STORE_ROWS_RETRIED, 0.0));
    }
  }

  /** The run with storage's store lines; returns their figures for the JSON. */
  private JsonObject storeLines(Session s) {
    if (s.storeAtMaxStart == null || s.storeAtMaxEnd == null) {
      return new JsonObject();
    }
    Store st = Store.of(s);
    double secs = s.max.seconds();
    line(String.format(Locale.ROOT, "  store, max phase      rows written %,.0f = %,.0f/s, finals produced %,.0f = %,.0f/s "
            + "(written + queue growth + failed; either may be off by one window at the phase's edges); "
            + "expected %,d/s: each series and the stream total, a window a second",
        st.written(), st.written() / secs, st.produced(), st.produced() / secs, ROWS_PER_WINDOW));
    line(String.format(Locale.ROOT, "  store queue depth     max %,.0f over the run (sampled 1/s and at the max phase's edges), "
        + "%,.0f at the end of the max phase", st.depthMax(), st.depthAtMaxEnd()));
    line(String.format(Locale.ROOT, "  downsampling          %,.0f rows of 1 min written during the max phase (the background job, "
        + "once a minute)", st.downsampled()));
    line(String.format(Locale.ROOT, "  after the load        %s; rows written in all %,.0f, failed %,.0f, retried %,.0f",
        Double.isNaN(s.drainSeconds) ? "the queue did NOT empty out within " + o.drainTimeoutS + " s"
            : String.format(Locale.ROOT, "queue empty, every final written %.1f s after the last answer", s.drainSeconds),
        st.allWritten(), st.failed(), st.retried()));
    if (s.drain != null && !Double.isNaN(s.drain.dbCpuShare(CORES))) {
      line(String.format(Locale.ROOT, "  drain                 %.1f s: server CPU %.2f cores, PostgreSQL CPU %.2f cores",
          s.drain.seconds(), s.drain.serverCpuShare(CORES) * CORES, s.drain.dbCpuShare(CORES) * CORES));
    }
    return new JsonObject().put("maxPhaseRowsWritten", st.written()).put("maxPhaseRowsProduced", st.produced())
        .put("maxPhaseDownsampledRows", st.downsampled()).put("queueDepthMax", st.depthMax())
        .put("drainSeconds", nan(s.drainSeconds)).put("rowsWritten", nan(st.allWritten())).put("rowsFailed", st.failed())
        .put("rowsRetried", st.retried());
  }

  /**
   * Storage kept up: a short queue all along, every final written soon after the load, nothing
   * failed, and one row per series and window.
   */
  private JsonObject keepsUp(Session s) {
    Store st = Store.of(s);
    double depthLimit = QUEUE_LIMIT_S * ROWS_PER_WINDOW;
    // each body holds every series once and lands in one window: a window with events stores every series and the total
    boolean fullWindows = o.batch % W1Workload.SERIES == 0 && storedSum >= 0;
    long expected = (long) storedWindows * ROWS_PER_WINDOW;
    boolean rowsOk = !fullWindows || st.allWritten() == expected;
    boolean drained = !Double.isNaN(s.drainSeconds) && s.drainSeconds <= DRAIN_LIMIT_S;
    boolean pass = st.depthMax() <= depthLimit && drained && st.failed() == 0 && rowsOk;
    line(String.format(Locale.ROOT, "  storage keeps up at the max rate: queue max %,.0f <= %,.0f (%.0f s of finals), every final "
            + "written %s after the load (<= %.0f s), %,.0f failed, rows %,.0f%s  %s",
        st.depthMax(), depthLimit, QUEUE_LIMIT_S,
        Double.isNaN(s.drainSeconds) ? "NOT" : String.format(Locale.ROOT, "%.1f s", s.drainSeconds), DRAIN_LIMIT_S,
        st.failed(), st.allWritten(), !fullWindows ? "" : String.format(Locale.ROOT, " %s %d windows x %,d",
            rowsOk ? "=" : "!=", storedWindows, ROWS_PER_WINDOW), pass ? "PASS" : "MISS"));
    return new JsonObject().put("pass", pass).put("queueDepthMax", st.depthMax()).put("queueDepthLimit", depthLimit)
        .put("drainSeconds", nan(s.drainSeconds)).put("drainLimitSeconds", DRAIN_LIMIT_S).put("failed", st.failed())
        .put("rowsWritten", nan(st.allWritten())).put("rowsExpected", fullWindows ? expected : null);
  }

  private static double delta(Map<String, Double> a, Map<String, Double> b, String key) {
    return b.getOrDefault(key, 0.0) - a.getOrDefault(key, 0.0);
  }

  private void line(String s) {
    bench.line(s);
  }
}

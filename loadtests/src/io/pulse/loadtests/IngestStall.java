package io.pulse.loadtests;

import io.pulse.core.StreamId;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.IngestJob;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import org.HdrHistogram.Histogram;

/**
 * How long one large ingest body holds Pulse's event loop. Pulse runs as a child JVM with one
 * processor ({@code -XX:ActiveProcessorCount=1}), so its one event loop hosts the HTTP verticle, the
 * shard and every socket. A probe sends {@code GET /health/live} back to back over its own keep-alive
 * connection: each answer needs a turn of that loop, so the longest probe round trip is the longest
 * time the loop did nothing else (plus a round trip on loopback). Phases, in one run:
 *
 * <ol>
 *   <li>idle: the probe alone;
 *   <li>small: W1-like NDJSON bodies of 50 events, closed loop (the baseline of the same run);
 *   <li>json-16MiB: JSON arrays of just under 16 MiB (ingest.maxBodyBytes), one after another;
 *   <li>ndjson-16MiB: the same events as NDJSON.
 * </ol>
 *
 * Each phase ends 1.5 s after its last answer, so the work a body leaves to the shard counts in it.
 * Every answer must be 202 with every event accepted. The report (longest and p99.9 probe round trip
 * per phase, time per request) goes to stdout and {@code loadtests/reports/ingest-stall-<time>.txt}.
 *
 * <pre>loadtests/bench.sh IngestStall [--bodies 4] [--small-seconds 5] [--quick]</pre>
 */
public final class IngestStall {

  private static final String STREAM = "stall";
  /** Below ingest.maxBodyBytes (16 MiB) with room to spare; events of ~190 bytes keep the count under 100,000. */
  /** Recorded after a phase's last answer: the shard folds in a body after Pulse has answered it. */
  private static final long SETTLE_MS = 1500;
  private static final int BIG_BYTES = 16 * 1024 * 1024 - 64 * 1024;

  public static void main(String[] args) throws Exception {
    int bodies = 4;
    double smallSeconds = 5;
    String jar = "target/pulse.jar";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--bodies" -> bodies = Integer.parseInt(args[++i]);
        case "--small-seconds" -> smallSeconds = Double.parseDouble(args[++i]);
        case "--quick" -> {
          bodies = 2;
          smallSeconds = 2;
        }
        case "--jar" -> jar = args[++i];
        case "--help" -> {
          System.out.println("loadtests/bench.sh IngestStall [--bodies N (4)] [--small-seconds S (5)] [--quick] [--jar PATH]");
          return;
        }
        default -> {
          System.err.println("unknown option " + args[i] + "; --help lists them");
          System.exit(64);
        }
      }
    }
    System.exit(run(jar, bodies, smallSeconds));
  }

  private static int run(String jar, int bodies, double smallSeconds) throws Exception {
    Path runDir = Files.createTempDirectory("pulse-stall");
    Path data = runDir.resolve("data");
    Path gcLog = runDir.resolve("gc.log");
    List<String> cmd = List.of(Bench.javaBin(), "-Xmx1g", "-XX:ActiveProcessorCount=1", "-XX:+UseG1GC",
        "-Xlog:gc:file=" + gcLog + ":time", "-jar", jar);
    int port = ChildServer.freePort();
    Map<String, String> env = Map.of("PULSE_HTTP_PORT", String.valueOf(port), "PULSE_HTTP_HOST", "127.0.0.1",
        "PULSE_DEMO", "false", "PULSE_STORAGE", "false", "PULSE_DATA_DIR", data.toString());
    say("starting Pulse: " + String.join(" ", cmd) + " on 127.0.0.1:" + port + " (storage off)");
    StringBuilder report = new StringBuilder();
    int exit = 0;
    try (ChildServer pulse = ChildServer.start("pulse", cmd, env, port, runDir.resolve("pulse.log"))) {
      pulse.awaitReady("/health/ready", Duration.ofSeconds(60));
      String base = "http://127.0.0.1:" + port;
      SplittableRandom rnd = new SplittableRandom(7);
      byte[][] small = new byte[16][];
      for (int i = 0; i < small.length; i++) {
        small[i] = body(rnd, 50, Integer.MAX_VALUE).getBytes(StandardCharsets.UTF_8);
      }
      byte[] bigNd = body(rnd, Integer.MAX_VALUE, BIG_BYTES).getBytes(StandardCharsets.UTF_8);
      int bigEvents = count(bigNd);
      String nd = new String(bigNd, StandardCharsets.UTF_8);
      byte[] bigJson = ("[" + nd.strip().replace("\n", ",") + "]").getBytes(StandardCharsets.UTF_8);
      say(String.format(Locale.ROOT, "bodies: small %d events (~%d bytes); large %,d events, NDJSON %,d bytes, JSON %,d bytes",
          50, small[0].length, bigEvents, bigNd.length, bigJson.length));

      HttpClient poster = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      Probe probe = new Probe(base);
      Thread probeThread = new Thread(probe, "probe");
      probeThread.setDaemon(true);
      probeThread.start();

      // warm-up, not reported: the JIT compiles the ingest path for both body sizes
      post(poster, base, small[0], "application/x-ndjson", 50);
      long until = System.nanoTime() + 3_000_000_000L;
      for (int i = 0; System.nanoTime() < until; i++) {
        post(poster, base, small[i % small.length], "application/x-ndjson", 50);
      }
      post(poster, base, bigNd, "application/x-ndjson", bigEvents);
      post(poster, base, bigJson, "application/json", bigEvents);

      List<Object[]> rows = new ArrayList<>();

      Thread.sleep(3000); // the shard may still fold in the last body after its answer
      probe.phase(); // drops the warm-up
      long phaseStart = System.currentTimeMillis();
      Thread.sleep(2000); // the idle phase: two seconds of the probe alone are what it measures
      rows.add(row("idle", 0, 0, 0, probe.phase(), phaseStart));
      phaseStart = System.currentTimeMillis();

      until = System.nanoTime() + (long) (smallSeconds * 1e9);
      long t0 = System.nanoTime();
      int n = 0;
      while (System.nanoTime() < until) {
        post(poster, base, small[n % small.length], "application/x-ndjson", 50);
        n++;
      }
      double smallMs = (System.nanoTime() - t0) / 1e6 / n;
      Thread.sleep(SETTLE_MS); // the phase's tail: the shard's work after the last answer is measured in it
      rows.add(row("small (50 ev)", n, n * 50L, smallMs, probe.phase(), phaseStart));
      phaseStart = System.currentTimeMillis();

      t0 = System.nanoTime();
      for (int i = 0; i < bodies; i++) {
        post(poster, base, bigJson, "application/json", bigEvents);
      }
      double jsonMs = (System.nanoTime() - t0) / 1e6 / bodies;
      Thread.sleep(SETTLE_MS); // what the shard does with the last body after its answer belongs to this phase
      rows.add(row("json-16MiB", bodies, (long) bodies * bigEvents, jsonMs, probe.phase(), phaseStart));
      phaseStart = System.currentTimeMillis();

      t0 = System.nanoTime();
      for (int i = 0; i < bodies; i++) {
        post(poster, base, bigNd, "application/x-ndjson", bigEvents);
      }
      double ndMs = (System.nanoTime() - t0) / 1e6 / bodies;
      Thread.sleep(SETTLE_MS); // what the shard does with the last body after its answer belongs to this phase
      rows.add(row("ndjson-16MiB", bodies, (long) bodies * bigEvents, ndMs, probe.phase(), phaseStart));
      probe.stop.set(true);
      probeThread.join(5000);
      if (probe.failure != null) {
        throw new IOException("the probe failed: " + probe.failure);
      }
      Bench.checkAlive(pulse);

      String inProcess = inProcess(bigJson, bigNd, bodies);
      report.append("IngestStall ").append(LocalDateTime.now()).append(" jar ").append(jar)
          .append(" (modified ").append(Bench.jarModified(jar)).append(")\n");
      report.append("Pulse: one processor (one event loop for HTTP, the shard and sockets), storage off; the probe is "
          + "GET /health/live back to back on its own connection\n");
      report.append("GC: the longest pause of Pulse's JVM in the phase (-Xlog:gc); a pause stops the loop too, but it is "
          + "not the loop held by a request\n");
      report.append(String.format(Locale.ROOT, "%-14s %9s %12s %12s %15s %17s %15s%n", "phase", "requests", "events",
          "ms/request", "probe p99.9 ms", "probe longest ms", "GC longest ms"));
      List<long[]> pauses = gcPauses(gcLog);
      for (Object[] r : rows) {
        Histogram h = (Histogram) r[4];
        long from = (Long) r[5];
        long to = (Long) r[6];
        double gc = 0;
        for (long[] pause : pauses) {
          if (pause[0] >= from && pause[0] <= to) {
            gc = Math.max(gc, pause[1] / 1000.0);
          }
        }
        report.append(String.format(Locale.ROOT, "%-14s %9d %12d %12.1f %15.2f %17.2f %15.2f%n", r[0], r[1], r[2], r[3],
            h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6, gc));
      }
      report.append(inProcess);
    } catch (IOException | RuntimeException e) {
      System.out.println("[stall] the run went wrong: " + e.getMessage());
      exit = 2;
    } finally {
      Bench.deleteTree(runDir);
    }
    if (exit == 0) {
      System.out.print(report);
      Path dir = Paths.get("loadtests/reports");
      Files.createDirectories(dir);
      Path out = dir.resolve("ingest-stall-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
          + ".txt");
      Files.writeString(out, report.toString());
      say("report: " + out);
    }
    return exit;
  }

  private static Object[] row(String name, int requests, long events, double msPerRequest, Histogram h, long from) {
    return new Object[] {name, requests, events, msPerRequest, h, from, System.currentTimeMillis()};
  }

  /**
   * The same large bodies in this JVM, without HTTP: the CPU time of the thread (so neither other
   * processes nor GC pauses count) and the wall time of taking a body in one go, as before slicing,
   * and of the longest single step of an {@link IngestJob}, and of the longest turn a shard spends
   * on one step's batch.
   */
  private static String inProcess(byte[] json, byte[] nd, int rounds) {
    PulseConfig config = PulseConfig.of(null);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StreamCatalog catalog = new StreamCatalog(config.aggregation().maxStreams(),
        config.aggregation().maxSeriesPerStream(), registry);
    ViewRegistry views = new ViewRegistry(config);
    Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 1, registry);
    EventParser parser = new EventParser(config.ingest());
    ShardAggregator shard = new ShardAggregator(config.aggregation().allowedLatenessMs(), 0.01, 2048, views::views);
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
        "in-process, the same bodies (best of %d rounds after one warm-up; ms, thread CPU / wall):%n", rounds));
    out.append(String.format(Locale.ROOT, "%-8s %22s %22s %8s %22s%n", "body", "one go (parse+route)",
        "longest IngestJob step", "steps", "longest shard batch"));
    for (Object[] f : new Object[][] {{"json", json, BodyFormat.JSON}, {"ndjson", nd, BodyFormat.NDJSON}}) {
      double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, 0, Double.MAX_VALUE,
          Double.MAX_VALUE};
      for (int r = 0; r <= rounds; r++) {
        long now = System.currentTimeMillis();
        long c0 = CPU.getCurrentThreadCpuTime();
        long w0 = System.nanoTime();
        Ingestor.Outcome whole = ingestor.ingest(parser.parse((byte[]) f[1], (BodyFormat) f[2], StreamId.DEFAULT_TENANT, null, now), StreamId.DEFAULT_TENANT, now, "bench");
        double oneCpu = (CPU.getCurrentThreadCpuTime() - c0) / 1e6;
        double oneWall = (System.nanoTime() - w0) / 1e6;
        shard.add(whole.batches()[0], now);
        shard.flush(0, now + 10_000);
        IngestJob job = new IngestJob(parser, ingestor, (byte[]) f[1], (BodyFormat) f[2], io.pulse.core.StreamId.DEFAULT_TENANT, null, now, "bench");
        double stepCpu = 0;
        double stepWall = 0;
        double shardCpu = 0;
        double shardWall = 0;
        int steps = 0;
        while (!job.done()) {
          c0 = CPU.getCurrentThreadCpuTime();
          w0 = System.nanoTime();
          ShardBatch[] b = job.step();
          stepCpu = Math.max(stepCpu, (CPU.getCurrentThreadCpuTime() - c0) / 1e6);
          stepWall = Math.max(stepWall, (System.nanoTime() - w0) / 1e6);
          steps++;
          if (b.length > 0) {
            c0 = CPU.getCurrentThreadCpuTime();
            w0 = System.nanoTime();
            shard.add(b[0], now);
            shardCpu = Math.max(shardCpu, (CPU.getCurrentThreadCpuTime() - c0) / 1e6);
            shardWall = Math.max(shardWall, (System.nanoTime() - w0) / 1e6);
          }
        }
        shard.flush(0, now + 10_000);
        if (r > 0) {
          best = new double[] {Math.min(best[0], oneCpu), Math.min(best[1], oneWall), Math.min(best[2], stepCpu),
              Math.min(best[3], stepWall), steps, Math.min(best[5], shardCpu), Math.min(best[6], shardWall)};
        }
      }
      out.append(String.format(Locale.ROOT, "%-8s %22s %22s %8d %22s%n", f[0], pair(best[0], best[1]),
          pair(best[2], best[3]), (int) best[4], pair(best[5], best[6])));
    }
    return out.toString();
  }

  private static String pair(double cpu, double wall) {
    return String.format(Locale.ROOT, "%.1f / %.1f", cpu, wall);
  }

  private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

  /** GC pauses from a -Xlog:gc file with the time decoration: [epoch ms at its end, length in µs]. */
  private static List<long[]> gcPauses(Path log) throws IOException {
    List<long[]> out = new ArrayList<>();
    java.util.regex.Pattern line = java.util.regex.Pattern.compile("^\\[([^\\]]+)\\].* Pause .* ([0-9.]+)ms$");
    DateTimeFormatter at = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    if (!Files.exists(log)) {
      return out;
    }
    for (String l : Files.readAllLines(log)) {
      java.util.regex.Matcher m = line.matcher(l);
      if (m.matches()) {
        long end = java.time.OffsetDateTime.parse(m.group(1), at).toInstant().toEpochMilli();
        out.add(new long[] {end, (long) (Double.parseDouble(m.group(2)) * 1000)});
      }
    }
    return out;
  }

  /** Events of ~190 bytes: three dims, three values and a note, no ts (arrival time, so never late). */
  private static String body(SplittableRandom rnd, int maxEvents, int maxBytes) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < maxEvents; i++) {
      String ev = String.format(Locale.ROOT,
          "{\"stream\":\"%s\",\"dims\":{\"region\":\"r%d\",\"store\":\"s%03d\",\"device\":\"d%02d\"},"
              + "\"values\":{\"amount\":%.2f,\"items\":%d,\"ms\":%.1f},\"note\":\"%s\"}\n",
          STREAM, rnd.nextInt(10), rnd.nextInt(100), rnd.nextInt(40), Math.exp(3.5 + rnd.nextGaussian()),
          1 + rnd.nextInt(10), rnd.nextDouble(1, 900), "x".repeat(40 + rnd.nextInt(20)));
      if (b.length() + ev.length() > maxBytes) {
        break;
      }
      b.append(ev);
    }
    return b.toString();
  }

  private static int count(byte[] nd) {
    int n = 0;
    for (byte c : nd) {
      if (c == '\n') {
        n++;
      }
    }
    return n;
  }

  private static void post(HttpClient client, String base, byte[] body, String type, int events)
      throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/events"))
        .header("Content-Type", type).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202 || !r.body().startsWith("{\"accepted\":" + events + ",\"rejected\":0")) {
      throw new IOException("POST answered " + r.statusCode() + " " + Bench.shorten(r.body()));
    }
  }

  private static void say(String s) {
    System.out.println("[stall] " + s);
  }

  /** GET /health/live back to back; each round trip goes into the histogram of the current phase. */
  private static final class Probe implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final HttpRequest ping;
    private volatile Histogram current = new Histogram(60_000_000_000L, 3);
    volatile String failure;

    Probe(String base) {
      ping = HttpRequest.newBuilder(URI.create(base + "/health/live")).timeout(Duration.ofSeconds(30)).GET().build();
    }

    /** The histogram of the phase that just ended; a fresh one records from now on. */
    synchronized Histogram phase() {
      Histogram done = current;
      current = new Histogram(60_000_000_000L, 3);
      return done;
    }

    @Override
    public void run() {
      while (!stop.get()) {
        long t0 = System.nanoTime();
        try {
          HttpResponse<Void> r = client.send(ping, HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() != 200) {
            failure = "health/live answered " + r.statusCode();
            return;
          }
        } catch (IOException | InterruptedException e) {
          failure = e.toString();
          return;
        }
        long dt = System.nanoTime() - t0;
        synchronized (this) {
          current.recordValue(Math.min(dt, current.getHighestTrackableValue()));
        }
      }
    }
  }
}

package io.pulse.loadtests;

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
    List<String> cmd = List.of(Bench.javaBin(), "-Xmx1g", "-XX:ActiveProcessorCount=1", "-XX:+UseG1GC", "-jar", jar);
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

      List<String> rows = new ArrayList<>();
      rows.add(String.format(Locale.ROOT, "%-14s %9s %12s %14s %16s %18s", "phase", "requests", "events",
          "ms/request", "probe p99.9 ms", "probe longest ms"));

      Thread.sleep(3000); // the shard may still fold in the last body after its answer
      probe.phase(); // drops the warm-up
      Thread.sleep(2000);
      rows.add(row("idle", 0, 0, 0, probe.phase()));

      until = System.nanoTime() + (long) (smallSeconds * 1e9);
      long t0 = System.nanoTime();
      int n = 0;
      while (System.nanoTime() < until) {
        post(poster, base, small[n % small.length], "application/x-ndjson", 50);
        n++;
      }
      double smallMs = (System.nanoTime() - t0) / 1e6 / n;
      Thread.sleep(SETTLE_MS);
      rows.add(row("small (50 ev)", n, n * 50L, smallMs, probe.phase()));

      t0 = System.nanoTime();
      for (int i = 0; i < bodies; i++) {
        post(poster, base, bigJson, "application/json", bigEvents);
      }
      double jsonMs = (System.nanoTime() - t0) / 1e6 / bodies;
      Thread.sleep(SETTLE_MS); // what the shard does with the last body after its answer belongs to this phase
      rows.add(row("json-16MiB", bodies, (long) bodies * bigEvents, jsonMs, probe.phase()));

      t0 = System.nanoTime();
      for (int i = 0; i < bodies; i++) {
        post(poster, base, bigNd, "application/x-ndjson", bigEvents);
      }
      double ndMs = (System.nanoTime() - t0) / 1e6 / bodies;
      Thread.sleep(SETTLE_MS); // what the shard does with the last body after its answer belongs to this phase
      rows.add(row("ndjson-16MiB", bodies, (long) bodies * bigEvents, ndMs, probe.phase()));
      probe.stop.set(true);
      probeThread.join(5000);
      if (probe.failure != null) {
        throw new IOException("the probe failed: " + probe.failure);
      }
      Bench.checkAlive(pulse);

      report.append("IngestStall ").append(LocalDateTime.now()).append(" jar ").append(jar)
          .append(" (modified ").append(Bench.jarModified(jar)).append(")\n");
      report.append("Pulse: one processor (one event loop for HTTP, the shard and sockets), storage off; the probe is "
          + "GET /health/live back to back on its own connection\n");
      for (String r : rows) {
        report.append(r).append('\n');
      }
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

  private static String row(String name, int requests, long events, double msPerRequest, Histogram h) {
    return String.format(Locale.ROOT, "%-14s %9d %12d %14.1f %16.2f %18.2f", name, requests, events, msPerRequest,
        h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
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

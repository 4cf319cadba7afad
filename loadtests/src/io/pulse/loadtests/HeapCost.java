package io.pulse.loadtests;

import io.pulse.config.PulseConfig;
import io.pulse.verticles.Pulse;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Retained heap per item in a running Pulse (in this JVM, storage off, demo off): per idle series
 * (its windows closed, the series kept), per active series (a window open), per idle SSE
 * connection and per WebSocket subscriber (one subscription each, all on one view, so the figure is
 * the connection's own cost). Heap is read after {@code System.gc()} from the MemoryMXBean, the
 * median of 5 readings; the clients run in a child JVM over raw sockets, so their memory is not
 * counted. Anomaly detection is on, as by default (a series' detectors are part of its cost);
 * {@code --detect off} measures without it.
 *
 * <pre>loadtests/bench.sh HeapCost [--series 10000] [--connections 1000] [--detect on|off]</pre>
 */
public final class HeapCost {

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--clients")) {
      clients(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      return;
    }
    int series = 10_000;
    int connections = 1_000;
    boolean detect = true;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--series" -> series = Integer.parseInt(args[i + 1]);
        case "--connections" -> connections = Integer.parseInt(args[i + 1]);
        case "--detect" -> detect = !"off".equals(args[i + 1]);
        default -> {
          System.err.println("usage: HeapCost [--series N] [--connections N] [--detect on|off]");
          System.exit(64);
        }
      }
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JsonObject conf = new JsonObject().put("demo", false).put("auth", new JsonObject().put("enabled", false))
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port))
        .put("storage", new JsonObject().put("enabled", false))
        .put("detect", new JsonObject().put("enabled", detect))
        .put("dataDir", Files.createTempDirectory("pulse-heapcost").toString())
        .put("aggregation", new JsonObject().put("maxSeriesPerStream", series + 10).put("allowedLatenessMs", 100))
        .put("streams", new JsonObject().put("active", new JsonObject().put("window", "1h")));
    Pulse pulse = Pulse.start(PulseConfig.of(conf)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    try {
      // warm up: a few series and windows, so class loading and first-use caches are not counted
      post(http, port, "warm", 200);
      Thread.sleep(2500);
      long base = heap();
      System.out.printf(Locale.ROOT, "Pulse heap after start and warm-up: %,d bytes (java -Xmx%d MB, %d cores)%n",
          base, Runtime.getRuntime().maxMemory() >> 20, Runtime.getRuntime().availableProcessors());

      post(http, port, "idle", series);
      Thread.sleep(3000); // the 1 s windows close (plus 100 ms lateness): every series idle, kept
      long idle = heap();
      report("idle series (windows closed, kept in the catalog)", idle - base, series);

      post(http, port, "active", series);
      Thread.sleep(1500); // the shards take the batches; the 1 h window stays open
      long active = heap();
      report("active series (a 1 h window open, with a 1-value sketch)", active - idle, series);

      Process sse = startClients("sse", connections, port);
      long withSse = heap();
      report("idle SSE connections (one subscription each, one shared view)", withSse - active, connections);

      Process ws = startClients("ws", connections, port);
      long withWs = heap();
      report("WebSocket subscribers (one subscription each, one shared view)", withWs - withSse, connections);
      sse.destroy();
      ws.destroy();
      sse.waitFor(10, TimeUnit.SECONDS);
      ws.waitFor(10, TimeUnit.SECONDS);
    } finally {
      pulse.stop(Duration.ofSeconds(30));
    }
    System.exit(0);
  }

  private static void report(String what, long bytes, int n) {
    System.out.printf(Locale.ROOT, "%-66s %,8d items: %,12d bytes, %,7d bytes each%n", what, n, bytes, bytes / n);
  }

  /** Events for {@code n} series of {@code stream}, one each, in NDJSON batches of 1,000. */
  private static void post(HttpClient http, int port, String stream, int n) throws Exception {
    for (int from = 0; from < n; from += 1000) {
      StringBuilder sb = new StringBuilder();
      for (int i = from; i < Math.min(n, from + 1000); i++) {
        sb.append("{\"dims\":{\"region\":\"r").append(i % 10).append("\",\"key\":\"k").append(i)
            .append("\"},\"values\":{\"v\":").append(i).append("}}\n");
      }
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/v1/streams/" + stream + "/events")).header("Content-Type", "application/x-ndjson")
          .POST(HttpRequest.BodyPublishers.ofString(sb.toString())).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 202 || !r.body().contains("\"rejected\":0")) {
        throw new IllegalStateException("ingest answered " + r.statusCode() + " " + r.body());
      }
    }
  }

  /** Median of 5 readings of used heap, each after garbage collection has settled. */
  static long heap() throws InterruptedException {
    long[] v = new long[5];
    for (int i = 0; i < v.length; i++) {
      for (int g = 0; g < 3; g++) {
        System.gc();
        Thread.sleep(100);
      }
      v[i] = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
    Arrays.sort(v);
    return v[v.length / 2];
  }

  /** A child JVM holding {@code n} connections of one kind; returns once all are subscribed. */
  private static Process startClients(String kind, int n, int port) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), HeapCost.class.getName(), "--clients", kind,
        Integer.toString(n), Integer.toString(port)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("ready")) {
      throw new IllegalStateException(kind + " clients did not get ready: " + line);
    }
    Thread.sleep(1000); // let the server's side settle (subscribed messages written, buffers released)
    return p;
  }

  /** The child: n raw-socket connections, each subscribed and then idle, until the parent stops us. */
  private static void clients(String kind, int n, int port) throws Exception {
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      OutputStream o = s.getOutputStream();
      InputStream in = s.getInputStream();
      if (kind.equals("sse")) {
        o.write(("GET /api/v1/live/sse?stream=sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
      } else {
        o.write(("GET /api/v1/live/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        o.flush();
        readUntil(in, "\r\n\r\n");
        byte[] msg = "{\"op\":\"subscribe\",\"id\":\"s\",\"stream\":\"ws\"}".getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[6 + msg.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | msg.length);
        for (int k = 0; k < msg.length; k++) {
          frame[6 + k] = msg[k]; // mask key 0: the payload goes as is
        }
        o.write(frame);
      }
      o.flush();
      readUntil(in, "subscribed");
      held.add(s);
    }
    System.out.println("ready " + held.size());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // hold them; the parent destroys this process
  }

  private static void readUntil(InputStream in, String marker) throws IOException {
    StringBuilder sb = new StringBuilder();
    byte[] buf = new byte[4096];
    while (sb.indexOf(marker) < 0) {
      int r = in.read(buf);
      if (r < 0) {
        throw new IOException("closed before \"" + marker + "\": " + sb);
      }
      sb.append(new String(buf, 0, r, StandardCharsets.ISO_8859_1));
    }
  }
}

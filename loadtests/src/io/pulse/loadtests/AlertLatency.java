package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * From the event that crosses a threshold to the alert arriving at a WebSocket subscriber, under W1
 * load (issue 12's "speed" target: p99 at most 1 s). Pulse runs as a child process with storage on
 * (rules are stored documents); W1's 100 subscribers watch {@code w1} while W1 events arrive at a
 * steady rate; a threshold rule watches a probe stream {@code w1-alert} ({@code v} max &gt; 100, one
 * alert per {@code probe} dim). Every {@code --every} seconds the probe sends one event of a new
 * series, {@code probe=p<n>}, with v = 1000 + n (n numbers the crossing; the alert's value, the
 * window's max, names it back) and notes the time; a WebSocket subscriber of {@code w1-alert}
 * receives the alert, firing, and the latency is its receive time minus the send time. A series of
 * its own per crossing: no crossing waits for the previous alert to resolve.
 *
 * <pre>loadtests/bench.sh AlertLatency [--rate 1000000] [--seconds 30] [--every 0.25] [--no-build]</pre>
 * Exit code 0 when p99 &lt;= 1 s, 1 when not, 2 when the run went wrong.
 */
public final class AlertLatency {

  static final String PROBE_STREAM = "w1-alert";

  private double rate = 1_000_000;
  private double seconds = 30;
  private double every = 0.25;
  private String jar = "target/pulse.jar";

  public static void main(String[] args) throws Exception {
    AlertLatency a = new AlertLatency();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rate" -> a.rate = Bench.positive("--rate", args, ++i);
        case "--seconds" -> a.seconds = Bench.positive("--seconds", args, ++i);
        case "--every" -> a.every = Bench.positive("--every", args, ++i);
        case "--jar" -> a.jar = Bench.value("--jar", args, ++i);
        case "--quick" -> {
          a.seconds = 10;
          a.rate = 300_000;
        }
        default -> {
          System.err.println("usage: AlertLatency [--rate events/s] [--seconds S] [--every S] [--quick]");
          System.exit(64);
        }
      }
    }
    System.exit(a.run());
  }

  int run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path runDir = Files.createTempDirectory("pulse-alerts-");
    System.out.println("[alerts] alert latency " + stamp + " — " + Bench.CORES + " cores; server logs under " + runDir);
    Histogram latency = new Histogram(60_000_000L, 3);
    List<String> problems = new ArrayList<>();
    W1Workload workload = new W1Workload(1000, 64, 42);
    double achieved = 0;
    int sent = 0;
    try (Bench bench = new Bench("alerts")) {
      Path data = Files.createDirectories(runDir.resolve("data"));
      Bench.PulseCommand pc = new Bench.PulseCommand(jar, "1g", List.of(), 120);
      try (ChildServer pulse = bench.startPulse("Pulse", pc, data, Map.of("PULSE_STORAGE", "true"),
          runDir.resolve("pulse.log"))) {
        int port = pulse.port;
        Context ingestCtx = bench.newContext();
        Context subsCtx = bench.newContext();
        Context probeCtx = bench.newContext();
        HttpClient http = bench.vertx.createHttpClient();
        String rule = new JsonObject().put("name", "probe over 100").put("stream", PROBE_STREAM).put("kind", "threshold")
            .put("metric", "v").put("figure", "max").put("op", ">").put("value", 100).put("severity", "critical")
            .put("groupBy", new io.vertx.core.json.JsonArray().add("probe")).encode();
        int status = http.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                .setURI("/api/v1/rules").putHeader("Content-Type", "application/json"))
            .compose(r -> r.send(rule).compose(resp -> resp.body().map(b -> resp.statusCode())))
            .await(10, TimeUnit.SECONDS);
        if (status != 201) {
          throw new IllegalStateException("creating the probe rule answered " + status);
        }
        Map<Integer, Long> sentAt = new ConcurrentHashMap<>();
        WebSocketClient wsClient = bench.vertx.createWebSocketClient();
        java.util.concurrent.atomic.AtomicLong firing = new java.util.concurrent.atomic.AtomicLong();
        WebSocket ws = wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI(LiveSubscribers.PATH)).await(10, TimeUnit.SECONDS);
        java.util.concurrent.atomic.AtomicInteger crossing = new java.util.concurrent.atomic.AtomicInteger(-1);
        ws.textMessageHandler(text -> {
          long now = System.nanoTime();
          if (text.contains("\"type\":\"alert\"") && text.contains("\"state\":\"firing\"")) {
            // each crossing sends v = 1000 + its number: the alert's value (the window's max) names it
            Double v = new JsonObject(text).getDouble("value");
            Long t = v == null ? null : sentAt.remove((int) Math.round(v) - 1000);
            if (t != null) {
              latency.recordValue(Math.max(1, (now - t) / 1000));
              firing.incrementAndGet();
            }
          }
        });
        ws.writeTextMessage(new JsonObject().put("op", "subscribe").put("id", "probe").put("stream", PROBE_STREAM)
            .encode());
        try (Sampler sampler = new Sampler(port);
             LiveSubscribers subs = new LiveSubscribers(bench.vertx, subsCtx, port, 100);
             IngestDriver driver = new IngestDriver(bench.vertx, ingestCtx, port, 4, workload)) {
          subs.connectAll().await(30, TimeUnit.SECONDS);
          PhaseStats load = new PhaseStats("w1 paced");
          bench.begin(load, pulse, sampler, driver, subs);
          driver.startPaced(rate);
          Bench.sleep(3); // settle
          long end = System.nanoTime() + (long) (seconds * 1e9);
          long nextCrossing = System.nanoTime();
          while (System.nanoTime() < end) {
            int n = crossing.incrementAndGet();
            String body = "{\"stream\":\"" + PROBE_STREAM + "\",\"dims\":{\"probe\":\"p" + n + "\"},"
                + "\"values\":{\"v\":" + (1000 + n) + "}}";
            sentAt.put(n, System.nanoTime());
            sent++;
            probeCtx.runOnContext(v -> http.request(new RequestOptions().setMethod(HttpMethod.POST)
                    .setHost("127.0.0.1").setPort(port).setURI("/api/v1/events")
                    .putHeader("Content-Type", "application/json"))
                .compose(r -> r.send(Buffer.buffer(body)).compose(resp -> resp.body())));
            nextCrossing += (long) (every * 1e9);
            long wait = nextCrossing - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
          }
          Bench.sleep(3); // the last alerts
          bench.end(load, pulse, sampler);
          driver.stopPaced();
          achieved = load.eventsPerSecond();
          if (load.non202.sum() > 0 || load.failures.sum() > 0) {
            problems.add("W1 load: " + load.non202.sum() + " non-202, " + load.failures.sum() + " failures");
          }
        }
        ws.close();
      }
    } catch (Exception e) {
      problems.add("run aborted: " + e);
    }
    return report(stamp, latency, sent, achieved, problems);
  }

  private int report(String stamp, Histogram h, int sent, double achieved, List<String> problems) throws Exception {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "Alert latency %s: threshold crossing -> alert on a WebSocket subscriber, "
        + "under W1 load at %,.0f events/s (asked %,.0f), 100 W1 subscribers, storage on%n", stamp, achieved, rate));
    out.append(String.format(Locale.ROOT, "  crossings sent %d, alerts received %d%n", sent, h.getTotalCount()));
    if (h.getTotalCount() > 0) {
      out.append(String.format(Locale.ROOT, "  latency p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
          h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
    }
    boolean pass = h.getTotalCount() > 0 && h.getTotalCount() >= sent - 1 && h.getValueAtPercentile(99) <= 1_000_000;
    for (String p : problems) {
      out.append("  problem: ").append(p).append('\n');
    }
    out.append(problems.isEmpty() ? (pass ? "RESULT: PASS (p99 <= 1 s, every crossing alerted)\n"
        : "RESULT: MISS\n") : "RESULT: the run went wrong\n");
    System.out.print(out);
    Path reports = Files.createDirectories(Path.of("loadtests", "reports"));
    Files.writeString(reports.resolve("alerts-" + stamp + ".txt"), out.toString());
    return !problems.isEmpty() ? 2 : pass ? 0 : 1;
  }
}

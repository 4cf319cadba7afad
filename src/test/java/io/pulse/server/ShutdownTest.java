package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM on a real Pulse process: the open window is closed and pushed to subscribers as final,
 * they are told the server is going, and the process exits.
 */
class ShutdownTest {

  @Test
  @DisplayName("on SIGTERM the open windows are pushed as final, subscribers are told, and the process exits")
  void sigtermFlushesOpenWindows() throws Exception {
    int port = TestPulse.freePort();
    Path data = Files.createTempDirectory("pulse-shutdown");
    Path log = data.resolve("pulse.log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.pulse.Main")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PULSE_HTTP_PORT", Integer.toString(port));
    pb.environment().put("PULSE_HTTP_HOST", "127.0.0.1");
    pb.environment().put("PULSE_DATA_DIR", data.toString());
    pb.environment().put("PULSE_DEMO", "true"); // the demo's verticle must not hold up the stop
    pb.environment().put("PULSE_WINDOW", "1h"); // the window is certainly open when we stop
    Process p = pb.start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      waitReady(http, port, p, log);
      try (LiveClient ws = LiveClient.websocket(port)) {
        ws.send(new JsonObject().put("op", "subscribe").put("id", "s").put("stream", "bye"));
        ws.await(m -> "subscribed".equals(m.type()), 5000);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/api/v1/streams/bye/events")).header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString("{\"values\":{\"v\":1}}\n{\"values\":{\"v\":2}}\n"
                + "{\"values\":{\"v\":3}}\n")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode());
        ws.await(m -> "rollup".equals(m.type()) && m.json().getLong("count") == 3, 5000);

        p.destroy(); // SIGTERM

        Msg fin = ws.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final"), 10_000);
        assertEquals(3, fin.json().getLong("count"));
        assertEquals(6.0, fin.json().getJsonObject("values").getJsonObject("v").getDouble("sum"));
        Msg closing = ws.await(m -> "closing".equals(m.type()), 5000);
        assertTrue(closing.json().getString("reason").contains("shutting down"));
      }
      long stopStart = System.nanoTime();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the process exits");
      String out = Files.readString(log);
      assertTrue(out.contains("stopped"), out);
      assertTrue(!out.contains("did not finish cleanly") && !out.contains("RejectedExecutionException"), out);
      assertTrue(System.nanoTime() - stopStart < TimeUnit.SECONDS.toNanos(10), "stops promptly: " + out);
    } finally {
      p.destroyForcibly();
    }
  }

  private static void waitReady(HttpClient http, int port, Process p, Path log) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("Pulse exited early: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health/ready")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Pulse did not become ready: " + Files.readString(log));
  }
}

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
    Path data = Files.createTempDirectory("pulse-shutdown");
    Path log = data.resolve("pulse.log");
    ProcessBuilder pb = TestPulse.childProcess(data, 0);
    pb.environment().put("PULSE_DEMO", "true"); // the demo's verticle must not hold up the stop
    pb.environment().put("PULSE_WINDOW", "1h"); // the window is certainly open when we stop
    Process p = pb.start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      int port = TestPulse.awaitStarted(p, data, Duration.ofSeconds(30));
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

}

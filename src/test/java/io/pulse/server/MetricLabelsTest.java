package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Per-stream counters on /metrics keep a bounded label set, however many stream names callers invent. */
class MetricLabelsTest {

  @Test
  @DisplayName("200 invented streams: configured ones, the first 5 others and _other are labelled; the sum is exact")
  void boundedStreamLabels() {
    JsonObject conf = new JsonObject()
        .put("aggregation", new JsonObject().put("maxMeteredStreams", 5))
        .put("streams", new JsonObject().put("checkout", new JsonObject().put("window", "1s")));
    try (TestPulse p = TestPulse.start(conf)) {
      assertEquals(202, p.postNdjson("checkout", "{\"values\":{\"v\":1}}"));
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 200; i++) {
        body.append("{\"stream\":\"junk-").append(i).append("\",\"values\":{\"v\":1}}\n");
      }
      assertEquals(202, p.post("/api/v1/events", "application/x-ndjson", body.toString()).status());
      String metrics = p.get("/metrics").body();
      Set<String> labels = new TreeSet<>();
      double sum = 0;
      Matcher m = Pattern.compile("(?m)^pulse_events_accepted_total\\{([^}]*)\\} ([0-9.eE+-]+)$").matcher(metrics);
      while (m.find()) {
        labels.add(m.group(1));
        sum += Double.parseDouble(m.group(2));
      }
      assertEquals(201, sum, "every accepted event is counted once: " + labels);
      assertEquals(7, labels.size(), "checkout, 5 busiest, _other: " + labels);
      assertTrue(labels.contains("stream=\"checkout\",tenant=\"default\""), labels.toString());
      assertTrue(labels.contains("stream=\"_other\",tenant=\"default\""), labels.toString());
    }
  }

  @Test
  @DisplayName("with auth.metricsToken set, /metrics answers only a scrape that sends it as a bearer token")
  void metricsToken() {
    String token = "scrape-me-0123456789";
    try (TestPulse p = TestPulse.start(new JsonObject().put("auth", new JsonObject().put("metricsToken", token)))) {
      var none = p.request("GET", "/metrics", null);
      assertEquals(401, none.statusCode(), none.body());
      assertTrue(none.body().contains("auth.metricsToken"), none.body());
      assertEquals("Bearer realm=\"pulse-metrics\"", none.headers().firstValue("www-authenticate").orElse(""));
      assertEquals(401, p.request("GET", "/metrics", null, "Authorization", "Bearer " + token + "x").statusCode());
      assertEquals(401, p.request("GET", "/metrics", null, "Authorization", "Basic " + token).statusCode());
      var ok = p.request("GET", "/metrics", null, "Authorization", "Bearer " + token);
      assertEquals(200, ok.statusCode(), ok.body());
      assertTrue(ok.body().contains("pulse_http_connections"), "the scrape itself");
      assertEquals(200, p.get("/health/ready").status(), "health stays public");
    }
    io.pulse.config.ConfigException bad = org.junit.jupiter.api.Assertions.assertThrows(io.pulse.config.ConfigException.class,
        () -> io.pulse.config.PulseConfig.of(new JsonObject().put("auth", new JsonObject().put("metricsToken", "short"))));
    assertTrue(bad.getMessage().contains("auth.metricsToken"), bad.getMessage());
  }
}

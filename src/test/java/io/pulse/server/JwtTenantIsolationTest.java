package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * With authentication on, the token's tenant claim decides what a request sees, over REST, SSE and
 * WebSocket; a scope narrowed to a stream pattern narrows listings, the stream routes, live
 * subscriptions and ingest. Acme's events carry v = 1, globex's v = 1000, so a message holding the
 * other tenant's figures would show.
 */
class JwtTenantIsolationTest {

  private static TestPulse pulse;
  private static String acme;
  private static String globex;

  @BeforeAll
  static void start() {
    pulse = TestPulse.startWithAuth(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
    acme = pulse.token("acme", "ingest", "read");
    globex = pulse.token("globex", "ingest", "read");
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static JsonObject post(String token, String body, int status) {
    HttpResponse<String> r = pulse.request("POST", "/api/v1/events", body, TestPulse.bearer(token));
    assertEquals(status, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static String events(String stream, int n, double v) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < n; i++) {
      a.add(new JsonObject().put("stream", stream).put("dims", new JsonObject().put("region", "eu"))
          .put("values", new JsonObject().put("v", v)));
    }
    return a.encode();
  }

  private static JsonObject get(String token, String path) {
    HttpResponse<String> r = pulse.request("GET", path, null, TestPulse.bearer(token));
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static JsonObject listed(JsonObject listing, String name) {
    for (Object o : listing.getJsonArray("streams")) {
      if (name.equals(((JsonObject) o).getString("stream"))) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  private static Map<String, String> auth(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  private static void onlyValue(LiveClient c, double v) {
    for (Msg m : c.seen()) {
      if ("rollup".equals(m.type())) {
        JsonObject f = m.json().getJsonObject("values").getJsonObject("v");
        assertTrue(f.getDouble("min") == v && f.getDouble("max") == v, "another tenant's figures: " + m.json());
      }
    }
  }

  private static long finals(LiveClient c) {
    return c.seen().stream().filter(m -> "rollup".equals(m.type()) && m.json().getBoolean("final"))
        .mapToLong(m -> m.json().getLong("count")).sum();
  }

  @Test
  @DisplayName("REST: each tenant lists its own stream of a shared name, never the other's")
  void rest() {
    post(acme, events("shared", 1, 1), 202);
    post(globex, events("shared", 2, 1000), 202);
    post(acme, events("acmeonly", 1, 1), 202);
    assertEquals(1, listed(get(acme, "/api/v1/streams"), "shared").getLong("events"));
    assertEquals(2, listed(get(globex, "/api/v1/streams"), "shared").getLong("events"));
    assertNull(listed(get(globex, "/api/v1/streams"), "acmeonly"));
    assertNotNull(listed(get(acme, "/api/v1/streams"), "acmeonly"));
  }

  @Test
  @DisplayName("a read scope narrowed to chk*: listings, stream routes, SSE and WebSocket see only matching streams")
  void narrowedRead() {
    post(acme, events("chk-a", 1, 1), 202);
    post(acme, events("pay", 1, 1), 202);
    String narrow = pulse.token("acme", "read:chk*");
    JsonObject list = get(narrow, "/api/v1/streams");
    assertNotNull(listed(list, "chk-a"), list.encode());
    assertNull(listed(list, "pay"), list.encode());
    assertNotNull(listed(get(acme, "/api/v1/streams"), "pay"), "the unnarrowed token sees it");
    assertEquals(404, pulse.request("GET", "/api/v1/streams/pay/detectors", null, TestPulse.bearer(narrow))
        .statusCode());
    assertEquals(200, pulse.request("GET", "/api/v1/streams/chk-a/detectors", null, TestPulse.bearer(narrow))
        .statusCode());
    assertEquals(404, pulse.request("GET", "/api/v1/live/sse?stream=pay", null, TestPulse.bearer(narrow))
        .statusCode());
    try (LiveClient ws = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), auth(narrow))) {
      ws.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"p\",\"stream\":\"pay\"}"));
      Msg err = ws.await(m -> "error".equals(m.type()) || "subscribed".equals(m.type()), 5000);
      assertEquals("error", err.type(), err.json().encode());
      assertEquals("p", err.json().getString("sub"));
      ws.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"c\",\"stream\":\"chk-a\"}"));
      Msg ok = ws.await(m -> "subscribed".equals(m.type()) || "error".equals(m.type()), 5000);
      assertEquals("subscribed", ok.type(), ok.json().encode());
    }
  }

  @Test
  @DisplayName("an ingest scope narrowed to chk*: events of other streams are rejected one by one, the rest kept")
  void narrowedIngest() {
    String narrow = pulse.token("acme", "ingest:chk*");
    String body = new JsonArray().add(new JsonObject().put("stream", "chk-x").put("values", new JsonObject().put("v", 1)))
        .add(new JsonObject().put("stream", "pay").put("values", new JsonObject().put("v", 1)))
        .add(new JsonObject().put("stream", "chk-x").put("values", new JsonObject().put("v", 1))).encode();
    JsonObject r = post(narrow, body, 202);
    assertEquals(2, r.getInteger("accepted"), r.encode());
    assertEquals(1, r.getInteger("rejected"), r.encode());
    JsonObject e = r.getJsonArray("errors").getJsonObject(0);
    assertEquals(1, e.getInteger("index"));
    assertTrue(e.getString("error").contains("may not send events to stream pay"), e.encode());
    HttpResponse<String> path = pulse.request("POST", "/api/v1/streams/pay/events",
        "{\"values\":{\"v\":1}}", TestPulse.bearer(narrow));
    assertEquals(403, path.statusCode(), path.body());
  }

  @Test
  @DisplayName("under load, SSE and WebSocket subscribers of acme never receive a message of globex's stream of the "
      + "same name, and globex's never one of acme's")
  void liveUnderLoad() throws Exception {
    try (LiveClient aSse = LiveClient.sse(pulse.port(), "stream=load&groupBy=region", null, auth(acme));
        LiveClient gSse = LiveClient.sse(pulse.port(), "stream=load&groupBy=region&access_token=" + globex, null);
        LiveClient aWs = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), auth(acme));
        LiveClient gWs = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), auth(globex))) {
      aWs.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"s\",\"stream\":\"load\",\"groupBy\":[\"region\"]}"));
      gWs.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"s\",\"stream\":\"load\",\"groupBy\":[\"region\"]}"));
      for (LiveClient c : new LiveClient[] {aSse, gSse, aWs, gWs}) {
        c.await(m -> "subscribed".equals(m.type()), 5000);
      }
      int batches = 40;
      int per = 250; // 10 000 events per tenant, sent by both tenants at once
      AtomicInteger failures = new AtomicInteger();
      AtomicBoolean done = new AtomicBoolean();
      Thread g = new Thread(() -> {
        for (int i = 0; i < batches; i++) {
          if (pulse.request("POST", "/api/v1/events", events("load", per, 1000), TestPulse.bearer(globex))
              .statusCode() != 202) {
            failures.incrementAndGet();
          }
        }
        done.set(true);
      });
      g.start();
      for (int i = 0; i < batches; i++) {
        post(acme, events("load", per, 1), 202);
      }
      g.join(60_000);
      assertTrue(done.get());
      assertEquals(0, failures.get());
      long total = (long) batches * per;
      for (LiveClient c : new LiveClient[] {aSse, gSse, aWs, gWs}) {
        Await.until("every final of its own tenant's events", () -> {
          c.collect(200);
          return finals(c);
        }, n -> n >= total, 20_000);
      }
      onlyValue(aSse, 1);
      onlyValue(aWs, 1);
      onlyValue(gSse, 1000);
      onlyValue(gWs, 1000);
      assertEquals(total, finals(aSse));
      assertEquals(total, finals(gWs));
    }
  }
}

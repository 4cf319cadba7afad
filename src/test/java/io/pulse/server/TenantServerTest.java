package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two tenants with a stream of the same name, over HTTP, SSE and WebSocket against a real server
 * (storage off): neither sees the other's catalog entry, live messages or quarantine. The tenant
 * comes from a CallerResolver the test installs in-process ({@link TestTenants}); what clients
 * see on the wire is unchanged (messages name the stream, never the tenant). Acme's events carry
 * v = 1, globex's v = 1000, so a message holding the other's figures would show.
 */
class TenantServerTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
    pulse.pulse().callers(TestTenants.RESOLVER);
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  /** POSTs a JSON array of {@code n} events of {@code stream} with value {@code v} as {@code tenant}. */
  private static JsonObject post(String tenant, String stream, int n, double v, String dims) {
    JsonArray events = new JsonArray();
    for (int i = 0; i < n; i++) {
      events.add(new JsonObject("{\"stream\":\"" + stream + "\",\"dims\":" + dims + ",\"values\":{\"v\":" + v + "}}"));
    }
    HttpResponse<String> r = pulse.request("POST", "/api/v1/events", events.encode(), TestTenants.as(tenant));
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static JsonObject get(String tenant, String path) {
    HttpResponse<String> r = pulse.request("GET", path, null, TestTenants.as(tenant));
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static JsonObject stream(JsonObject listing, String name) {
    for (Object o : listing.getJsonArray("streams")) {
      if (name.equals(((JsonObject) o).getString("stream"))) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  private static boolean finalRollup(Msg m) {
    return "rollup".equals(m.type()) && m.json().getBoolean("final");
  }

  private static long finalCount(LiveClient c) {
    return c.seen().stream().filter(TenantServerTest::finalRollup).mapToLong(m -> m.json().getLong("count")).sum();
  }

  /** Every rollup a client saw names the stream only, and holds only values in [lo, hi]. */
  private static void onlyValuesIn(LiveClient c, String stream, double lo, double hi) {
    for (Msg m : c.seen()) {
      if ("rollup".equals(m.type())) {
        assertEquals(stream, m.json().getString("stream"), "the wire names the stream, not the tenant");
        assertNull(m.json().getValue("tenant"));
        JsonObject v = m.json().getJsonObject("values").getJsonObject("v");
        assertTrue(v.getDouble("min") >= lo && v.getDouble("max") <= hi, "another tenant's figures: " + m.json());
      }
    }
  }

  @Test
  @DisplayName("HTTP: each tenant's /api/v1/streams lists its own stream of the shared name, with its own dims and counts")
  void catalogPerTenant() {
    post("acme", "shared", 1, 1, "{\"region\":\"eu\"}");
    post("globex", "shared", 2, 1000, "{\"shop\":\"s1\"}");
    JsonObject a = stream(get("acme", "/api/v1/streams"), "shared");
    JsonObject g = stream(get("globex", "/api/v1/streams"), "shared");
    assertNotNull(a);
    assertNotNull(g);
    assertEquals(1, a.getLong("events"));
    assertEquals(new JsonObject().put("region", new JsonArray().add("eu")), a.getJsonObject("dims"));
    assertEquals(2, g.getLong("events"));
    assertEquals(new JsonObject().put("shop", new JsonArray().add("s1")), g.getJsonObject("dims"));
    assertNull(stream(pulse.get("/api/v1/streams").json(), "shared"), "the default tenant never had it");
  }

  @Test
  @DisplayName("SSE: subscribers of two tenants to the same stream, filter and group-by each get their own rollups only")
  void ssePerTenant() {
    try (LiveClient a = LiveClient.sse(pulse.port(), "stream=ssechk&groupBy=region", null, TestTenants.headers("acme"));
        LiveClient g = LiveClient.sse(pulse.port(), "stream=ssechk&groupBy=region", null,
            TestTenants.headers("globex"))) {
      a.await(m -> "subscribed".equals(m.type()), 5000);
      g.await(m -> "subscribed".equals(m.type()), 5000);
      post("acme", "ssechk", 3, 1, "{\"region\":\"eu\"}");
      post("globex", "ssechk", 2, 1000, "{\"region\":\"eu\"}");
      a.await(TenantServerTest::finalRollup, 5000);
      g.await(TenantServerTest::finalRollup, 5000);
      a.collect(600);
      g.collect(600);
      assertEquals(3, finalCount(a), a.seen().toString());
      assertEquals(2, finalCount(g), g.seen().toString());
      onlyValuesIn(a, "ssechk", 1, 1);
      onlyValuesIn(g, "ssechk", 1000, 1000);

      // acme's last event id is no key into globex's feed: at most a reset, never acme's finals
      String acmeId = a.seen().stream().filter(TenantServerTest::finalRollup).reduce((x, y) -> y).get().id();
      try (LiveClient g2 = LiveClient.sse(pulse.port(), "stream=ssechk&groupBy=region", acmeId,
          TestTenants.headers("globex"))) {
        g2.await(m -> "subscribed".equals(m.type()), 5000);
        g2.collect(400);
        onlyValuesIn(g2, "ssechk", 1000, 1000);
      }
    }
  }

  @Test
  @DisplayName("WebSocket: a tenant's subscription sees its own stream only, told it has no events while only the "
      + "other tenant's stream of that name has")
  void websocketPerTenant() {
    post("acme", "wschk", 2, 1, "{\"region\":\"us\"}"); // outside the subscriptions' filter
    try (LiveClient a = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), TestTenants.headers("acme"));
        LiveClient g = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(),
            TestTenants.headers("globex"))) {
      a.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"s\",\"stream\":\"wschk\",\"filter\":{\"region\":\"eu\"}}"));
      g.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"s\",\"stream\":\"wschk\",\"filter\":{\"region\":\"eu\"}}"));
      Msg sa = a.await(m -> "subscribed".equals(m.type()), 5000);
      Msg sg = g.await(m -> "subscribed".equals(m.type()), 5000);
      assertEquals("wschk", sg.json().getString("stream"));
      assertTrue(String.valueOf(sg.json().getValue("warnings")).contains("has had no events yet"),
          "globex's wschk has no events, whatever acme's has: " + sg.json());
      assertTrue(!String.valueOf(sa.json().getValue("warnings")).contains("has had no events yet"), sa.json().encode());
      post("acme", "wschk", 4, 1, "{\"region\":\"eu\"}");
      post("globex", "wschk", 3, 1000, "{\"region\":\"eu\"}");
      a.await(TenantServerTest::finalRollup, 5000);
      g.await(TenantServerTest::finalRollup, 5000);
      a.collect(600);
      g.collect(600);
      assertEquals(4, finalCount(a), a.seen().toString());
      assertEquals(3, finalCount(g), g.seen().toString());
      onlyValuesIn(a, "wschk", 1, 1);
      onlyValuesIn(g, "wschk", 1000, 1000);
    }
  }

  @Test
  @DisplayName("quarantine (in memory, storage off): a tenant lists its own rejections only")
  void quarantinePerTenant() {
    HttpResponse<String> r = pulse.request("POST", "/api/v1/events",
        "{\"stream\":\"qchk\",\"values\":{\"v\":\"not a number\"}}", TestTenants.as("acme"));
    assertEquals(202, r.statusCode(), r.body());
    JsonObject a = get("acme", "/api/v1/quarantine?stream=qchk");
    JsonObject g = get("globex", "/api/v1/quarantine?stream=qchk");
    assertEquals(1, a.getJsonArray("items").size(), a.encode());
    assertEquals("qchk", a.getJsonArray("items").getJsonObject(0).getString("stream"));
    assertEquals(0, g.getJsonArray("items").size(), g.encode());
    assertEquals(0, pulse.get("/api/v1/quarantine?stream=qchk").json().getJsonArray("items").size());
  }

  @Test
  @DisplayName("a request naming a caller that is not valid answers 401 with the reason, on ingest and on the live feed")
  void invalidCaller() {
    HttpResponse<String> r = pulse.request("POST", "/api/v1/events", "{\"stream\":\"x\",\"values\":{\"v\":1}}",
        TestTenants.as("Not A Tenant"));
    assertEquals(401, r.statusCode());
    assertTrue(new JsonObject(r.body()).getString("error").contains("tenant id"), r.body());
    HttpResponse<String> s = pulse.request("GET", "/api/v1/live/sse?stream=x", null, TestTenants.as("Not A Tenant"));
    assertEquals(401, s.statusCode());
  }
}

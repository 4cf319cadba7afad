package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Caller;
import io.pulse.core.CallerResolver;
import io.pulse.core.Grants;
import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Fair use against a real server (storage off): rate limits per client address and per token for
 * queries and ingest (429 JSON naming the setting, Retry-After, RateLimit-* headers, /metrics), live
 * connections per token and subscriptions per WebSocket. The server's clock stands still unless a
 * test moves it, so the buckets refill only when told: no timing in any check. Client addresses
 * other than 127.0.0.1 come from X-Forwarded-For, believed because 127.0.0.1 is a trusted proxy here.
 */
class RateLimitServerTest {

  private static final String TOKEN = "X-Test-Token";

  /** Callers with a token id from the {@value #TOKEN} header (as the JWT resolver gives); none without it. */
  private static final CallerResolver TOKENS = (header, param) -> {
    String t = header.apply(TOKEN);
    if ("bad".equals(t)) {
      throw new IllegalArgumentException("a bad token");
    }
    return t == null ? Caller.ANONYMOUS : new Caller("default", "user-" + t, t, Grants.ALL, null, Long.MAX_VALUE);
  };

  private static final String EVENT = "{\"stream\":\"rl\",\"values\":{\"v\":1}}";

  private static JsonObject rate(int rate, int burst) {
    return new JsonObject().put("rate", rate).put("burst", burst);
  }

  /** A server whose clock is {@code now}; the limits given, everything else generous. */
  private static TestPulse start(AtomicLong now, JsonObject limits) {
    JsonObject l = new JsonObject().put("ingestPerToken", rate(1000, 1000)).put("ingestPerAddress", rate(1000, 1000))
        .put("queryPerToken", rate(1000, 1000)).put("queryPerAddress", rate(1000, 1000));
    l.mergeIn(limits);
    TestPulse p = TestPulse.start(new JsonObject().put("limits", l)
        .put("http", new JsonObject().put("trustedProxies", new JsonArray().add("127.0.0.1")))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)), now::get);
    p.pulse().callers(TOKENS);
    return p;
  }

  private static String header(HttpResponse<String> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private static String error(HttpResponse<String> r) {
    return new JsonObject(r.body()).getString("error");
  }

  private static double metric(TestPulse p, String cls, String key) {
    String metrics = p.get("/metrics").body();
    Matcher m = Pattern.compile("(?m)^pulse_http_rate_limited_total\\{([^}]*)\\} ([0-9.eE+-]+)$").matcher(metrics);
    while (m.find()) {
      if (m.group(1).contains("class=\"" + cls + "\"") && m.group(1).contains("key=\"" + key + "\"")) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError("no pulse_http_rate_limited_total{class=" + cls + ",key=" + key + "} in /metrics");
  }

  @Test
  @DisplayName("per address: queries past the burst get 429 with Retry-After and RateLimit-* headers, counted in /metrics; "
      + "ingest has its own budget; another address, writes and health are not charged; bad tokens are charged too; "
      + "the clock refills it")
  void perAddress() {
    AtomicLong now = new AtomicLong(1_000_000);
    try (TestPulse p = start(now, new JsonObject().put("queryPerAddress", rate(1, 3))
        .put("ingestPerAddress", rate(1, 2)))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> ok = p.request("GET", "/api/v1/streams", null);
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("3", header(ok, "RateLimit-Limit"), "the limit on a successful answer");
        assertEquals(Integer.toString(2 - i), header(ok, "RateLimit-Remaining"));
        assertEquals(Integer.toString(i + 1), header(ok, "RateLimit-Reset"), "seconds until the burst is back");
      }
      HttpResponse<String> refused = p.request("GET", "/api/v1/streams/rl/series", null);
      assertEquals(429, refused.statusCode(), refused.body());
      assertEquals("1", header(refused, "Retry-After"));
      assertEquals("3", header(refused, "RateLimit-Limit"));
      assertEquals("0", header(refused, "RateLimit-Remaining"));
      assertEquals("3", header(refused, "RateLimit-Reset"));
      assertTrue(error(refused).startsWith("rate limit: at most 1 query requests a second (a burst of 3) per address "
          + "(limits.queryPerAddress)"), error(refused));
      assertEquals(429, p.request("GET", "/api/v1/live/sse?stream=rl", null).statusCode(),
          "opening a live connection is a query too");
      assertEquals(2.0, metric(p, "query", "address"));
      assertEquals(0.0, metric(p, "query", "token"));

      // another client address (through the trusted proxy) has a budget of its own
      HttpResponse<String> other = p.request("GET", "/api/v1/streams", null, "X-Forwarded-For", "203.0.113.7");
      assertEquals(200, other.statusCode(), other.body());
      assertEquals("2", header(other, "RateLimit-Remaining"));

      // a request whose token is refused (401) is charged to its address all the same
      for (int i = 0; i < 3; i++) {
        assertEquals(401, p.request("GET", "/api/v1/streams", null, TOKEN, "bad", "X-Forwarded-For", "192.0.2.50")
            .statusCode());
      }
      HttpResponse<String> badFlood = p.request("GET", "/api/v1/streams", null, TOKEN, "bad",
          "X-Forwarded-For", "192.0.2.50");
      assertEquals(429, badFlood.statusCode(), badFlood.body());
      assertEquals(3.0, metric(p, "query", "address"));

      // ingest is charged to its own limit
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> in = p.request("POST", "/api/v1/events", EVENT);
        assertEquals(202, in.statusCode(), in.body());
        assertEquals("2", header(in, "RateLimit-Limit"));
      }
      HttpResponse<String> inRefused = p.request("POST", "/api/v1/streams/rl/events", EVENT);
      assertEquals(429, inRefused.statusCode(), inRefused.body());
      assertEquals("1", header(inRefused, "Retry-After"));
      assertTrue(error(inRefused).contains("per address (limits.ingestPerAddress)"), error(inRefused));
      assertEquals(1.0, metric(p, "ingest", "address"));

      // writes and public routes are not rate-limited
      HttpResponse<String> delete = p.request("DELETE", "/api/v1/streams/nothing-here", null);
      assertNotEquals(429, delete.statusCode(), delete.body());
      assertEquals(null, header(delete, "RateLimit-Limit"));
      assertEquals(200, p.get("/health/live").status());

      now.addAndGet(1_000);
      HttpResponse<String> again = p.request("GET", "/api/v1/streams", null);
      assertEquals(200, again.statusCode(), "one request a second: one more after the clock moved a second");
      assertEquals("0", header(again, "RateLimit-Remaining"));
      assertEquals(429, p.request("GET", "/api/v1/streams", null).statusCode());
    }
  }

  @Test
  @DisplayName("per token: a token past its burst gets 429 naming limits.queryPerToken; another token from the same "
      + "address is unaffected; ingest per token likewise; requests without a token are limited per address alone")
  void perToken() {
    AtomicLong now = new AtomicLong(5_000_000);
    try (TestPulse p = start(now, new JsonObject().put("queryPerToken", rate(2, 2)).put("ingestPerToken", rate(1, 1))
        .put("queryPerAddress", rate(1, 100)))) {
      for (int i = 0; i < 2; i++) {
        assertEquals(200, p.request("GET", "/api/v1/streams", null, TOKEN, "t1").statusCode());
      }
      HttpResponse<String> refused = p.request("GET", "/api/v1/streams", null, TOKEN, "t1");
      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(error(refused).contains("per token (limits.queryPerToken)"), error(refused));
      assertEquals("1", header(refused, "Retry-After"), "half a second to the next, rounded up");
      assertEquals("2", header(refused, "RateLimit-Limit"));
      assertEquals(429, p.request("GET", "/api/v1/streams", null, TOKEN, "t1", "X-Forwarded-For", "198.51.100.9")
          .statusCode(), "the token's limit follows it to another address");

      HttpResponse<String> t2 = p.request("GET", "/api/v1/streams", null, TOKEN, "t2");
      assertEquals(200, t2.statusCode(), "a token under its limit is unaffected: " + t2.body());
      assertEquals("1", header(t2, "RateLimit-Remaining"), "its own bucket, the tighter one in the headers");
      for (int i = 0; i < 5; i++) {
        assertEquals(200, p.request("GET", "/api/v1/streams", null).statusCode(),
            "no token: the per-token limit does not apply");
      }

      assertEquals(202, p.request("POST", "/api/v1/events", EVENT, TOKEN, "t1").statusCode(),
          "ingest has a budget apart from queries");
      HttpResponse<String> in = p.request("POST", "/api/v1/events", EVENT, TOKEN, "t1");
      assertEquals(429, in.statusCode(), in.body());
      assertTrue(error(in).contains("per token (limits.ingestPerToken)"), error(in));
      assertEquals(202, p.request("POST", "/api/v1/events", EVENT, TOKEN, "t2").statusCode());
      assertEquals(2.0, metric(p, "query", "token"));
      assertEquals(1.0, metric(p, "ingest", "token"));
      assertEquals(0.0, metric(p, "query", "address"));

      now.addAndGet(500);
      assertEquals(200, p.request("GET", "/api/v1/streams", null, TOKEN, "t1").statusCode(), "refilled");
    }
  }

  @Test
  @DisplayName("events a second per token: a body with more events than the token's share is taken, the next ingest "
      + "of that token is 429 until the rate paid it back; another token goes on")
  void eventsPerToken() {
    AtomicLong now = new AtomicLong(20_000_000);
    try (TestPulse p = start(now, new JsonObject().put("ingestEventsPerToken", rate(10, 10)))) {
      String body = "[" + String.join(",", java.util.Collections.nCopies(25, EVENT)) + "]";
      HttpResponse<String> first = p.request("POST", "/api/v1/events", body, TOKEN, "t1");
      assertEquals(202, first.statusCode(), first.body());
      assertEquals(25, new JsonObject(first.body()).getInteger("accepted"));
      HttpResponse<String> refused = p.request("POST", "/api/v1/events", EVENT, TOKEN, "t1");
      assertEquals(429, refused.statusCode(), refused.body());
      assertEquals("2", header(refused, "Retry-After"), "15 events of debt at 10 a second");
      assertTrue(error(refused).contains("at most 10 events a second (a burst of 10) per token "
          + "(limits.ingestEventsPerToken)"), error(refused));
      assertEquals(200, p.request("GET", "/api/v1/streams", null, TOKEN, "t1").statusCode(), "queries go on");
      assertEquals(202, p.request("POST", "/api/v1/events", EVENT, TOKEN, "t2").statusCode(), "another token");
      now.addAndGet(1_500);
      assertEquals(202, p.request("POST", "/api/v1/events", EVENT, TOKEN, "t1").statusCode(), "paid back");
    }
  }

  private static LiveClient ws(TestPulse p, String token) {
    return LiveClient.websocket(p.port(), new WebSocketClientOptions(), Map.of(TOKEN, token));
  }



  @Test
  @DisplayName("live connections per token: past the cap the WebSocket upgrade and SSE are 429 naming the setting; "
      + "another token connects; a close gives the place back")
  void liveConnectionsPerToken() {
    AtomicLong now = new AtomicLong(9_000_000);
    try (TestPulse p = start(now, new JsonObject().put("liveConnectionsPerToken", 2));
        LiveClient a1 = ws(p, "t1"); LiveClient a2 = ws(p, "t1")) {
      assertEquals("subscribed", a2.subscribe("s", "live").type(), "the connections work");
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> ws(p, "t1").close());
      UpgradeRejectedException r = LiveClient.upgradeRejection(e);
      assertNotNull(r, String.valueOf(e));
      assertEquals(429, r.getStatus());
      String body = r.getBody() == null ? "" : r.getBody().toString();
      assertTrue(body.contains("this token has its limit of 2 live connections open (limits.liveConnectionsPerToken)"),
          body);
      HttpResponse<String> sse = p.request("GET", "/api/v1/live/sse?stream=live", null, TOKEN, "t1");
      assertEquals(429, sse.statusCode(), sse.body());
      assertTrue(error(sse).contains("limits.liveConnectionsPerToken"), sse.body());

      try (LiveClient b = ws(p, "t2")) {
        assertEquals("subscribed", b.subscribe("s", "live").type(), "another token connects");
      }
      try (LiveClient anon = ws(p, "t3"); LiveClient sseOk = LiveClient.sse(p.port(), "stream=live", null,
          Map.of(TOKEN, "t4"))) {
        assertEquals("subscribed", anon.subscribe("s", "live").type());
        assertEquals(200, sseOk.sseStatus(), "SSE of a token under its cap");
      }

      a1.close();
      // the server sees the close on its own time: a new connection is retried until the place is back
      LiveClient again = Await.until("t1 connects again after closing one", () -> {
        try {
          return ws(p, "t1");
        } catch (IllegalStateException x) {
          return null;
        }
      }, c -> c != null, 10_000);
      try (again) {
        assertEquals("subscribed", again.subscribe("s", "live").type());
      }
    }
  }

  @Test
  @DisplayName("subscriptions per connection: past the cap a subscribe gets an error naming the setting, the "
      + "connection stays open, an unsubscribe frees the place; another connection has its own")
  void subscriptionsPerConnection() {
    AtomicLong now = new AtomicLong(12_000_000);
    try (TestPulse p = start(now, new JsonObject().put("subscriptionsPerConnection", 2));
        LiveClient c = ws(p, "t1")) {
      assertEquals("subscribed", c.subscribe("a", "subs-a").type());
      assertEquals("subscribed", c.subscribe("b", "subs-b").type());
      Msg refused = c.subscribe("c", "subs-c");
      assertEquals("error", refused.type(), refused.json().encode());
      assertTrue(refused.json().getString("error").contains(
          "at most 2 subscriptions per connection (limits.subscriptionsPerConnection)"), refused.json().encode());
      c.send(new JsonObject().put("op", "ping"));
      assertEquals("pong", c.await(m -> "pong".equals(m.type()), 5000).type(), "the connection stays open");

      try (LiveClient other = ws(p, "t1")) {
        assertEquals("subscribed", other.subscribe("c", "subs-c").type(), "another connection has its own");
      }

      c.send(new JsonObject().put("op", "unsubscribe").put("id", "a"));
      c.await(m -> "unsubscribed".equals(m.type()) && "a".equals(m.json().getString("sub")), 5000);
      assertEquals("subscribed", c.subscribe("d", "subs-d").type(), "the unsubscribed place is free again");
      assertTrue(p.get("/metrics").body().contains("pulse_live_limited_total{limit=\"subscriptionsPerConnection\"} 1.0"),
          "counted");
    }
  }
}

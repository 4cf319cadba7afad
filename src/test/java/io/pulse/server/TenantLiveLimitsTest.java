package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Per-tenant caps on the live endpoints ({@code limits.perTenant.maxLiveConnections},
 * {@code maxSubscriptions}, {@code maxViews}: on-demand views, a filter or group-by) against a real server (storage off): past the tenant's cap, SSE is
 * answered 429 JSON with the reason, a WebSocket upgrade 429, a WebSocket subscribe an error
 * message with the reason; another tenant goes on; closing or unsubscribing gives the place back.
 * Each test uses tenants of its own.
 */
class TenantLiveLimitsTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000).put("maxOpsPerSecond", 1_000_000))
        .put("limits", new JsonObject().put("perTenant", new JsonObject().put("maxLiveConnections", 2)
            .put("maxSubscriptions", 3).put("maxViews", 2))));
    pulse.pulse().callers(TestTenants.RESOLVER);
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static LiveClient ws(String tenant) {
    return LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), TestTenants.headers(tenant));
  }



  @Test
  @DisplayName("past maxLiveConnections: WebSocket upgrade and SSE 429 with the reason; another tenant connects; a close gives the place back")
  void connectionCap() {
    try (LiveClient a1 = ws("acme"); LiveClient a2 = ws("acme")) {
      assertEquals("subscribed", a2.subscribe("s", "conns").type(), "the connections work");
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> ws("acme").close());
      UpgradeRejectedException r = LiveClient.upgradeRejection(e);
      assertNotNull(r, String.valueOf(e));
      assertEquals(429, r.getStatus());
      String body = r.getBody() == null ? "" : r.getBody().toString();
      assertTrue(body.contains("tenant acme is at its limit of 2 live connections (limits.perTenant.maxLiveConnections)"),
          body);

      HttpResponse<String> sse = pulse.request("GET", "/api/v1/live/sse?stream=conns", null, TestTenants.as("acme"));
      assertEquals(429, sse.statusCode(), sse.body());
      assertTrue(new JsonObject(sse.body()).getString("error").contains("limits.perTenant.maxLiveConnections"),
          sse.body());

      try (LiveClient g = ws("globex")) {
        assertEquals("subscribed", g.subscribe("s", "conns").type(), "another tenant connects and subscribes");
      }

      a1.close();
      // the server sees the close on its own time: a new connection is retried until the place is back
      LiveClient again = Await.until("acme connects again after closing one", () -> {
        try {
          return ws("acme");
        } catch (IllegalStateException x) {
          return null;
        }
      }, c -> c != null, 10_000);
      try (again) {
        assertEquals("subscribed", again.subscribe("s", "conns").type());
      }
    }
  }

  @Test
  @DisplayName("past maxSubscriptions: a WebSocket subscribe gets an error with the reason, SSE 429; another tenant subscribes; an unsubscribe gives the place back")
  void subscriptionCap() {
    try (LiveClient c = ws("initech")) {
      for (String id : new String[] {"a", "b", "c"}) {
        assertEquals("subscribed", c.subscribe(id, "subs-" + id).type(), id);
      }
      Msg refused = c.subscribe("d", "subs-d");
      assertEquals("error", refused.type(), refused.json().encode());
      assertTrue(refused.json().getString("error").contains(
          "tenant initech is at its limit of 3 live subscriptions (limits.perTenant.maxSubscriptions)"),
          refused.json().encode());

      HttpResponse<String> sse = pulse.request("GET", "/api/v1/live/sse?stream=subs-a", null,
          TestTenants.as("initech"));
      assertEquals(429, sse.statusCode(), sse.body());
      assertTrue(new JsonObject(sse.body()).getString("error").contains("limits.perTenant.maxSubscriptions"),
          sse.body());

      try (LiveClient u = ws("umbrella")) {
        assertEquals("subscribed", u.subscribe("a", "subs-a").type(), "another tenant subscribes");
      }

      c.send(new JsonObject().put("op", "unsubscribe").put("id", "a"));
      c.await(m -> "unsubscribed".equals(m.type()) && "a".equals(m.json().getString("sub")), 5000);
      assertEquals("subscribed", c.subscribe("e", "subs-e").type(), "the unsubscribed place is free again");
    }
  }

  private static Msg subscribeFiltered(LiveClient c, String id, String stream, String region) {
    c.send(new JsonObject().put("op", "subscribe").put("id", id).put("stream", stream)
        .put("filter", new JsonObject().put("region", region)));
    return c.await(m -> id.equals(m.json().getString("sub")) && ("subscribed".equals(m.type())
        || "error".equals(m.type())), 5000);
  }

  @Test
  @DisplayName("past maxViews (all watched): a filtered WebSocket subscribe gets an error with the reason; another tenant's is accepted")
  void viewCap() {
    try (LiveClient c = ws("hooli")) {
      assertEquals("subscribed", subscribeFiltered(c, "a", "views", "a").type());
      assertEquals("subscribed", subscribeFiltered(c, "b", "views", "b").type());
      Msg refused = subscribeFiltered(c, "c", "views", "c");
      assertEquals("error", refused.type(), refused.json().encode());
      assertTrue(refused.json().getString("error").contains(
          "tenant hooli is at its limit of 2 views (limits.perTenant.maxViews)"), refused.json().encode());
      try (LiveClient p = ws("piedpiper")) {
        assertEquals("subscribed", subscribeFiltered(p, "c", "views", "c").type(), "another tenant's view");
      }
    }
  }
}

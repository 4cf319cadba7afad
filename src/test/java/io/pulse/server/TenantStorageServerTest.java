package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two tenants with a stream of the same name on a server with storage (PgFixture): the history
 * API, the stored catalogue and the stored quarantine answer each tenant with its own rows only.
 * Acme's events carry v = 1, globex's v = 1000.
 */
class TenantStorageServerTest {

  private static HttpResponse<String> call(TestPulse pulse, String tenant, String method, String path, String body) {
    return pulse.request(method, path, body, TestTenants.as(tenant));
  }

  private static JsonObject ok(HttpResponse<String> r) {
    assertTrue(r.statusCode() == 200 || r.statusCode() == 202, r.statusCode() + " " + r.body());
    return new JsonObject(r.body());
  }

  private static void post(TestPulse pulse, String tenant, int n, double v, String dims) {
    JsonArray events = new JsonArray();
    for (int i = 0; i < n; i++) {
      events.add(new JsonObject("{\"stream\":\"hist\",\"dims\":" + dims + ",\"values\":{\"v\":" + v + "}}"));
    }
    assertEquals(202, call(pulse, tenant, "POST", "/api/v1/events", events.encode()).statusCode());
  }

  /** The events in a /series answer, and checks that every point's values lie in [lo, hi]. */
  private static long events(JsonObject series, double lo, double hi) {
    long n = 0;
    for (Object s : series.getJsonArray("series")) {
      for (Object p : ((JsonObject) s).getJsonArray("points")) {
        JsonObject point = ((JsonArray) p).getJsonObject(1);
        if (point.getLong("count") == 0) {
          continue; // an empty bucket of the range: a gap, no figures
        }
        JsonObject v = point.getJsonObject("values").getJsonObject("v");
        assertTrue(v.getDouble("min") >= lo && v.getDouble("max") <= hi, "another tenant's figures: " + point);
        n += point.getLong("count");
      }
    }
    return n;
  }

  /** Events in the stored windows a since= subscriber got; each must hold only the value {@code v}. */
  private static long storedEvents(LiveClient c, double v) {
    long n = 0;
    for (LiveClient.Msg m : c.seen()) {
      if ("rollup".equals(m.type()) && m.json().getBoolean("history", false)) {
        assertEquals("hist", m.json().getString("stream"));
        JsonObject x = m.json().getJsonObject("values").getJsonObject("v");
        assertEquals(v, x.getDouble("min"), m.json().encode());
        assertEquals(v, x.getDouble("max"), m.json().encode());
        n += m.json().getLong("count");
      }
    }
    return n;
  }

  private static JsonObject listed(TestPulse pulse, String tenant, String name) {
    for (Object o : ok(call(pulse, tenant, "GET", "/api/v1/streams", null)).getJsonArray("streams")) {
      if (name.equals(((JsonObject) o).getString("stream"))) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  @DisplayName("history, stored catalogue and stored quarantine: each tenant reads its own rows only")
  void storedPerTenant() {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "100ms").put("allowedLatenessMs", 0)
            .put("streamIdleMs", 300))
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        .put("live", new JsonObject().put("flushMs", 50)))) {
      pulse.pulse().callers(TestTenants.RESOLVER);
      post(pulse, "acme", 3, 1, "{\"region\":\"eu\"}");
      post(pulse, "globex", 2, 1000, "{\"shop\":\"s1\"}");

      String path = "/api/v1/streams/hist/series?from=15m";
      JsonObject a = Await.until("acme's windows stored", () -> ok(call(pulse, "acme", "GET", path, null)),
          j -> events(j, 1, 1) == 3, 20_000);
      JsonObject g = Await.until("globex's windows stored", () -> ok(call(pulse, "globex", "GET", path, null)),
          j -> events(j, 1000, 1000) == 2, 20_000);
      assertEquals("hist", a.getString("stream"));
      assertEquals("hist", g.getString("stream"));
      HttpResponse<String> none = pulse.request("GET", path, null);
      assertEquals(404, none.statusCode(), "the default tenant never had hist: " + none.body());

      // forgotten in memory once stored: listed from the stored catalogue, each tenant its own row
      JsonObject la = Await.until("acme's hist listed from storage", () -> listed(pulse, "acme", "hist"),
          j -> j != null && !j.getBoolean("live"), 20_000);
      JsonObject lg = Await.until("globex's hist listed from storage", () -> listed(pulse, "globex", "hist"),
          j -> j != null && !j.getBoolean("live"), 20_000);
      assertEquals(new JsonObject().put("region", new JsonArray().add("eu")), la.getJsonObject("dims"));
      assertEquals(new JsonObject().put("shop", new JsonArray().add("s1")), lg.getJsonObject("dims"));
      assertNull(listed(pulse, "default", "hist"));

      // history first on the live feed (since=): each tenant's stored windows only (after the catalogue check:
      // a watched view keeps its stream from being forgotten)
      try (LiveClient sa = LiveClient.sse(pulse.port(), "stream=hist&since=15m", null, TestTenants.headers("acme"));
          LiveClient sg = LiveClient.sse(pulse.port(), "stream=hist&since=15m", null, TestTenants.headers("globex"))) {
        sa.await(m -> "history".equals(m.type()), 10_000);
        sg.await(m -> "history".equals(m.type()), 10_000);
        assertEquals(3, storedEvents(sa, 1), sa.seen().toString());
        assertEquals(2, storedEvents(sg, 1000), sg.seen().toString());
      }

      // the stored quarantine: acme's rejection is not globex's to list, delete or requeue
      assertEquals(202, call(pulse, "acme", "POST", "/api/v1/events",
          "{\"stream\":\"hist\",\"values\":{\"v\":\"x\"}}").statusCode());
      JsonObject qa = ok(call(pulse, "acme", "GET", "/api/v1/quarantine?stream=hist", null));
      assertEquals(true, qa.getBoolean("stored"));
      assertEquals(1, qa.getJsonArray("items").size(), qa.encode());
      long id = qa.getJsonArray("items").getJsonObject(0).getLong("id");
      assertEquals(0, ok(call(pulse, "globex", "GET", "/api/v1/quarantine?stream=hist", null)).getJsonArray("items")
          .size());
      assertEquals(404, call(pulse, "globex", "DELETE", "/api/v1/quarantine/" + id, null).statusCode());
      assertEquals(404, call(pulse, "globex", "POST", "/api/v1/quarantine/" + id + "/requeue", null).statusCode());
      assertEquals(1, ok(call(pulse, "acme", "GET", "/api/v1/quarantine?stream=hist", null)).getJsonArray("items")
          .size(), "still there for acme");
      assertEquals(1, ok(call(pulse, "acme", "DELETE", "/api/v1/quarantine/" + id, null)).getLong("deleted"));
      // the purge is audited under acme, with the caller's subject as actor
      JsonArray audit = ok(call(pulse, "acme", "GET", "/api/v1/audit?action=quarantine.", null)).getJsonArray("entries");
      assertEquals("test-acme", audit.getJsonObject(0).getString("actor"));
      assertEquals(0, ok(call(pulse, "globex", "GET", "/api/v1/audit?action=quarantine.", null))
          .getJsonArray("entries").size());
    }
  }
}

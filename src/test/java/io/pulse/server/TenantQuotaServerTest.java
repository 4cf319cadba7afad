package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Per-tenant caps ({@code limits.perTenant.*}) against a real server (storage off), two tenants
 * told apart by the test's CallerResolver ({@link TestTenants}): the tenant at a cap gets the
 * reason, the other goes on. Each test uses tenants of its own, as the caps are per tenant.
 */
class TenantQuotaServerTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("limits", new JsonObject().put("perTenant", new JsonObject().put("maxStreams", 2).put("maxSeries", 3))));
    pulse.pulse().callers(TestTenants.RESOLVER);
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  /** POSTs a JSON array of one event per key of {@code stream} (dims {"k": key}) as {@code tenant}. */
  private static JsonObject post(String tenant, String stream, String... keys) {
    JsonArray events = new JsonArray();
    for (String k : keys) {
      events.add(new JsonObject().put("stream", stream).put("dims", new JsonObject().put("k", k))
          .put("values", new JsonObject().put("v", 1)));
    }
    HttpResponse<String> r = pulse.request("POST", "/api/v1/events", events.encode(), TestTenants.as(tenant));
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  @Test
  @DisplayName("HTTP: a tenant past limits.perTenant.maxStreams has its new stream's events rejected with the reason; another tenant's are accepted")
  void streamCap() {
    assertEquals(1, post("acme", "one", "a").getInteger("accepted"));
    assertEquals(1, post("acme", "two", "a").getInteger("accepted"));
    JsonObject refused = post("acme", "three", "a");
    assertEquals(0, refused.getInteger("accepted"), refused.encode());
    String why = refused.getJsonArray("errors").getJsonObject(0).getString("error");
    assertTrue(why.contains("tenant acme is at its limit of 2 streams (limits.perTenant.maxStreams)"), why);
    for (String s : new String[] {"one", "two"}) {
      JsonObject ok = post("globex", s, "a");
      assertEquals(1, ok.getInteger("accepted"), ok.encode());
    }
    assertEquals(1, post("acme", "one", "b").getInteger("accepted"), "acme's known streams go on");
    assertTrue(refusals("streams") >= 1, "counted in pulse_tenant_refusals_total");
  }

  /** pulse_tenant_refusals_total of one resource, all tenants together. */
  private static double refusals(String resource) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^pulse_tenant_refusals_total\\{resource=\""
        + resource + "\"\\} ([0-9.eE+]+)$").matcher(pulse.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  @DisplayName("HTTP: a tenant past limits.perTenant.maxSeries has new series folded into _overflow with the reason in overflowNote; another tenant's are not")
  void seriesCap() {
    JsonObject full = post("initech", "orders", "a", "b", "c", "d");
    assertEquals(4, full.getInteger("accepted"), full.encode());
    assertEquals(1, full.getInteger("overflowed"), full.encode());
    assertTrue(full.getString("overflowNote").contains("tenant initech is at its limit of 3 series "
        + "(limits.perTenant.maxSeries)"), full.encode());
    assertTrue(refusals("series") >= 1, "counted in pulse_tenant_refusals_total");
    assertEquals(0, refusals("connections"), "a resource nobody hit is there at 0");
    JsonObject other = post("umbrella", "orders", "a", "b", "c");
    assertEquals(0, other.getInteger("overflowed", 0), other.encode());
    assertNull(other.getString("overflowNote"), other.encode());
  }
}

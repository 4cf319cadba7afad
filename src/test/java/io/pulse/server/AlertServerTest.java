package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.pulse.verticles.Addresses;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Alerting through the real server with storage (PgFixture): rules created over HTTP fire on
 * ingested events, each transition arrives on the bus ({@code pulse.alerts}), in the API and in
 * the database; ack/unack, silences, the preview over stored history, invalid rules, and two
 * tenants with a stream of the same name. Windows are 1 s.
 */
class AlertServerTest {

  private static PgFixture.Db db;
  private static TestPulse pulse;
  private static final List<JsonObject> bus = new CopyOnWriteArrayList<>();
  private static MessageConsumer<JsonObject> consumer;

  @BeforeAll
  static void start() {
    db = PgFixture.freshDatabase();
    pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "1s").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50))
        .put("streams", new JsonObject().put("early", new JsonObject().put("window", "10s"))));
    pulse.pulse().callers(TestTenants.RESOLVER);
    consumer = pulse.pulse().vertx().eventBus().consumer(Addresses.ALERTS, m -> bus.add(m.body()));
    try {
      consumer.completion().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static HttpResponse<String> call(String tenant, String method, String path, String body) {
    return pulse.request(method, path, body, TestTenants.as(tenant));
  }

  private static JsonObject ok(HttpResponse<String> r, int status) {
    assertEquals(status, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static void events(String tenant, String stream, int n, double ms, String dims) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < n; i++) {
      a.add(new JsonObject("{\"stream\":\"" + stream + "\",\"dims\":" + dims + ",\"values\":{\"ms\":" + ms + "}}"));
    }
    ok(call(tenant, "POST", "/api/v1/events", a.encode()), 202);
  }

  private static String rule(String tenant, String stream, String extra) {
    return ok(call(tenant, "POST", "/api/v1/rules", "{\"name\":\"slow " + stream + "\",\"stream\":\"" + stream
        + "\",\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"max\",\"op\":\">\",\"value\":500,"
        + "\"severity\":\"critical\",\"labels\":{\"team\":\"pay\"}" + extra + "}"), 201).getString("id");
  }

  /** Sends breaching events every 300 ms (the wait's poll interval) until the bus has a transition passing {@code ok}. */
  private static JsonObject awaitBus(String tenant, String stream, double ms, Predicate<JsonObject> ok) {
    return Await.until("a transition on pulse.alerts", () -> {
      events(tenant, stream, 3, ms, "{}");
      return bus.stream().filter(ok).findFirst().orElse(null);
    }, x -> x != null, 15_000, 300);
  }

  @Test
  @DisplayName("a threshold rule fires on ingested events: the transition is on the bus (API.md's alert message and "
      + "the notifier's fields), listed by GET /api/v1/alerts?state=firing, stored with its history")
  void thresholdFires() {
    String ruleId = rule("default", "lat1", "");
    JsonObject t = awaitBus("default", "lat1", 900, j -> ruleId.equals(j.getString("rule"))
        && "firing".equals(j.getString("state")));
    assertEquals("alert", t.getString("type"));
    assertEquals("default", t.getString("tenant"));
    assertEquals("lat1", t.getString("stream"));
    assertEquals("critical", t.getString("severity"));
    assertEquals("slow lat1", t.getString("ruleName"));
    assertEquals(900.0, t.getDouble("value"));
    assertEquals("pay", t.getJsonObject("labels").getString("team"));
    assertTrue(t.getBoolean("notify"));
    assertFalse(t.getBoolean("flapping"));
    assertNotNull(t.getString("message"));
    assertNotNull(t.getLong("at"));
    String id = t.getString("id");
    JsonObject listed = pulse.awaitJson("/api/v1/alerts?state=firing&stream=lat1",
        j -> j.getJsonArray("alerts").stream().anyMatch(a -> id.equals(((JsonObject) a).getString("id"))));
    assertEquals(1, listed.getJsonArray("alerts").size());
    Await.until("the alert and its transition stored", () -> db.queryLong(
        "select count(*) from alert_transitions where tenant = 'default' and alert_id = '" + id + "'"), n -> n >= 1,
        10_000);
    assertEquals(1, db.queryLong("select count(*) from alerts where tenant = 'default' and id = '" + id
        + "' and state = 'firing'"));
    assertTrue(pulse.get("/metrics").body().contains("pulse_alerts_transitions_total{state=\"firing\"}"));
  }

  @Test
  @DisplayName("early firing: a count rule fires on the running update that crosses its level, while its 10 s window "
      + "is still open")
  void firesBeforeTheWindowCloses() {
    String ruleId = ok(call("default", "POST", "/api/v1/rules", "{\"name\":\"busy\",\"stream\":\"early\","
        + "\"kind\":\"threshold\",\"op\":\">=\",\"value\":5}"), 201).getString("id");
    // the rule's view is held (its running updates flow) a few ms after the alert verticle hears of the rule;
    // the events go in the first half of a 10 s window, half a second after the rule at the earliest
    long created = System.currentTimeMillis();
    long windowEnd = Await.until("the first half of a 10 s window", System::currentTimeMillis,
        t -> t % 10_000 < 4_000 && t - created >= 500, 12_000) / 10_000 * 10_000 + 10_000;
    JsonArray a = new JsonArray();
    for (int i = 0; i < 6; i++) {
      a.add(new JsonObject().put("stream", "early").put("ts", windowEnd - 9_000).put("values", new JsonObject()
          .put("ms", 1)));
    }
    ok(call("default", "POST", "/api/v1/events", a.encode()), 202);
    JsonObject t = Await.until("the early firing", () -> bus.stream().filter(j -> ruleId.equals(j.getString("rule"))
        && "firing".equals(j.getString("state"))).findFirst().orElse(null), x -> x != null, 15_000);
    assertTrue(t.getLong("at") < windowEnd, "fired at " + t.getLong("at") + ", before the window's end " + windowEnd);
    assertEquals(6.0, t.getDouble("value"));
  }

  @Test
  @DisplayName("a filtered group-by rule (an on-demand view, kept acquired for the rule) fires one alert per group of "
      + "the filtered events, each with its series")
  void groupByWithFilter() {
    String ruleId = rule("default", "gb", ",\"filter\":{\"service\":\"api\"},\"groupBy\":[\"region\"]");
    Await.until("both regions firing", () -> {
      events("default", "gb", 2, 900, "{\"service\":\"api\",\"region\":\"eu\"}");
      events("default", "gb", 2, 900, "{\"service\":\"api\",\"region\":\"us\"}");
      events("default", "gb", 2, 900, "{\"service\":\"web\",\"region\":\"ap\"}");
      return bus.stream().filter(j -> ruleId.equals(j.getString("rule")) && "firing".equals(j.getString("state")))
          .map(j -> j.getJsonObject("series").getString("region")).collect(java.util.stream.Collectors.toSet());
    }, regions -> regions.equals(java.util.Set.of("eu", "us")), 15_000, 300);
    JsonObject list = ok(call("default", "GET", "/api/v1/alerts?state=firing&stream=gb", null), 200);
    assertEquals(2, list.getJsonArray("alerts").size(), list.encode());
  }

  @Test
  @DisplayName("absence over the clock: a job that stops sending fires after absentFor while the other keeps "
      + "sending; it resolves when the job sends again")
  void absence() {
    String ruleId = ok(call("default", "POST", "/api/v1/rules", "{\"name\":\"job silent\",\"stream\":\"pipe\","
        + "\"kind\":\"absence\",\"absentFor\":\"2s\",\"groupBy\":[\"job\"]}"), 201).getString("id");
    Await.until("both jobs seen", () -> {
      events("default", "pipe", 1, 1, "{\"job\":\"a\"}");
      events("default", "pipe", 1, 1, "{\"job\":\"b\"}");
      return pulse.get("/api/v1/streams").json();
    }, j -> j.getJsonArray("streams").stream().anyMatch(x -> "pipe".equals(((JsonObject) x).getString("stream"))),
        10_000, 300);
    JsonObject fired = Await.until("job b silent for 2 s", () -> {
      events("default", "pipe", 1, 1, "{\"job\":\"a\"}");
      return bus.stream().filter(j -> ruleId.equals(j.getString("rule")) && "firing".equals(j.getString("state")))
          .findFirst().orElse(null);
    }, x -> x != null, 15_000, 300);
    assertEquals(new JsonObject().put("job", "b"), fired.getJsonObject("series"), fired.encode());
    String id = fired.getString("id");
    Await.until("job b back", () -> {
      events("default", "pipe", 1, 1, "{\"job\":\"b\"}");
      return bus.stream().anyMatch(j -> id.equals(j.getString("id")) && "resolved".equals(j.getString("state")));
    }, x -> x, 15_000, 300);
  }

  @Test
  @DisplayName("ack and unack over HTTP: acknowledged by the caller with a comment, visible with its transitions; "
      + "unack fires it again; an unknown id is 404, a past until 400, unack of a firing alert 409")
  void ackAndUnack() {
    String ruleId = rule("default", "lat2", "");
    String id = awaitBus("default", "lat2", 900, j -> ruleId.equals(j.getString("rule"))
        && "firing".equals(j.getString("state"))).getString("id");
    JsonObject acked = ok(call("default", "POST", "/api/v1/alerts/" + id + "/ack", "{\"comment\":\"on it\"}"), 200);
    assertEquals("acknowledged", acked.getString("state"));
    assertEquals("test-default", acked.getJsonObject("ack").getString("by"));
    assertEquals("on it", acked.getJsonObject("ack").getString("comment"));
    assertTrue(acked.getJsonObject("ack").getBoolean("untilResolved"));
    JsonObject one = ok(call("default", "GET", "/api/v1/alerts/" + id, null), 200);
    List<String> reasons = one.getJsonArray("transitions").stream().map(x -> ((JsonObject) x).getString("reason"))
        .toList();
    assertEquals(List.of("firing", "acknowledged"), reasons);
    Await.until("the acknowledgement on the bus", () -> bus.stream().anyMatch(j -> id.equals(j.getString("id"))
        && "acknowledged".equals(j.getString("state"))), x -> x, 5000);
    assertEquals("firing", ok(call("default", "POST", "/api/v1/alerts/" + id + "/unack", null), 200)
        .getString("state"));
    assertEquals(409, call("default", "POST", "/api/v1/alerts/" + id + "/unack", null).statusCode());
    HttpResponse<String> past = call("default", "POST", "/api/v1/alerts/" + id + "/ack", "{\"until\":1000}");
    assertEquals(400, past.statusCode(), past.body());
    assertTrue(new JsonObject(past.body()).getString("error").contains("until"));
    HttpResponse<String> none = call("default", "POST", "/api/v1/alerts/nope/ack", "{}");
    assertEquals(404, none.statusCode());
    assertNotNull(new JsonObject(none.body()).getString("error"));
    assertEquals(404, call("default", "GET", "/api/v1/alerts/nope", null).statusCode());
  }

  @Test
  @DisplayName("a silence over HTTP: alerts it matches still fire and are listed, with notify false; it is listed, "
      + "and DELETE ends it")
  void silence() {
    JsonObject s = ok(call("default", "POST", "/api/v1/silences", "{\"matchers\":[{\"name\":\"stream\",\"value\":"
        + "\"lat3\"}],\"duration\":\"1h\",\"comment\":\"maintenance\"}"), 201);
    String sid = s.getString("id");
    assertEquals("active", s.getString("status"));
    assertEquals("test-default", s.getString("createdBy"));
    String ruleId = rule("default", "lat3", "");
    JsonObject t = awaitBus("default", "lat3", 900, j -> ruleId.equals(j.getString("rule"))
        && "firing".equals(j.getString("state")));
    assertFalse(t.getBoolean("notify"), "silenced: shown, not sent");
    assertTrue(t.getBoolean("silenced"));
    JsonObject listed = ok(call("default", "GET", "/api/v1/silences", null), 200);
    assertTrue(listed.getJsonArray("silences").stream().anyMatch(x -> sid.equals(((JsonObject) x).getString("id"))));
    assertEquals("expired", ok(call("default", "DELETE", "/api/v1/silences/" + sid, null), 200).getString("status"));
    Await.until("the unsilenced transition", () -> bus.stream().anyMatch(j -> t.getString("id").equals(j.getString("id"))
        && "unsilenced".equals(j.getString("reason")) && j.getBoolean("notify")), x -> x, 5000);
    HttpResponse<String> bad = call("default", "POST", "/api/v1/silences", "{\"matchers\":[]}");
    assertEquals(400, bad.statusCode());
    assertTrue(new JsonObject(bad.body()).getString("error").startsWith("matchers:"), bad.body());
    assertEquals(404, call("default", "GET", "/api/v1/silences/nope", null).statusCode());
    assertEquals(404, call("default", "DELETE", "/api/v1/silences/nope", null).statusCode());
    assertEquals(404, call("acme", "GET", "/api/v1/silences/" + sid, null).statusCode(), "another tenant's silence");
    assertEquals(1, db.queryLong("select count(*) from silences where id = '" + sid + "'"));
  }

  @Test
  @DisplayName("an invalid rule is refused with 400 and its reason and never stored")
  void invalidRule() {
    HttpResponse<String> r = call("default", "POST", "/api/v1/rules", "{\"name\":\"x\",\"stream\":\"lat4\","
        + "\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"p42\",\"op\":\">\",\"value\":1}");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(new JsonObject(r.body()).getString("error").startsWith("figure:"), r.body());
    HttpResponse<String> dur = call("default", "POST", "/api/v1/rules", "{\"id\":\"bad-for\",\"name\":\"x\","
        + "\"stream\":\"lat4\",\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"for\":\"soon\"}");
    assertEquals(400, dur.statusCode(), dur.body());
    assertEquals(404, call("default", "GET", "/api/v1/rules/bad-for", null).statusCode(), "never stored");
    String id = rule("default", "lat4", "");
    HttpResponse<String> upd = call("default", "PUT", "/api/v1/rules/" + id, "{\"name\":\"x\",\"stream\":\"lat4\","
        + "\"kind\":\"absence\"}");
    assertEquals(400, upd.statusCode(), upd.body());
    assertTrue(new JsonObject(upd.body()).getString("error").contains("absentFor"));
    assertEquals(1, ok(call("default", "GET", "/api/v1/rules/" + id, null), 200).getInteger("version"));
    HttpResponse<String> state = call("default", "GET", "/api/v1/alerts?state=burning", null);
    assertEquals(400, state.statusCode());
    assertTrue(new JsonObject(state.body()).getString("error").startsWith("state:"), state.body());
  }

  @Test
  @DisplayName("POST /api/v1/rules/preview replays stored history through a rule: it would have fired")
  void preview() {
    events("default", "lat5", 5, 900, "{}");
    long from = System.currentTimeMillis() - 600_000;
    String body = preview(500, from);
    JsonObject p = Await.until("a preview over the stored windows", () -> ok(call("default", "POST",
        "/api/v1/rules/preview", body), 200), j -> j.getLong("fired") >= 1, 15_000);
    assertTrue(p.getInteger("windows") >= 1);
    JsonObject a = p.getJsonArray("alerts").getJsonObject(0);
    assertNotNull(a.getLong("firedAt"));
    assertEquals(900.0, a.getDouble("peak"));
    JsonObject none = ok(call("default", "POST", "/api/v1/rules/preview", preview(5000, from)), 200);
    assertEquals(0, none.getLong("fired"));
    assertEquals(400, call("default", "POST", "/api/v1/rules/preview", "{\"rule\":{\"name\":\"p\"}}").statusCode());
    assertEquals(400, call("default", "POST", "/api/v1/rules/preview", body.replace("\"from\":",
        "\"to\":1000,\"from\":")).statusCode(), "from after to");
  }

  private static String preview(double level, long from) {
    return "{\"rule\":{\"name\":\"p\",\"stream\":\"lat5\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":" + level + "},\"from\":" + from + "}";
  }

  @Test
  @DisplayName("two tenants, one stream name: a rule of acme fires on acme's events only; each tenant lists its own "
      + "alerts and cannot ack the other's")
  void tenants() {
    String acmeRule = rule("acme", "shared", "");
    events("globex", "shared", 5, 900, "{}"); // globex breaches, but has no rule
    JsonObject t = awaitBus("acme", "shared", 900, j -> acmeRule.equals(j.getString("rule"))
        && "firing".equals(j.getString("state")));
    assertEquals("acme", t.getString("tenant"));
    assertTrue(bus.stream().noneMatch(j -> "globex".equals(j.getString("tenant"))));
    String id = t.getString("id");
    JsonObject acme = ok(call("acme", "GET", "/api/v1/alerts", null), 200);
    assertTrue(acme.getJsonArray("alerts").stream().anyMatch(x -> id.equals(((JsonObject) x).getString("id"))));
    assertEquals(0, ok(call("globex", "GET", "/api/v1/alerts", null), 200).getJsonArray("alerts").size());
    assertEquals(404, call("globex", "POST", "/api/v1/alerts/" + id + "/ack", "{}").statusCode());
    assertEquals(404, call("globex", "GET", "/api/v1/alerts/" + id, null).statusCode());
    assertTrue(ok(call("default", "GET", "/api/v1/alerts", null), 200).getJsonArray("alerts").stream()
        .noneMatch(x -> id.equals(((JsonObject) x).getString("id"))));
  }

  @Test
  @DisplayName("deleting a rule over HTTP resolves its alerts (rule-deleted)")
  void deleteResolves() {
    String ruleId = rule("default", "lat6", "");
    String id = awaitBus("default", "lat6", 900, j -> ruleId.equals(j.getString("rule"))
        && "firing".equals(j.getString("state"))).getString("id");
    ok(call("default", "DELETE", "/api/v1/rules/" + ruleId, null), 200);
    Await.until("the resolution", () -> bus.stream().anyMatch(j -> id.equals(j.getString("id"))
        && "rule-deleted".equals(j.getString("reason"))), x -> x, 5000);
  }
}

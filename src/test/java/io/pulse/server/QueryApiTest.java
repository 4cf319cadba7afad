package io.pulse.server;

import static io.pulse.server.QueryData.FROM;
import static io.pulse.server.QueryData.MIDNIGHT;
import static io.pulse.server.QueryData.NOW;
import static io.pulse.server.QueryData.TO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * GET/POST /api/v1/query on a real server over known stored history ({@link QueryData}): the figure
 * picked of each bucket /series answers, every derived figure checked against what /series says,
 * the GET and POST forms alike, and bad requests refused with a reason (never a 500).
 */
class QueryApiTest {

  static TestPulse pulse;

  @BeforeAll
  static void start() throws Exception {
    pulse = QueryData.start();
  }

  @AfterAll
  static void stop() {
    if (pulse != null) {
      pulse.close();
    }
  }

  static JsonObject query(JsonObject request) {
    TestPulse.Response r = pulse.post("/api/v1/query", "application/json", request.encode());
    assertEquals(200, r.status(), request.encode() + " -> " + r.body());
    return r.json();
  }

  static String refused(String body) {
    TestPulse.Response r = pulse.post("/api/v1/query", "application/json", body);
    assertEquals(400, r.status(), body + " -> " + r.body());
    return r.json().getString("error");
  }

  static JsonObject series(JsonObject q, long stepMs) {
    TestPulse.Response r = pulse.get(QueryData.seriesPath(q, FROM, TO, stepMs));
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  static JsonObject q(String figure, String metric, String window) {
    JsonObject q = new JsonObject().put("stream", "pay").put("figure", figure).put("window", window);
    if (metric != null) {
      q.put("metric", metric);
    }
    return q;
  }

  /** Series of an answer by their dims. */
  static Map<JsonObject, JsonArray> byDims(JsonObject answer, String pointsKey) {
    Map<JsonObject, JsonArray> out = new HashMap<>();
    answer.getJsonArray("series").forEach(o -> out.put(((JsonObject) o).getJsonObject("series"),
        ((JsonObject) o).getJsonArray(pointsKey)));
    return out;
  }

  static Double value(JsonArray point) {
    Object v = point.getValue(1);
    return v == null ? null : ((Number) v).doubleValue();
  }

  @Test
  @DisplayName("no derive: each point is the figure of /series' bucket; empty buckets null for values, 0 for count; cut ends marked")
  void plainFigures() {
    for (String figure : new String[] {"count", "sum", "min", "max", "mean", "p50", "p95", "p99"}) {
      JsonObject query = q(figure, "count".equals(figure) ? null : "amount", "1m").put("groupBy",
          new JsonArray().add("method"));
      JsonObject answer = query(QueryData.request(query, null, 0));
      JsonObject s = series(query, 60_000);
      assertEquals("1m", answer.getString("step"));
      assertEquals(60_000L, answer.getLong("stepMs"));
      assertEquals(NOW, answer.getLong("now"));
      Map<JsonObject, JsonArray> got = byDims(answer, "points");
      Map<JsonObject, JsonArray> want = byDims(s, "points");
      assertEquals(want.keySet(), got.keySet());
      int empty = 0;
      for (JsonObject dims : want.keySet()) {
        JsonArray g = got.get(dims);
        JsonArray w = want.get(dims);
        assertEquals(40, g.size());
        for (int i = 0; i < w.size(); i++) {
          JsonObject p = w.getJsonArray(i).getJsonObject(1);
          assertEquals(w.getJsonArray(i).getLong(0), g.getJsonArray(i).getLong(0));
          if (p.getLong("count") == 0) {
            empty++;
            assertEquals("count".equals(figure) ? (Double) 0d : null, value(g.getJsonArray(i)), figure + " " + i);
          } else if ("count".equals(figure)) {
            assertEquals(p.getLong("count").doubleValue(), value(g.getJsonArray(i)));
          } else {
            assertEquals(p.getJsonObject("values").getJsonObject("amount").getDouble(figure), value(g.getJsonArray(i)),
                figure + " " + i);
          }
          assertEquals(2, g.getJsonArray(i).size(), "aligned range: no partial marks");
        }
      }
      assertEquals(6, empty, "the silent three minutes, in each of two series");
    }
    // a range cut inside buckets: the first and last points say partial, as /series does
    JsonObject cut = query(new JsonObject().put("query", q("count", null, "1m")).put("from", FROM + 30_000)
        .put("to", TO - 30_000));
    JsonArray points = cut.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(40, points.size());
    assertEquals(new JsonObject().put("partial", true), points.getJsonArray(0).getJsonObject(2));
    assertEquals(new JsonObject().put("partial", true), points.getJsonArray(39).getJsonObject(2));
    assertEquals(2, points.getJsonArray(1).size());
  }

  @Test
  @DisplayName("ratio: declined over all per method, 0 denominators null; over the total when the denominator does not group")
  void ratio() {
    JsonObject declined = q("count", null, "1m").put("groupBy", new JsonArray().add("method"))
        .put("filter", new JsonObject().put("status", "declined"));
    JsonObject answer = query(QueryData.request(declined, new JsonObject().put("op", "ratio")
        .put("denominator", new JsonObject().put("filter", new JsonObject())), 0));
    Map<JsonObject, JsonArray> num = byDims(series(declined, 60_000), "points");
    Map<JsonObject, JsonArray> all = byDims(series(declined.copy().put("filter", new JsonObject()), 60_000), "points");
    Map<JsonObject, JsonArray> got = byDims(answer, "points");
    assertEquals(2, got.size());
    int nulls = 0;
    for (JsonObject dims : got.keySet()) {
      for (int i = 0; i < 40; i++) {
        long n = num.get(dims).getJsonArray(i).getJsonObject(1).getLong("count");
        long d = all.get(dims).getJsonArray(i).getJsonObject(1).getLong("count");
        Double v = value(got.get(dims).getJsonArray(i));
        if (d == 0) {
          nulls++;
          assertNull(v);
        } else {
          assertEquals((double) n / d, v, 0.0);
        }
      }
    }
    assertTrue(nulls >= 6, "the silent minutes have no ratio");
    // sum of declined amounts over the stream's total amount: every method divides by the one total
    JsonObject sums = q("sum", "amount", "5m").put("groupBy", new JsonArray().add("method"))
        .put("filter", new JsonObject().put("status", "declined"));
    JsonObject over = query(QueryData.request(sums, new JsonObject().put("op", "ratio").put("denominator",
        new JsonObject().put("filter", new JsonObject()).put("groupBy", new JsonArray())), 0));
    JsonArray total = series(q("sum", "amount", "5m"), 300_000).getJsonArray("series").getJsonObject(0)
        .getJsonArray("points");
    Map<JsonObject, JsonArray> numSums = byDims(series(sums, 300_000), "points");
    for (Map.Entry<JsonObject, JsonArray> e : byDims(over, "points").entrySet()) {
      for (int i = 0; i < 8; i++) {
        JsonObject np = numSums.get(e.getKey()).getJsonArray(i).getJsonObject(1);
        JsonObject dp = total.getJsonArray(i).getJsonObject(1);
        Double v = value(e.getValue().getJsonArray(i));
        if (np.getLong("count") == 0 || dp.getLong("count") == 0) {
          assertNull(v, i + "");
        } else {
          assertEquals(np.getJsonObject("values").getJsonObject("amount").getDouble("sum")
              / dp.getJsonObject("values").getJsonObject("amount").getDouble("sum"), v, 0.0);
        }
      }
    }
  }

  @Test
  @DisplayName("rate: count per 10 s as events per minute")
  void rate() {
    JsonObject query = q("count", null, "10s");
    JsonObject answer = query(QueryData.request(query, new JsonObject().put("op", "rate").put("per", "1m"), 0));
    JsonArray want = series(query, 10_000).getJsonArray("series").getJsonObject(0).getJsonArray("points");
    JsonArray got = answer.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(240, got.size());
    for (int i = 0; i < 240; i++) {
      assertEquals(want.getJsonArray(i).getJsonObject(1).getLong("count") / 10.0 * 60, value(got.getJsonArray(i)),
          1e-9);
    }
  }

  @Test
  @DisplayName("cumulative since today (UTC, and 10 minutes west of it), since the range, since a time")
  void cumulative() {
    JsonObject query = q("count", null, "1m");
    JsonArray counts = series(query, 60_000).getJsonArray("series").getJsonObject(0).getJsonArray("points");
    for (Object[] c : new Object[][] {{"today", 0, MIDNIGHT}, {"today", -10, MIDNIGHT + 600_000L},
        {"today", 60, MIDNIGHT - 3_600_000L}, {"range", 0, FROM}, {MIDNIGHT + 90_000L, 0, MIDNIGHT + 120_000L}}) {
      JsonObject answer = query(QueryData.request(query, new JsonObject().put("op", "cumulative").put("since", c[0]),
          (Integer) c[1]));
      long from = (Long) c[2];
      JsonArray got = answer.getJsonArray("series").getJsonObject(0).getJsonArray("points");
      double total = 0;
      for (int i = 0; i < 40; i++) {
        long ts = counts.getJsonArray(i).getLong(0);
        if (ts < from) {
          assertNull(value(got.getJsonArray(i)), c[0] + " " + i);
        } else {
          total += counts.getJsonArray(i).getJsonObject(1).getLong("count");
          assertEquals(total, value(got.getJsonArray(i)), 0.0, c[0] + " " + i);
        }
      }
      assertTrue(total > 0);
    }
  }

  @Test
  @DisplayName("movingAverage: mean of the non-null p95 over the last 5 buckets, null across a silent stretch")
  void movingAverage() {
    JsonObject query = q("p95", "amount", "30s");
    JsonObject answer = query(QueryData.request(query, new JsonObject().put("op", "movingAverage").put("n", 5), 0));
    JsonArray want = series(query, 30_000).getJsonArray("series").getJsonObject(0).getJsonArray("points");
    JsonArray got = answer.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(80, got.size());
    int nulls = 0;
    for (int i = 0; i < 80; i++) {
      double sum = 0;
      int k = 0;
      for (int j = Math.max(0, i - 4); j <= i; j++) {
        JsonObject v = want.getJsonArray(j).getJsonObject(1).getJsonObject("values").getJsonObject("amount");
        if (v != null) {
          sum += v.getDouble("p95");
          k++;
        }
      }
      if (k == 0) {
        nulls++;
        assertNull(value(got.getJsonArray(i)));
      } else {
        assertEquals(sum / k, value(got.getJsonArray(i)), Math.abs(sum / k) * 1e-12);
      }
    }
    assertEquals(2, nulls, "six silent 30 s buckets: the last two of them see only silence over five");
  }

  @Test
  @DisplayName("lastSeen: per series the end of its newest bucket with events, ageMs from the server's now")
  void lastSeen() {
    JsonObject query = q("count", null, "1m").put("groupBy", new JsonArray().add("status").add("method"));
    JsonObject answer = query(QueryData.request(query, new JsonObject().put("op", "lastSeen"), 0));
    assertEquals(4, answer.getJsonArray("series").size());
    for (Object o : answer.getJsonArray("series")) {
      JsonObject s = (JsonObject) o;
      boolean silent = s.getJsonObject("series").equals(new JsonObject().put("method", "bank").put("status", "declined"));
      long last = silent ? MIDNIGHT + 600_000L : TO;
      assertEquals(last, s.getLong("lastSeen"), s.encode());
      assertEquals(NOW - last, s.getLong("ageMs"));
      JsonArray points = s.getJsonArray("points");
      assertEquals(last, points.getJsonArray(39).getLong(1));
      assertTrue(points.getJsonArray(39).getValue(1) instanceof Long || points.getJsonArray(39).getValue(1)
          instanceof Integer, "a time in whole ms");
    }
  }

  @Test
  @DisplayName("GET ?q= answers as POST; from/to/tz beside q; a PANEL document is taken as it is")
  void getForm() {
    JsonObject request = QueryData.request(q("count", null, "1m"), new JsonObject().put("op", "cumulative")
        .put("since", "today"), -10);
    JsonObject post = query(request);
    TestPulse.Response get = pulse.get("/api/v1/query?q=" + enc(request.encode()));
    assertEquals(200, get.status(), get.body());
    assertEquals(post, get.json());
    JsonObject bare = request.copy();
    bare.remove("from");
    bare.remove("to");
    bare.remove("tz");
    TestPulse.Response beside = pulse.get("/api/v1/query?q=" + enc(bare.encode()) + "&from=" + FROM + "&to=" + TO
        + "&tz=-10");
    assertEquals(200, beside.status(), beside.body());
    assertEquals(post, beside.json());
    JsonObject panel = new JsonObject().put("id", "p1").put("kind", "stat").put("title", "Payments today")
        .put("grid", new JsonObject().put("x", 0)).put("options", new JsonObject()).put("query", request.getValue("query"))
        .put("derive", request.getValue("derive"));
    TestPulse.Response p = pulse.get("/api/v1/query?panel=" + enc(panel.encode()) + "&from=" + FROM + "&to=" + TO
        + "&tz=-10");
    assertEquals(200, p.status(), p.body());
    assertEquals(post, p.json());
    // the panel's range when from is not given: back from the server's now
    JsonObject ranged = query(new JsonObject().put("query", q("count", null, "1m").put("range", "15m")));
    assertEquals(NOW - 900_000L, ranged.getLong("from"));
    assertEquals(NOW, ranged.getLong("to"));
    assertEquals(15, ranged.getJsonArray("series").getJsonObject(0).getJsonArray("points").size());
  }

  @Test
  @DisplayName("top: at most N series, those with the most events, and the answer says it cut")
  void top() {
    JsonObject query = q("count", null, "5m").put("groupBy", new JsonArray().add("status").add("method")).put("top", 2);
    JsonObject answer = query(QueryData.request(query, null, 0));
    assertEquals(2, answer.getJsonArray("series").size());
    assertEquals(true, answer.getBoolean("truncated"));
    assertEquals(4, answer.getInteger("seriesTotal"));
    for (Object o : answer.getJsonArray("series")) {
      assertEquals("ok", ((JsonObject) o).getJsonObject("series").getString("status"), "the busiest: status ok");
    }
    assertNull(query(QueryData.request(query.copy().put("top", 4), null, 0)).getValue("truncated"));
  }

  @Test
  @DisplayName("bad requests are 400s with the reason, never 500")
  void refusals() {
    String good = QueryData.request(q("count", null, "1m"), null, 0).encode();
    assertEquals(200, pulse.post("/api/v1/query", "application/json", good).status());
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("{", "not valid JSON");
    cases.put("[]", "must be a JSON object");
    cases.put("{}", "query: required");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"form\": 1}", "form: not a field");
    cases.put("{\"query\": {}}", "query.stream: required");
    cases.put("{\"query\": {\"stream\": \"Pay!\"}}", "query.stream:");
    cases.put("{\"query\": {\"stream\": \"pay\", \"figure\": \"p90\"}}",
        "query.figure: one of count, sum, min, max, mean, p50, p95, p99");
    cases.put("{\"query\": {\"stream\": \"pay\", \"figure\": \"p99\"}}", "query.metric: required for figure p99");
    cases.put("{\"query\": {\"stream\": \"pay\", \"window\": \"2s\"}}", "query.window: one of");
    cases.put("{\"query\": {\"stream\": \"pay\", \"range\": \"2d\"}}", "query.range: one of");
    cases.put("{\"query\": {\"stream\": \"pay\", \"top\": 0}}", "query.top:");
    cases.put("{\"query\": {\"stream\": \"pay\", \"filter\": {\"status\": 1}}}", "query.filter.status:");
    cases.put("{\"query\": {\"stream\": \"pay\", \"groupBy\": \"a b\"}}", "query.groupBy:");
    cases.put("{\"query\": {\"stream\": \"pay\", \"window\": \"1s\", \"range\": \"7d\"}}", "query.window: 1s over");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"from\": \"yesterday\"}", "from:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"from\": 10, \"to\": 5}", "from: must be before to");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"tz\": 900}", "tz:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"tz\": \"+1\"}", "tz:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"median\"}}",
        "derive.op: one of ratio, rate, cumulative, movingAverage, lastSeen");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"rate\", \"per\": \"1d\"}}", "derive.per:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"movingAverage\", \"n\": 1}}", "derive.n:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"cumulative\", \"since\": \"now\"}}",
        "derive.since:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"ratio\"}}", "derive.denominator:");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"ratio\", \"denominator\": {\"window\": \"1m\"}}}",
        "derive.denominator.window: not a field the denominator may change");
    cases.put("{\"query\": {\"stream\": \"pay\"}, \"derive\": {\"op\": \"ratio\", \"denominator\": {\"figure\": \"p99\"}}}",
        "derive.denominator.metric: required for figure p99");
    cases.forEach((body, reason) -> {
      String why = refused(body);
      assertNotNull(why);
      assertTrue(why.contains(reason), body + " -> " + why + " (expected " + reason + ")");
    });
    // the GET form's own
    for (String[] c : new String[][] {{"", "q: required"}, {"q=%7B", "q: not a JSON object"}, {"q=1", "q: not a JSON object"},
        {"q=" + enc(good) + "&step=1m", "step: not a parameter"}, {"q=" + enc(good) + "&q=" + enc(good), "q: give it once"},
        {"q=" + enc(good) + "&from=1", "from: given both"}, {"q=" + enc("{\"query\":{\"stream\":\"pay\"}}") + "&tz=x", "tz:"}}) {
      TestPulse.Response r = pulse.get("/api/v1/query?" + c[0]);
      assertEquals(400, r.status(), c[0] + " -> " + r.body());
      assertTrue(r.json().getString("error").contains(c[1]), c[0] + " -> " + r.body());
    }
  }

  /** Every field of {@code o} (nested too) in turn replaced by each of {@code odd}: the requests made. */
  static void mutations(JsonObject root, JsonObject o, Object[] odd, java.util.List<String> out) {
    for (String k : new java.util.ArrayList<>(o.fieldNames())) {
      Object keep = o.getValue(k);
      for (Object v : odd) {
        o.put(k, v);
        out.add(root.encode());
      }
      o.remove(k);
      out.add(root.encode());
      o.put(k, keep);
      if (keep instanceof JsonObject nested) {
        mutations(root, nested, odd, out);
      }
    }
  }

  @Test
  @DisplayName("hostile requests: every field of every op's request replaced by odd values is a 200, 400 or 404, never a 500")
  void hostileFields() {
    Object[] odd = {null, -1, 0, 1.5, 1e308, Long.MAX_VALUE, "", "x\u0000y", "7d", "today", "range", true,
        new JsonArray(), new JsonArray().add(1), new JsonObject(), new JsonObject().put("a", new JsonObject()),
        "é".repeat(300)};
    java.util.List<String> bodies = new java.util.ArrayList<>();
    JsonObject[] derives = {null, new JsonObject().put("op", "ratio").put("denominator", new JsonObject()
        .put("filter", new JsonObject().put("status", new JsonArray().add("ok")))), new JsonObject().put("op", "rate")
        .put("per", "1s"), new JsonObject().put("op", "cumulative").put("since", "today"), new JsonObject()
        .put("op", "movingAverage").put("n", 3), new JsonObject().put("op", "lastSeen")};
    for (JsonObject d : derives) {
      JsonObject root = QueryData.request(q("p95", "amount", "1m").put("groupBy", new JsonArray().add("method"))
          .put("filter", new JsonObject().put("status", "declined")).put("range", "1h").put("top", 3), d, 60);
      mutations(root, root, odd, bodies);
    }
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    for (String body : bodies) {
      TestPulse.Response r = pulse.post("/api/v1/query", "application/json", body);
      statuses.merge(r.status(), 1, Integer::sum);
      assertTrue(r.status() == 200 || r.status() == 400 || r.status() == 404, body + " -> " + r.status() + " "
          + r.body());
      if (r.status() != 200) {
        assertNotNull(r.json().getString("error"), body);
      }
    }
    assertTrue(statuses.getOrDefault(400, 0) > 100 && statuses.getOrDefault(200, 0) > 20, statuses.toString());
  }

  @Test
  @DisplayName("a stream never seen is 404, in the query and in the denominator")
  void unknownStream() {
    TestPulse.Response r = pulse.post("/api/v1/query", "application/json",
        QueryData.request(new JsonObject().put("stream", "nope"), null, 0).encode());
    assertEquals(404, r.status(), r.body());
    r = pulse.post("/api/v1/query", "application/json", QueryData.request(q("count", null, "1m"), new JsonObject()
        .put("op", "ratio").put("denominator", new JsonObject().put("stream", "nope")), 0).encode());
    assertEquals(404, r.status(), r.body());
    assertTrue(r.json().getString("error").contains("nope"));
  }

  @Test
  @DisplayName("with auth: another tenant's stream and a stream outside the token's read scope are 404 as if absent")
  void streamChecks() throws Exception {
    try (TestPulse auth = QueryData.start(new JsonObject().put("auth", new JsonObject().put("enabled", true)),
        io.pulse.core.Clock.SYSTEM)) {
      String body = QueryData.request(q("count", null, "1m"), null, 0).encode();
      String ratioOther = QueryData.request(q("count", null, "1m").put("stream", "pay2"), new JsonObject()
          .put("op", "ratio").put("denominator", new JsonObject().put("stream", "pay")), 0).encode();
      HttpResponse<String> ok = auth.request("POST", "/api/v1/query", body, bearer(auth.token("default", "read")));
      assertEquals(200, ok.statusCode(), ok.body());
      HttpResponse<String> get = auth.request("GET", "/api/v1/query?q=" + enc(body), null,
          bearer(auth.token("default", "read")));
      assertEquals(200, get.statusCode(), get.body());
      for (String token : new String[] {auth.token("globex", "read"), auth.token("default", "read:other*")}) {
        HttpResponse<String> r = auth.request("POST", "/api/v1/query", body, bearer(token));
        assertEquals(404, r.statusCode(), r.body());
        assertFalse(r.body().contains("\"series\""), r.body());
        r = auth.request("GET", "/api/v1/query?q=" + enc(body), null, bearer(token));
        assertEquals(404, r.statusCode(), r.body());
      }
      // a token for pay2 only may not read pay through a ratio's denominator
      HttpResponse<String> r = auth.request("POST", "/api/v1/query", ratioOther,
          bearer(auth.token("default", "read:pay2")));
      assertEquals(404, r.statusCode(), r.body());
      assertTrue(r.body().contains("no stream named \\\"pay\\\" is known"), r.body());
      HttpResponse<String> none = auth.request("POST", "/api/v1/query", body);
      assertEquals(401, none.statusCode());
      HttpResponse<String> ingestOnly = auth.request("POST", "/api/v1/query", body,
          bearer(auth.token("default", "ingest")));
      assertEquals(403, ingestOnly.statusCode());
    }
  }

  @Test
  @DisplayName("storage off: 503 with the reason, as /series")
  void storageOff() {
    try (TestPulse off = TestPulse.start(null)) {
      TestPulse.Response r = off.post("/api/v1/query", "application/json",
          QueryData.request(q("count", null, "1m"), null, 0).encode());
      assertEquals(503, r.status(), r.body());
      assertTrue(r.json().getString("error").contains("storage is off"));
    }
  }

  static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

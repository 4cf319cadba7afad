package io.pulse.browser;

import static io.pulse.server.QueryData.FROM;
import static io.pulse.server.QueryData.MIDNIGHT;
import static io.pulse.server.QueryData.TO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.server.QueryData;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * "The same definitions give the same numbers on the page and in the API", in a real Chromium
 * against a real Pulse with storage: the page's webroot/js/derive.js, loaded from the server's
 * own origin under its CSP, evaluates every derived figure on the buckets /series answers, and
 * the numbers must equal /api/v1/query's (io.pulse.query.Derive): exactly for the plain figures,
 * ratio, cumulative and lastSeen, within 1e-9 relative for rate and movingAverage. The two twins
 * are also held to one table of cases (derive-cases.json, which DeriveTest runs through Derive).
 *
 * <p>Skipped only where Chromium or its driver is missing (as LivePageBrowserTest).
 */
@DisplayName("derive.js in a real browser gives /api/v1/query's numbers")
class DeriveBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static ChromeDriverService service;
  private static ChromeDriver driver;
  private static TestPulse pulse;

  @BeforeAll
  static void start() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no Chromium at " + CHROMIUM);
    Assumptions.assumeTrue(Files.isExecutable(CHROMEDRIVER), "no ChromeDriver at " + CHROMEDRIVER);
    pulse = QueryData.start();
    ChromeOptions o = new ChromeOptions().setBinary(CHROMIUM.toString()).addArguments("--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--user-data-dir=" + Files.createTempDirectory("chrome-profile"));
    service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, o);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    // a page of the server itself, under the UI's CSP; then the module as the page imports it
    driver.get(pulse.baseUrl() + "/");
    Object loaded = driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "import('/js/derive.js').then(m => { window.__derive = m; done('ok'); }, e => done('failed: ' + e));");
    assertEquals("ok", loaded, "derive.js loads as a module from the server's origin");
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (pulse != null) {
      pulse.close();
    }
  }

  @Test
  @DisplayName("the shared table of cases: derive.js gives every expected value to the bit, and refuses with the same reasons")
  void sharedTable() throws IOException {
    JsonObject table;
    try (InputStream in = DeriveBrowserTest.class.getResourceAsStream("/derive-cases.json")) {
      table = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    String result = (String) driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "const m = window.__derive; const out = [];"
        + "for (const c of JSON.parse(arguments[0]).cases) {"
        + "  try {"
        + "    const r = (c.spec && c.spec.op === 'ratio') ? m.deriveRatio(c.spec, c.buckets, c.den, c.ctx)"
        + "        : m.derive(c.spec, c.buckets, c.ctx);"
        + "    out.push({values: r.map(p => p.value), partial: r.map(p => !!p.partial)});"
        + "  } catch (e) { out.push({error: e.message}); }"
        + "}"
        + "done(JSON.stringify(out));", table.encode());
    JsonArray got = new JsonArray(result);
    JsonArray cases = table.getJsonArray("cases");
    assertEquals(cases.size(), got.size());
    for (int i = 0; i < cases.size(); i++) {
      JsonObject c = cases.getJsonObject(i);
      JsonObject g = got.getJsonObject(i);
      String name = c.getString("name");
      if (c.containsKey("error")) {
        assertEquals(c.getString("error"), g.getString("error"), name);
        continue;
      }
      assertNull(g.getString("error"), name);
      JsonArray want = c.getJsonArray("expect");
      JsonArray have = g.getJsonArray("values");
      assertEquals(want.size(), have.size(), name);
      for (int j = 0; j < want.size(); j++) {
        assertSame(want.getValue(j), have.getValue(j), 0, name + " [" + j + "]");
        boolean partial = c.getJsonArray("buckets").getJsonObject(j).getBoolean("partial", false);
        assertEquals(partial, g.getJsonArray("partial").getBoolean(j), name + " partial [" + j + "]");
      }
    }
  }

  /** One comparison: a panel query, its derive (or null), the zone, the range, and the tolerance. */
  record Case(String name, JsonObject query, JsonObject derive, int tz, long from, long to, double relTolerance) {
  }

  static JsonObject q(String figure, String metric, String window, String... groupBy) {
    JsonObject q = new JsonObject().put("stream", QueryData.STREAM).put("figure", figure).put("window", window);
    if (metric != null) {
      q.put("metric", metric);
    }
    if (groupBy.length > 0) {
      q.put("groupBy", new JsonArray(List.of((Object[]) groupBy)));
    }
    return q;
  }

  static List<Case> cases() {
    JsonObject declined = new JsonObject().put("status", "declined");
    JsonObject all = new JsonObject().put("filter", new JsonObject());
    List<Case> c = new ArrayList<>();
    c.add(new Case("count", q("count", null, "1m"), null, 0, FROM, TO, 0));
    c.add(new Case("p99 by method", q("p99", "amount", "1m", "method"), null, 0, FROM, TO, 0));
    c.add(new Case("ratio declined/all by method", q("count", null, "1m", "method").put("filter", declined),
        op("ratio").put("denominator", all), 0, FROM, TO, 0));
    c.add(new Case("ratio declined sum / total sum", q("sum", "amount", "5m", "method").put("filter", declined),
        op("ratio").put("denominator", all.copy().put("groupBy", new JsonArray())), 0, FROM, TO, 0));
    c.add(new Case("ratio of means over a cut range", q("mean", "amount", "1m", "status"),
        op("ratio").put("denominator", new JsonObject().put("figure", "p50")), 0, FROM + 30_000, TO - 30_000, 0));
    c.add(new Case("rate per second of a 10 s count", q("count", null, "10s"), op("rate").put("per", "1s"), 0, FROM, TO,
        1e-9));
    c.add(new Case("rate per hour of sums by status", q("sum", "amount", "1m", "status"), op("rate").put("per", "1h"),
        0, FROM, TO, 1e-9));
    c.add(new Case("rate per minute over a cut range", q("count", null, "30s"), op("rate").put("per", "1m"), 0,
        FROM + 7_000, TO - 7_000, 1e-9));
    c.add(new Case("cumulative sum since today, UTC", q("sum", "amount", "1m"), op("cumulative").put("since", "today"),
        0, FROM, TO, 0));
    c.add(new Case("cumulative count since today, UTC-0:10", q("count", null, "1m", "status"),
        op("cumulative").put("since", "today"), -10, FROM, TO, 0));
    c.add(new Case("cumulative count since today, UTC+5:30 (before the range)", q("count", null, "5m"),
        op("cumulative").put("since", "today"), 330, FROM, TO, 0));
    c.add(new Case("cumulative mean since the range", q("mean", "amount", "1m", "method"),
        op("cumulative").put("since", "range"), 0, FROM, TO, 0));
    c.add(new Case("cumulative count since a time", q("count", null, "10s", "status"),
        op("cumulative").put("since", MIDNIGHT + 90_000L), 0, FROM, TO, 0));
    c.add(new Case("moving average of p95 over 5", q("p95", "amount", "30s"), op("movingAverage").put("n", 5), 0,
        FROM, TO, 1e-9));
    c.add(new Case("moving average of means by method over 3", q("mean", "amount", "1m", "method"),
        op("movingAverage").put("n", 3), 0, FROM, TO, 1e-9));
    c.add(new Case("moving average of counts over 100", q("count", null, "10s"), op("movingAverage").put("n", 100), 0,
        FROM, TO, 1e-9));
    c.add(new Case("last seen by status and method", q("count", null, "1m", "status", "method"), op("lastSeen"), 0,
        FROM, TO, 0));
    c.add(new Case("last seen of a value's max", q("max", "amount", "10s", "method", "status"), op("lastSeen"), 0,
        FROM, TO, 0));
    return c;
  }

  static JsonObject op(String op) {
    return new JsonObject().put("op", op);
  }

  @Test
  @DisplayName("every op on stored data: derive.js over /series' buckets equals /api/v1/query")
  void sameNumbersAsTheApi() {
    int points = 0;
    int exactAll = 0;
    for (Case c : cases()) {
      JsonObject request = new JsonObject().put("query", c.query()).put("from", c.from()).put("to", c.to())
          .put("tz", c.tz());
      if (c.derive() != null) {
        request.put("derive", c.derive());
      }
      TestPulse.Response r = pulse.post("/api/v1/query", "application/json", request.encode());
      assertEquals(200, r.status(), c.name() + ": " + r.body());
      JsonObject api = r.json();
      long step = api.getLong("stepMs");
      TestPulse.Response num = pulse.get(QueryData.seriesPath(c.query(), c.from(), c.to(), step));
      assertEquals(200, num.status(), num.body());
      String den = null;
      JsonObject denQuery = null;
      if (c.derive() != null && "ratio".equals(c.derive().getString("op"))) {
        denQuery = QueryData.withChanges(c.query(), c.derive().getJsonObject("denominator"));
        TestPulse.Response d = pulse.get(QueryData.seriesPath(denQuery, c.from(), c.to(), step));
        assertEquals(200, d.status(), d.body());
        den = d.body();
      }
      String page = (String) driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
          + "const [specText, numText, denText, denGroupBy, metric, figure, denMetric, denFigure, stepMs, now, tz] = arguments;"
          + "const m = window.__derive; const spec = specText ? JSON.parse(specText) : null;"
          + "const key = m.dimsKey;"
          + "const ctx = {now, tzOffsetMin: tz, windowMs: stepMs};"
          + "const dens = {};"
          + "if (denText) { for (const s of JSON.parse(denText).series) {"
          + "  dens[key(s.series)] = m.bucketsFromPoints(s.points, stepMs, denMetric, denFigure); } }"
          + "const out = {};"
          + "for (const s of JSON.parse(numText).series) {"
          + "  const b = m.bucketsFromPoints(s.points, stepMs, metric, figure);"
          + "  let r;"
          + "  if (!spec) { r = b.map(x => ({start: x.start, value: m.num(x.value), partial: x.partial})); }"
          + "  else if (spec.op === 'ratio') {"
          + "    r = m.deriveRatio(spec, b, dens[key(m.denominatorDims(s.series, denGroupBy))] || [], ctx);"
          + "  } else { r = m.derive(spec, b, ctx); }"
          + "  out[key(s.series)] = {ts: r.map(x => x.start), values: r.map(x => x.value),"
          + "    partial: r.map(x => !!x.partial), lastSeen: m.lastSeen(b), age: m.ageMs(m.lastSeen(b), now)};"
          + "}"
          + "done(JSON.stringify(out));",
          c.derive() == null ? null : c.derive().encode(), num.body(), den,
          denQuery == null ? List.of() : groupBy(denQuery), c.query().getString("metric"), c.query().getString("figure"),
          denQuery == null ? null : denQuery.getString("metric"), denQuery == null ? null : denQuery.getString("figure", "count"),
          step, api.getLong("now"), c.tz());
      JsonObject browser = new JsonObject(page);
      JsonArray apiSeries = api.getJsonArray("series");
      assertEquals(browser.size(), apiSeries.size(), c.name() + ": the same series");
      assertTrue(apiSeries.size() > 0, c.name());
      boolean someValue = false;
      for (Object o : apiSeries) {
        JsonObject s = (JsonObject) o;
        String key = new JsonObject(new TreeMap<>(s.getJsonObject("series").getMap())).encode();
        JsonObject b = browser.getJsonObject(key);
        assertTrue(b != null, c.name() + ": the page has series " + key + " of " + browser.fieldNames());
        JsonArray pts = s.getJsonArray("points");
        assertEquals(pts.size(), b.getJsonArray("values").size(), c.name() + " " + key);
        for (int i = 0; i < pts.size(); i++) {
          JsonArray p = pts.getJsonArray(i);
          String at = c.name() + " " + key + " [" + i + "]";
          assertEquals(p.getLong(0), b.getJsonArray("ts").getLong(i), at);
          Object apiValue = p.getValue(1);
          someValue |= apiValue != null;
          if (assertSame(apiValue, b.getJsonArray("values").getValue(i), c.relTolerance(), at)) {
            exactAll++;
          }
          boolean partial = p.size() > 2 && p.getJsonObject(2).getBoolean("partial", false);
          assertEquals(partial, b.getJsonArray("partial").getBoolean(i), at + " partial");
          points++;
        }
        assertEquals(s.getValue("lastSeen") == null ? null : s.getLong("lastSeen"),
            b.getValue("lastSeen") == null ? null : b.getLong("lastSeen"), c.name() + " lastSeen " + key);
        assertEquals(s.getValue("ageMs") == null ? null : s.getLong("ageMs"),
            b.getValue("age") == null ? null : b.getLong("age"), c.name() + " ageMs " + key);
      }
      assertTrue(someValue, c.name() + ": some values to compare");
      if (c.from() != FROM) {
        JsonArray first = apiSeries.getJsonObject(0).getJsonArray("points");
        assertTrue(first.getJsonArray(0).size() > 2, c.name() + ": a cut range marks its first point partial");
      }
    }
    System.out.println("DeriveBrowserTest: " + points + " points compared, " + exactAll + " identical to the bit");
    assertTrue(points > 2000, "points compared: " + points);
  }

  static List<String> groupBy(JsonObject q) {
    List<String> out = new ArrayList<>();
    if (q.getJsonArray("groupBy") != null) {
      q.getJsonArray("groupBy").forEach(x -> out.add((String) x));
    }
    return out;
  }

  /** Both null, or numbers equal within {@code rel} of the larger (0: to the bit). True when identical. */
  static boolean assertSame(Object want, Object have, double rel, String at) {
    if (want == null || have == null) {
      assertEquals(want, have, at);
      return true;
    }
    double w = ((Number) want).doubleValue();
    double h = ((Number) have).doubleValue();
    if (rel == 0) {
      assertEquals(Double.doubleToLongBits(w == 0 ? 0 : w), Double.doubleToLongBits(h == 0 ? 0 : h),
          at + ": " + w + " vs " + h);
    } else {
      assertTrue(Math.abs(w - h) <= rel * Math.max(Math.abs(w), Math.abs(h)), at + ": " + w + " vs " + h);
    }
    return w == h;
  }
}

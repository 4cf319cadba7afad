package io.pulse.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The wallboard page (webroot/js, issue 14) in a real Chromium against a real Pulse with storage:
 * a dashboard of all eight panel kinds made through the API shows real data in every panel; a
 * panel's history and its live feed join without a gap; the page comes back by itself after a
 * server restart; a subscription the server refuses is an error on its panel while the others
 * stay live. First data on screen (from navigation start) and the page's weight are printed, not
 * asserted.
 */
@DisplayName("Wallboard page (all panel kinds) in a real browser")
class WallboardBrowserTest {

  private static Browser browser;
  private static PgFixture.Db db;

  private final AtomicReference<TestPulse> pulse = new AtomicReference<>();
  private ScheduledExecutorService poster;

  @BeforeAll
  static void open() throws Exception {
    browser = Browser.open();
    db = PgFixture.freshDatabase();
  }

  @AfterAll
  static void close() {
    if (browser != null) {
      browser.close();
    }
  }

  /** A Pulse storing its history (dashboards need storage), or without storage where a test needs none. */
  private TestPulse startPulse(boolean storage) {
    pulse.set(storage ? TestPulse.startWithStorage(db, new JsonObject()) : TestPulse.start(new JsonObject()));
    return pulse.get();
  }

  @BeforeEach
  void start() {
    poster = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "event-poster");
      t.setDaemon(true);
      return t;
    });
  }

  @AfterEach
  void stop() throws Exception {
    poster.shutdownNow();
    poster.awaitTermination(5, TimeUnit.SECONDS);
    TestPulse p = pulse.getAndSet(null);
    if (p != null) {
      p.close();
    }
  }

  @Test
  @DisplayName("every panel kind renders real data; an alert a rule fires shows in the alerts panel and status grid, and is acknowledged there")
  void allPanelKinds() throws Exception {
    startPulse(true);
    AtomicInteger accepted = postEvery200Ms("wb");
    pulse.get().awaitJson("/api/v1/streams", j -> j.getJsonArray("streams").size() > 0, 15_000);
    String rule = created(pulse.get().post("/api/v1/rules", "application/json", new JsonObject()
        .put("name", "wb busy").put("stream", "wb").put("kind", "threshold").put("figure", "count")
        .put("op", ">").put("value", 0).put("for", "0s").put("severity", "critical")
        .put("groupBy", new JsonArray().add("region")).encode()));
    String id = created(pulse.get().post("/api/v1/dashboards", "application/json", allKinds("wb").encode()));

    browser.get(pulse.get().baseUrl() + "/?dashboard=" + id);
    browser.waitFor("every data panel with a value", Duration.ofSeconds(20), () -> {
      List<Map<String, Object>> ps = panelStats();
      return ps.size() == 9 && ps.stream().filter(p -> !List.of("alerts", "text").contains(p.get("kind")))
          .allMatch(p -> p.get("last") instanceof Number);
    });
    assertTrue(accepted.get() > 0);
    assertEquals(9, ((Number) browser.stats().get("panels")).intValue());

    // what each kind shows, read from the screen
    WebElement ts = panel("ts");
    browser.waitFor("the chart's lines", Duration.ofSeconds(10), () -> legend(ts).containsAll(List.of("eu", "us")));
    assertFalse(ts.findElements(By.cssSelector("canvas")).isEmpty(), "uPlot drew a canvas");
    assertTrue(Integer.parseInt(ts.findElement(By.cssSelector(".panel-body")).getAttribute("data-points")) > 0);
    String stat = panel("st").findElement(By.cssSelector(".stat-value")).getText();
    assertTrue(stat.matches("[0-9,.]+"), "the stat's big number: " + stat);
    assertTrue(panel("st").findElement(By.cssSelector(".stat-word")).getText().matches(".*(OK|Warning|Critical).*"),
        "the stat's level is written out, not only coloured");
    String gauge = panel("ga").findElement(By.cssSelector(".gauge-value")).getText();
    assertTrue(gauge.matches("[0-9,.]+"), "the gauge's value: " + gauge);
    browser.waitFor("two bars", Duration.ofSeconds(10), () -> panel("ba").findElements(By.cssSelector(".bars li")).size() == 2);
    // the bars show the open window, which fills shard by shard: right after a window begins it can
    // hold us's event before eu's two, so the order is waited for, not read once
    browser.waitFor("eu carries more than us: sorted descending", Duration.ofSeconds(10), () -> {
      Object bars = browser.js("return [...document.querySelectorAll('section[data-panel=ba] .bar-label')].map(e => e.textContent)");
      return ((List<?>) bars).size() == 2 && ((List<?>) bars).get(0).toString().endsWith("eu");
    });
    browser.waitFor("two table rows", Duration.ofSeconds(10), () -> panel("tb").findElements(By.cssSelector("tbody tr")).size() == 2);
    assertTrue(text("section[data-panel=tb] tbody tr td.num").matches("[0-9,.]+"), text("section[data-panel=tb] tbody"));
    String text = panel("tx").findElement(By.cssSelector(".text-panel")).getText();
    assertTrue(text.contains("<b>plain</b>"), "text is shown as text, never parsed as HTML: " + text);
    assertEquals(2, panel("tx").findElements(By.cssSelector(".text-panel p")).size(), "a blank line makes a paragraph");
    assertTrue(panel("tx").findElements(By.cssSelector(".text-panel b")).isEmpty());

    // a derived ratio (derive.js): eu's events over all; every post holds two eu events and one us, so
    // each closed window (older than a few seconds: both subscriptions have its final) is exactly 2/3
    long shownAt = System.currentTimeMillis();
    browser.waitFor("closed ratio windows", Duration.ofSeconds(20), () -> closed("ra").stream()
        .filter(b -> b.start >= shownAt && b.start < System.currentTimeMillis() - 4000).count() >= 3);
    long settled = System.currentTimeMillis() - 4000;
    for (Bucket b : closed("ra")) {
      if (b.start >= shownAt && b.start < settled) {
        assertEquals(2.0 / 3.0, b.value, 1e-9, "ratio of window " + b.start);
      }
    }
    assertTrue(text("section[data-panel=ra] .stat-value").matches("0\\.[0-9]{3}"), text("section[data-panel=ra] .stat-value"));

    // the rule fires for both regions: the alerts panel lists them, the status grid says Critical in words
    browser.waitFor("the rule's alerts in the alerts panel", Duration.ofSeconds(20),
        () -> panel("al").findElements(By.cssSelector(".alert[data-state=firing]")).size() >= 2);
    browser.waitFor("status tiles at critical", Duration.ofSeconds(10), () -> panel("sg")
        .findElements(By.cssSelector(".tile[data-level=critical]")).size() == 2);
    // panels redraw their lists as data come: read what is on screen in one script, not through held elements
    String tile = text("section[data-panel=sg] .tile[data-level=critical]");
    assertTrue(tile.contains("Critical") && tile.contains("✕"), "state as a word and an icon: " + tile);
    browser.screenshot("wallboard-all-kinds.png");

    String alertId = (String) browser.js("return document.querySelector('section[data-panel=al] .alert[data-state=firing]').dataset.id");
    // a real click on the panel's button (found afresh: the list is redrawn as alerts change)
    browser.waitFor("the Acknowledge button clicked", Duration.ofSeconds(10), () -> {
      try {
        browser.driver().findElement(By.cssSelector("section[data-panel=al] .alert[data-id='" + alertId + "'] button.ack")).click();
        return true;
      } catch (org.openqa.selenium.StaleElementReferenceException | org.openqa.selenium.NoSuchElementException e) {
        return false;
      }
    });
    browser.waitFor("the alert acknowledged on the server", Duration.ofSeconds(10), () -> "acknowledged".equals(
        pulse.get().get("/api/v1/alerts/" + alertId).json().getString("state")));
    browser.waitFor("and shown so in the panel", Duration.ofSeconds(10), () -> !panel("al")
        .findElements(By.cssSelector(".alert[data-id='" + alertId + "'][data-state=acknowledged]")).isEmpty());
    assertNotNull(rule);

    // figures of record: first data on screen from navigation start, and the page's weight (fresh profile: cold)
    System.out.println("[wallboard] first data on screen " + browser.stats().get("firstDataMs")
        + " ms after navigation start (first load, cold cache, 9 panels, storage on)");
    Map<String, Object> weight = browser.weight();
    System.out.println("[wallboard] page weight, first load with a cold cache: " + weight.get("transferred")
        + " bytes transferred in " + weight.get("resources") + " requests (bodies " + weight.get("encoded")
        + " bytes as sent, gzip where asked, " + weight.get("decoded") + " bytes decoded): " + weight.get("code")
        + " bytes of page code (HTML, modules, CSS, uPlot) and " + weight.get("data") + " bytes of API answers: "
        + weight.get("names"));
    for (int i = 0; i < 3; i++) {
      browser.get(pulse.get().baseUrl() + "/?dashboard=" + id);
      browser.waitFor("first data", Duration.ofSeconds(20), () -> browser.stats().get("firstDataMs") instanceof Number);
      System.out.println("[wallboard] first data on screen " + browser.stats().get("firstDataMs")
          + " ms after navigation start (load " + (i + 1) + ", warm cache, 9 panels, storage on)");
    }
    Map<String, Object> again = browser.weight();
    System.out.println("[wallboard] page weight, load with a warm cache: " + again.get("transferred") + " bytes transferred in "
        + again.get("resources") + " requests (" + again.get("code") + " bytes of page code: revalidations, 304 without a body)");
    // a new screen opening the page of a server that has been running: a fresh profile (cold cache) each
    for (int i = 0; i < Integer.getInteger("wallboard.freshLoads", 2); i++) {
      try (Browser fresh = Browser.open()) {
        fresh.get(pulse.get().baseUrl() + "/?dashboard=" + id);
        fresh.waitFor("first data", Duration.ofSeconds(20), () -> fresh.stats().get("firstDataMs") instanceof Number);
        System.out.println("[wallboard] first data on screen " + fresh.stats().get("firstDataMs")
            + " ms after navigation start (new browser " + (i + 1) + ", cold cache, server running, 9 panels, storage on)");
      }
    }
    assertEquals(0, browser.num("document.querySelectorAll('.panel-badge.badge-error:not([hidden])').length"),
        "no panel in error: " + browser.stats().get("errors"));
  }

  @Test
  @DisplayName("history then live without a gap: the page's buckets equal the stored ones, at the stream's window and merged to 10 s")
  void historyThenLive() throws Exception {
    startPulse(true);
    postEvery200Ms("hl");
    // some stored history before the page opens
    pulse.get().awaitJson("/api/v1/streams/hl/series?from=5m&step=1s", j -> j.getJsonArray("series").size() > 0
        && j.getJsonArray("series").getJsonObject(0).getJsonArray("points").stream()
            .filter(p -> ((JsonArray) p).getJsonObject(1).getInteger("count") > 0).count() >= 6, 30_000);
    JsonObject doc = new JsonObject().put("title", "history").put("name", "history").put("time", new JsonObject().put("range", "5m").put("window", "1s"))
        .put("panels", new JsonArray()
            .add(panelDoc("c1", "timeseries", 0, 0, 12, 5, new JsonObject().put("stream", "hl").put("figure", "count")))
            .add(panelDoc("s10", "timeseries", 0, 5, 12, 5, new JsonObject().put("stream", "hl").put("metric", "v")
                .put("figure", "sum").put("window", "10s")))
            .add(panelDoc("p10", "timeseries", 0, 10, 12, 5, new JsonObject().put("stream", "hl").put("metric", "v")
                .put("figure", "p99").put("window", "10s"))));
    String id = created(pulse.get().post("/api/v1/dashboards", "application/json", doc.encode()));
    long openedAt = System.currentTimeMillis();
    browser.get(pulse.get().baseUrl() + "/?dashboard=" + id);
    // live for a while: windows closed after the page subscribed, then compare every closed bucket
    browser.waitFor("eight 1 s windows closed after the page opened", Duration.ofSeconds(30), () -> closed("c1").stream()
        .filter(b -> b.start >= openedAt + 1000).count() >= 8);
    browser.waitFor("a 10 s bucket closed after the page opened", Duration.ofSeconds(40), () -> closed("s10").stream()
        .anyMatch(b -> b.start >= openedAt));
    // a p99 bucket is provisional while open, then read again from storage (merged sketches) once closed
    browser.waitFor("a closed p99 bucket after the page opened", Duration.ofSeconds(30), () -> closed("p10").stream()
        .anyMatch(b -> b.start >= openedAt));
    List<Bucket> c1 = closed("c1");
    List<Bucket> s10 = closed("s10");
    assertTrue(c1.stream().anyMatch(b -> b.start < openedAt - 5000 && b.value != null && b.value > 0),
        "the chart starts with stored history from before the page opened");
    // the stored truth, read after those windows are stored
    Map<Long, Double> stored1 = stored("/api/v1/streams/hl/series?from=5m&step=1s", null, "count", c1);
    Map<Long, Double> stored10 = stored("/api/v1/streams/hl/series?from=5m&step=10s&metric=v", "v", "sum", s10);
    int compared = 0;
    for (Bucket b : c1) {
      if (stored1.containsKey(b.start)) {
        assertEquals(stored1.get(b.start), b.value, "1 s window " + b.start + " (opened at " + openedAt + "): page vs storage");
        compared++;
      }
    }
    assertTrue(compared >= 20, "compared " + compared + " closed 1 s windows, before and after the page opened");
    // contiguous: every 1 s window from the first with data to the newest closed is there, none empty
    long first = c1.stream().filter(b -> b.value != null && b.value > 0).mapToLong(b -> b.start).min().orElseThrow();
    long last = c1.get(c1.size() - 1).start;
    for (long t = first; t <= last; t += 1000) {
      final long w = t;
      Bucket b = c1.stream().filter(x -> x.start == w).findFirst().orElse(null);
      assertNotNull(b, "window " + t + " is on the page");
      assertTrue(b.value != null && b.value > 0, "window " + t + " has its events (events were posted every 200 ms): " + b.value);
    }
    int compared10 = 0;
    for (Bucket b : s10) {
      if (stored10.containsKey(b.start) && b.start >= openedAt - 10_000) {
        assertEquals(stored10.get(b.start), b.value, 1e-9, "10 s bucket " + b.start + " merged from live 1 s windows");
        compared10++;
      }
    }
    assertTrue(compared10 >= 1, "compared a 10 s bucket built from the live feed");
    List<Bucket> p10 = closed("p10");
    Map<Long, Double> stored99 = stored("/api/v1/streams/hl/series?from=5m&step=10s&metric=v", "v", "p99", p10);
    int compared99 = 0;
    for (Bucket b : p10) {
      if (stored99.containsKey(b.start) && b.start >= openedAt - 10_000) {
        assertEquals(stored99.get(b.start), b.value, "closed p99 bucket " + b.start + " as storage has it");
        compared99++;
      }
    }
    assertTrue(compared99 >= 1, "compared a closed p99 bucket");
    System.out.println("[wallboard] history then live: " + compared + " 1 s windows and " + compared10
        + " 10 s buckets equal to storage; first data " + browser.stats().get("firstDataMs") + " ms");
    browser.screenshot("wallboard-history-live.png");
  }

  @Test
  @DisplayName("after a server restart the page says it is stale, reconnects and resubscribes by itself, without a reload")
  void recoversAfterRestart() throws Exception {
    startPulse(true);
    postEvery200Ms("rs");
    JsonObject doc = new JsonObject().put("title", "restart").put("name", "restart").put("panels", new JsonArray()
        .add(panelDoc("c", "timeseries", 0, 0, 8, 5, new JsonObject().put("stream", "rs").put("groupBy", new JsonArray().add("region"))))
        .add(panelDoc("n", "stat", 8, 0, 4, 5, new JsonObject().put("stream", "rs"))));
    String id = created(pulse.get().post("/api/v1/dashboards", "application/json", doc.encode()));
    browser.get(pulse.get().baseUrl() + "/?dashboard=" + id);
    browser.waitFor("live data", Duration.ofSeconds(20), () -> "live".equals(browser.stats().get("state"))
        && browser.num("window.__pulse.stats().rollups") > 0);
    browser.js("window.__noReload = true");

    int port = pulse.get().port();
    pulse.getAndSet(null).close();
    browser.waitFor("the page to notice", Duration.ofSeconds(30), () -> "reconnecting".equals(browser.stats().get("state")));
    browser.waitFor("the stale banner", Duration.ofSeconds(5), () -> browser.driver().findElement(By.id("stale")).isDisplayed());
    assertTrue(browser.driver().findElement(By.id("stale")).getText().startsWith("Stale since "));
    assertTrue(browser.driver().findElement(By.id("conn-label")).getText().contains("Reconnecting"));
    browser.screenshot("wallboard-stale.png");

    pulse.set(TestPulse.startWithStorage(db, new JsonObject().put("http", new JsonObject().put("port", port))));
    double before = browser.num("window.__pulse.stats().rollups");
    browser.waitFor("live again from the restarted server", Duration.ofSeconds(40), () -> "live".equals(browser.stats().get("state"))
        && browser.num("window.__pulse.stats().rollups") > before + 4
        && !browser.driver().findElement(By.id("stale")).isDisplayed());
    assertEquals(Boolean.TRUE, browser.js("return window.__noReload === true"), "the page was not reloaded");
    assertTrue(browser.num("window.__pulse.stats().reconnects") >= 1);
    for (Map<String, Object> p : panelStats()) {
      assertTrue(p.get("error") == null, "panel " + p.get("id") + " has no error: " + p);
    }
  }

  @Test
  @DisplayName("a subscription the server refuses is an error on its panel; the other panels stay live on the same socket")
  void refusedSubscription() throws Exception {
    startPulse(false);
    postEvery200Ms("ok");
    browser.get(pulse.get().baseUrl() + "/");
    browser.waitFor("the page booted", Duration.ofSeconds(15), () -> "live".equals(browser.stats().get("state")));
    // an in-memory dashboard (app.show): the server's dashboard validation would refuse the bad panel
    JsonObject doc = new JsonObject().put("title", "refused").put("panels", new JsonArray()
        .add(panelDoc("good", "stat", 0, 0, 6, 4, new JsonObject().put("stream", "ok")))
        .add(panelDoc("bad", "stat", 6, 0, 6, 4, new JsonObject().put("stream", "ok")
            .put("filter", new JsonObject().put("region", new JsonArray())))));
    browser.js("window.__pulse.app.show(JSON.parse(arguments[0]), null)", doc.encode());
    browser.waitFor("the refused panel's error", Duration.ofSeconds(15), () -> panelStats().stream()
        .anyMatch(p -> "bad".equals(p.get("id")) && p.get("error") != null));
    String error = (String) panelStats().stream().filter(p -> "bad".equals(p.get("id"))).findFirst().orElseThrow().get("error");
    assertTrue(error.contains("filter"), "the server's reason: " + error);
    browser.waitFor("the reason shown on the panel", Duration.ofSeconds(5), () -> panel("bad").getText().contains(error));
    double before = browser.num("window.__pulse.stats().panelStats.find(p => p.id === 'good').rollups");
    browser.waitFor("the other panel still live", Duration.ofSeconds(10), () ->
        browser.num("window.__pulse.stats().panelStats.find(p => p.id === 'good').rollups") > before + 2);
    assertEquals("live", browser.stats().get("state"), "one refused subscription does not drop the connection");
    assertTrue(panel("good").findElement(By.cssSelector(".stat-value")).getText().matches("[0-9,.]+"));
    browser.screenshot("wallboard-refused.png");
  }

  @Test
  @DisplayName("explore one stream (the old page's URL): the stream-wide figure of a closed window is exact; no alert is said as such")
  void exploreExactTotal() throws Exception {
    startPulse(false);
    Map<Long, long[]> booked = new java.util.concurrent.ConcurrentHashMap<>(); // window -> {sum, count}
    java.util.Set<Long> unsure = java.util.concurrent.ConcurrentHashMap.newKeySet();
    AtomicInteger tick = new AtomicInteger();
    poster.scheduleAtFixedRate(() -> {
      TestPulse p = pulse.get();
      int i = tick.incrementAndGet();
      long ts = System.currentTimeMillis();
      long window = ts - ts % 1000;
      int eu = 1 + i % 7;
      int us = 10 + (i * 3) % 5;
      int apac = 100 + i % 3;
      String body = event("t", ts, "eu", eu) + event("t", ts, "us", us) + event("t", ts, "apac", apac);
      try {
        if (p.postNdjson("t", body) == 202) {
          booked.merge(window, new long[] {eu + us + apac, 3}, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        } else {
          unsure.add(window);
        }
      } catch (RuntimeException e) {
        unsure.add(window);
      }
    }, 0, 150, TimeUnit.MILLISECONDS);
    pulse.get().awaitJson("/api/v1/streams", j -> j.getJsonArray("streams").size() > 0, 15_000);
    browser.get(pulse.get().baseUrl() + "/?stream=t&groupBy=region&metric=v&stat=sum");
    long loadedAt = System.currentTimeMillis();
    browser.waitFor("three series on the chart", Duration.ofSeconds(15), () -> legend(panel("chart")).containsAll(List.of("eu", "us", "apac")));
    AtomicReference<Bucket> seen = new AtomicReference<>();
    browser.waitFor("a closed window of the total after the page opened", Duration.ofSeconds(20), () -> {
      for (Bucket b : closed("total")) {
        if (b.start >= loadedAt + 1000 && booked.containsKey(b.start) && !unsure.contains(b.start)) {
          seen.set(b);
          return true;
        }
      }
      return false;
    });
    long[] expected = booked.get(seen.get().start);
    assertEquals((double) expected[0], seen.get().value, "the total panel's sum of window " + seen.get().start);
    assertEquals("t", browser.driver().findElement(By.id("pick-stream")).getAttribute("value"));
    browser.waitFor("the alerts panel to settle", Duration.ofSeconds(10),
        () -> panel("alerts").getText().contains("No active alerts"));
    browser.screenshot("wallboard-explore.png");
  }

  // ---- helpers ----

  record Bucket(long start, Double value, boolean open) {
  }

  /** The closed buckets a panel shows for its first series. */
  private List<Bucket> closed(String panelId) {
    Object o = browser.js("return window.__pulse.buckets(arguments[0])", panelId);
    List<Bucket> out = new ArrayList<>();
    if (o instanceof List<?> l) {
      for (Object x : l) {
        List<?> b = (List<?>) x;
        if (!Boolean.TRUE.equals(b.get(2))) {
          out.add(new Bucket(((Number) b.get(0)).longValue(), b.get(1) == null ? null : ((Number) b.get(1)).doubleValue(), false));
        }
      }
    }
    return out;
  }

  /** Stored values of {@code path} at the starts the page holds, after they are all stored. */
  private Map<Long, Double> stored(String path, String metric, String figure, List<Bucket> page) {
    long newest = page.get(page.size() - 1).start;
    JsonObject j = pulse.get().awaitJson(path, x -> x.getJsonArray("series").getJsonObject(0).getJsonArray("points").stream()
        .anyMatch(p -> ((JsonArray) p).getLong(0) > newest && ((JsonArray) p).getJsonObject(1).getInteger("count") > 0), 20_000);
    Map<Long, Double> out = new HashMap<>();
    for (Object p : j.getJsonArray("series").getJsonObject(0).getJsonArray("points")) {
      JsonArray a = (JsonArray) p;
      JsonObject pt = a.getJsonObject(1);
      if (pt.getBoolean("partial", false) || a.getLong(0) > newest) {
        continue;
      }
      Double v = metric == null ? Double.valueOf(pt.getInteger("count"))
          : pt.getJsonObject("values").containsKey(metric) ? pt.getJsonObject("values").getJsonObject(metric).getDouble(figure) : null;
      out.put(a.getLong(0), v);
    }
    return out;
  }

  /** The text of the first element matching {@code css}, read in one script ("" when none). */
  private String text(String css) {
    Object o = browser.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css);
    return o == null ? "" : o.toString();
  }

  private WebElement panel(String id) {
    return browser.driver().findElement(By.cssSelector("section.panel[data-panel='" + id + "']"));
  }

  @SuppressWarnings("unchecked")
  private static List<String> legend(WebElement panel) {
    Object o = browser.js("return [...arguments[0].querySelectorAll('.legend li .legend-name')].map(e => e.textContent)", panel);
    return o instanceof List<?> l ? (List<String>) l : List.of();
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> panelStats() {
    Object o = browser.stats().get("panelStats");
    return o instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  private static String created(TestPulse.Response r) {
    assertEquals(201, r.status(), r.body());
    return new JsonObject(r.body()).getString("id");
  }

  static JsonObject panelDoc(String id, String kind, int x, int y, int w, int h, JsonObject query) {
    JsonObject p = new JsonObject().put("id", id).put("kind", kind).put("title", kind + " " + id)
        .put("grid", new JsonObject().put("x", x).put("y", y).put("w", w).put("h", h));
    if (query != null) {
      p.put("query", query);
    }
    return p;
  }

  /** A dashboard with one panel of every kind on {@code stream} (dims region eu/us, value v). */
  static JsonObject allKinds(String stream) {
    JsonArray region = new JsonArray().add("region");
    return new JsonObject().put("title", "All kinds").put("name", "All kinds")
        .put("time", new JsonObject().put("range", "15m").put("window", "1s"))
        .put("panels", new JsonArray()
            .add(panelDoc("ts", "timeseries", 0, 0, 6, 6, new JsonObject().put("stream", stream).put("metric", "v")
                .put("figure", "sum").put("groupBy", region)))
            .add(panelDoc("st", "stat", 6, 0, 3, 3, new JsonObject().put("stream", stream).put("figure", "count"))
                .put("options", new JsonObject().put("thresholds", new JsonArray()
                    .add(new JsonObject().put("value", 0).put("level", "ok"))
                    .add(new JsonObject().put("value", 1000).put("level", "critical")))))
            .add(panelDoc("ga", "gauge", 9, 0, 3, 3, new JsonObject().put("stream", stream).put("metric", "v").put("figure", "max"))
                .put("options", new JsonObject().put("min", 0).put("max", 10)))
            .add(panelDoc("ba", "bar", 6, 3, 3, 3, new JsonObject().put("stream", stream).put("metric", "v").put("figure", "sum")
                .put("groupBy", region).put("window", "10s")))
            .add(panelDoc("tb", "table", 9, 3, 3, 3, new JsonObject().put("stream", stream).put("metric", "v").put("figure", "mean")
                .put("groupBy", region)).put("options", new JsonObject().put("columns",
                    new JsonArray().add("series").add("last").add("max").add("lastSeen"))))
            .add(panelDoc("sg", "statusgrid", 0, 6, 4, 3, new JsonObject().put("stream", stream).put("groupBy", region))
                .put("options", new JsonObject().put("by", "alert")))
            .add(panelDoc("al", "alerts", 4, 6, 5, 3, new JsonObject().put("stream", stream)))
            .add(panelDoc("ra", "stat", 0, 9, 4, 3, new JsonObject().put("stream", stream).put("figure", "count")
                .put("filter", new JsonObject().put("region", new JsonArray().add("eu"))))
                .put("derive", new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("filter", new JsonObject())))
                .put("options", new JsonObject().put("decimals", 3)))
            .add(panelDoc("tx", "text", 9, 6, 3, 3, null).put("options", new JsonObject()
                .put("text", "Two regions, eu and us.\n\n<b>plain</b> text, never HTML."))));
  }

  private static String event(String stream, long ts, String region, int v) {
    return "{\"stream\":\"" + stream + "\",\"ts\":" + ts + ",\"dims\":{\"region\":\"" + region + "\"},\"values\":{\"v\":"
        + v + "}}\n";
  }

  /** Posts events of two regions (eu twice, us once per tick) every 200 ms to whichever server is current. */
  private AtomicInteger postEvery200Ms(String stream) {
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger tick = new AtomicInteger();
    poster.scheduleAtFixedRate(() -> {
      TestPulse p = pulse.get();
      if (p == null) {
        return;
      }
      int i = tick.incrementAndGet();
      long ts = System.currentTimeMillis();
      String body = event(stream, ts, "eu", 1 + i % 7) + event(stream, ts, "us", 4 + (i * 3) % 5) + event(stream, ts, "eu", 2 + i % 3);
      try {
        if (p.postNdjson(stream, body) == 202) {
          accepted.incrementAndGet();
        }
      } catch (RuntimeException e) {
        // the server is restarting: the next tick tries again
      }
    }, 0, 200, TimeUnit.MILLISECONDS);
    return accepted;
  }
}

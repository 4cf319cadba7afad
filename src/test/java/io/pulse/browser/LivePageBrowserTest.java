package io.pulse.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptException;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The wallboard in a real browser against a real Pulse: events posted over HTTP must show up on
 * the page's chart through the WebSocket live feed, errors must be visible, and the page must
 * come back by itself after a server restart.
 *
 * <p>Drives Debian's Chromium through its matching ChromeDriver, with the driver path given so
 * Selenium Manager never runs. Skipped only where those two binaries are missing; CI installs them.
 */
@DisplayName("Wallboard page in a real browser")
class LivePageBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SHOTS = Path.of("target", "screenshots");

  private static ChromeDriverService service;
  private static ChromeDriver driver;

  /** The server the poster sends to; swapped by the restart test. */
  private final AtomicReference<TestPulse> pulse = new AtomicReference<>();
  private ScheduledExecutorService poster;

  @BeforeAll
  static void startBrowser() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no Chromium at " + CHROMIUM);
    Assumptions.assumeTrue(Files.isExecutable(CHROMEDRIVER), "no ChromeDriver at " + CHROMEDRIVER);
    ChromeOptions o = new ChromeOptions().setBinary(CHROMIUM.toString()).addArguments("--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--user-data-dir=" + Files.createTempDirectory("chrome-profile"));
    service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, o);
    // a 1080p TV: the window is sized so that the page itself gets 1920 x 1080
    driver.manage().window().setSize(new Dimension(1920, 1080));
    Object inner = driver.executeScript("return [window.innerWidth, window.innerHeight]");
    if (inner instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number w && l.get(1) instanceof Number h) {
      driver.manage().window().setSize(new Dimension(1920 + 1920 - w.intValue(), 1080 + 1080 - h.intValue()));
    }
  }

  @AfterAll
  static void stopBrowser() {
    if (driver != null) {
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
  }

  @BeforeEach
  void startPulse() {
    pulse.set(TestPulse.start(new JsonObject()));
    poster = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "event-poster");
      t.setDaemon(true);
      return t;
    });
  }

  @AfterEach
  void stopPulse() throws Exception {
    poster.shutdownNow();
    poster.awaitTermination(5, TimeUnit.SECONDS);
    TestPulse p = pulse.getAndSet(null);
    if (p != null) {
      p.close();
    }
  }

  @Test
  @DisplayName("events posted over HTTP appear on the page's live chart and legend within seconds")
  void liveChartShowsPostedEvents() throws Exception {
    AtomicInteger accepted = postEvery200Ms("w");
    driver.get(pulse.get().baseUrl() + "/?stream=w&groupBy=region&metric=v&stat=sum");

    waitFor("a live chart with plotted points", Duration.ofSeconds(15), () ->
        "live".equals(state()) && num("window.pulse.rollups") > 0 && num("window.pulse.points") > 0);
    assertTrue(accepted.get() > 0, "the server accepted the posted events");

    waitFor("the legend to name the series eu", Duration.ofSeconds(5), () -> legendSeries().contains("eu"));
    Map<String, Object> last = rollup();
    assertEquals("w", last.get("stream"), "the page received rollups of the chosen stream");
    assertTrue(String.valueOf(last.get("series")).contains("region"), "rollups are grouped by region: " + last);

    // let some windows close so the picture shows lines, not dots: four windows of each region
    waitFor("several windows plotted", Duration.ofSeconds(20), () -> num("window.pulse.points") >= 8);
    assertFalse(driver.findElement(By.id("hero-value")).getText().equals("—"), "the big number shows a value");
    assertTrue(driver.findElement(By.id("banner")).getAttribute("hidden") != null, "no error banner");
    assertEquals("w", driver.findElement(By.id("title-stream")).getText());
    screenshot("live-page.png");
  }

  @Test
  @DisplayName("a subscription the server rejects (invalid stream name) is shown as an error, the feed stays live")
  void invalidStreamShowsServerError() throws Exception {
    driver.get(pulse.get().baseUrl() + "/?stream=Not%20Valid!&stat=count");

    waitFor("the error banner", Duration.ofSeconds(15), () -> driver.findElement(By.id("banner")).isDisplayed());
    String error = (String) js("return window.pulse.lastError");
    String banner = driver.findElement(By.id("banner")).getText();
    assertTrue(error != null && !error.isBlank(), "the server answered type:error");
    assertTrue(banner.contains(error), "the banner shows the server's reason: " + banner);
    assertEquals("live", state(), "an error on one subscription does not drop the connection");
    assertTrue(driver.findElement(By.id("chart-empty")).isDisplayed(), "the chart says why it is empty");
    screenshot("invalid-stream.png");
  }

  @Test
  @DisplayName("after a server restart the page reconnects and resubscribes by itself, without a reload")
  void pageSurvivesServerRestart() throws Exception {
    postEvery200Ms("w");
    driver.get(pulse.get().baseUrl() + "/?stream=w&groupBy=region&metric=v&stat=count");
    waitFor("live rollups", Duration.ofSeconds(15), () -> "live".equals(state()) && num("window.pulse.rollups") > 0);
    Object firstSub = js("return window.pulse.sub");
    js("window.__noReload = true"); // vanishes if the page reloads

    int port = pulse.get().port();
    TestPulse old = pulse.getAndSet(null);
    old.close();
    waitFor("the page to notice the drop", Duration.ofSeconds(10), () -> "reconnecting".equals(state()));
    assertTrue(driver.findElement(By.id("conn-label")).getText().toLowerCase().contains("reconnecting"));

    pulse.set(TestPulse.start(new JsonObject().put("http", new JsonObject().put("port", port))));
    long before = num("window.pulse.rollups");
    waitFor("live rollups from the restarted server", Duration.ofSeconds(30), () -> "live".equals(state())
        && num("window.pulse.rollups") > before && !firstSub.equals(js("return window.pulse.lastRollup.sub")));
    assertEquals(Boolean.TRUE, js("return window.__noReload === true"), "the page was not reloaded");
    assertNotEquals(firstSub, js("return window.pulse.sub"), "a new subscription on the new connection");
  }

  @Test
  @DisplayName("with storage on, a reloaded page fills its chart from stored history at once, then goes live")
  void reloadFillsFromHistory() throws Exception {
    TestPulse plain = pulse.getAndSet(null);
    plain.close();
    pulse.set(TestPulse.startWithStorage(io.pulse.testing.PgFixture.freshDatabase(), new JsonObject()));
    postEvery200Ms("h");
    driver.get(pulse.get().baseUrl() + "/?stream=h&groupBy=region&metric=v&stat=sum");
    waitFor("a live chart", Duration.ofSeconds(15), () -> "live".equals(state()) && num("window.pulse.points") > 0);
    // several 1 s windows close and are stored: six of each region, more than live alone plots in 4 s
    pulse.get().awaitJson("/api/v1/streams/h/series?from=5m&step=1s&groupBy=region", j -> j.getJsonArray("series")
        .stream().mapToInt(x -> ((JsonObject) x).getJsonArray("points").size()).sum() >= 12, 20_000);

    driver.navigate().refresh();
    long t0 = System.nanoTime();
    // live alone plots at most five 1 s windows of two regions in four seconds; history has more
    waitFor("the stored windows on the chart", Duration.ofSeconds(10), () -> num("window.pulse.points") >= 12);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(seconds < 4, "history filled the chart in " + seconds + " s, not the live feed");
    assertTrue(num("window.pulse.historyCalls") > 0, "the page asked /series");
    waitFor("then live", Duration.ofSeconds(10), () -> "live".equals(state()) && num("window.pulse.rollups") > 0);
    assertTrue(driver.findElement(By.id("banner")).getAttribute("hidden") != null, "no error banner");
    screenshot("reload-from-history.png");
  }

  @Test
  @DisplayName("the big figure is the exact stream-wide sum of a closed window; alerting off is said, not 'all clear'")
  void headlineIsExactTotalOfAClosedWindow() throws Exception {
    // three series; every accepted event is booked under its own window (the page's windows are 1 s)
    Map<Long, long[]> booked = new ConcurrentHashMap<>(); // window start -> {sum, count}
    Set<Long> unsure = ConcurrentHashMap.newKeySet();     // windows with a post of unknown outcome
    AtomicInteger tick = new AtomicInteger();
    poster.scheduleAtFixedRate(() -> {
      TestPulse p = pulse.get();
      int i = tick.incrementAndGet();
      long ts = System.currentTimeMillis();
      long window = ts - ts % 1000;
      int eu = 1 + i % 7, us = 10 + (i * 3) % 5, apac = 100 + i % 3;
      String body = event("t", ts, "eu", eu) + event("t", ts, "us", us) + event("t", ts, "apac", apac);
      try {
        if (p.postNdjson("t", body) == 202) {
          booked.compute(window, (k, v) -> v == null ? new long[] {eu + us + apac, 3}
              : new long[] {v[0] + eu + us + apac, v[1] + 3});
        } else {
          unsure.add(window);
        }
      } catch (RuntimeException e) {
        unsure.add(window);
      }
    }, 0, 150, TimeUnit.MILLISECONDS);

    driver.get(pulse.get().baseUrl() + "/?stream=t&groupBy=region&metric=v&stat=sum");
    long loadedAt = System.currentTimeMillis();
    waitFor("all three series on the legend", Duration.ofSeconds(15),
        () -> legendSeries().containsAll(List.of("eu", "us", "apac")));
    assertEquals(3L, num("window.pulse.series"), "the page counts exactly the three series");

    // a final window that began after the page subscribed (so every one of its events reached it)
    AtomicReference<List<?>> seen = new AtomicReference<>();
    waitFor("the big figure to show a final window", Duration.ofSeconds(20), () -> {
      Object o = js("const h = window.pulse.headline; return h && h.final && h.windowStart >= " + (loadedAt + 1000)
          + " ? [h.windowStart, h.value, h.count, document.getElementById('hero-value').textContent] : null");
      if (o instanceof List<?> l && booked.containsKey(((Number) l.get(0)).longValue())
          && !unsure.contains(((Number) l.get(0)).longValue())) {
        seen.set(l);
        return true;
      }
      return false;
    });
    long start = ((Number) seen.get().get(0)).longValue();
    long[] expected = booked.get(start);
    assertEquals((double) expected[0], ((Number) seen.get().get(1)).doubleValue(),
        "the big figure is the exact sum of every event of the window " + start + " over all series");
    assertEquals(expected[1], ((Number) seen.get().get(2)).longValue(), "and counts every event of it");
    assertEquals(String.format(Locale.ROOT, "%,d", expected[0]), seen.get().get(3), "as the page shows it");
    String heroLabel = driver.findElement(By.id("hero-label")).getText();
    assertTrue(heroLabel.startsWith("All series") && heroLabel.contains("sum of v"), "labelled as the stream-wide figure: " + heroLabel);
    assertTrue(js("return window.pulse.totalSub") instanceof String s && s.endsWith("-total"),
        "the big figure comes from a second subscription without group-by");

    // the server has alerting (GET /api/v1/alerts answers) and no rule: the panel says so, all clear
    waitFor("the alerts panel to settle", Duration.ofSeconds(10), () -> "clear".equals(js("return window.pulse.alertsStatus")));
    WebElement empty = driver.findElement(By.id("alerts-empty"));
    assertTrue(empty.isDisplayed(), "the alerts panel shows its empty state");
    assertTrue(empty.getText().contains("No active alerts"), "and says nothing fires: " + empty.getText());
    assertTrue(driver.findElement(By.id("alerts-panel")).getText().toLowerCase().contains("all clear"),
        "'all clear' once the server answered with no alert");
    assertTrue(num("window.pulse.historyCalls") <= 1, "the history endpoint is asked at most once per page load");
    assertTrue(driver.findElement(By.id("banner")).getAttribute("hidden") != null, "no error banner");
    screenshot("headline-total.png");
  }

  // ---- helpers ----

  private static String event(String stream, long ts, String region, int v) {
    return "{\"stream\":\"" + stream + "\",\"ts\":" + ts + ",\"dims\":{\"region\":\"" + region + "\"},\"values\":{\"v\":"
        + v + "}}\n";
  }

  /** Posts two regions' events for {@code stream} every 200 ms to whichever server is current. */
  private AtomicInteger postEvery200Ms(String stream) {
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger tick = new AtomicInteger();
    poster.scheduleAtFixedRate(() -> {
      TestPulse p = pulse.get();
      if (p == null) {
        return;
      }
      int i = tick.incrementAndGet();
      String body = "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":" + (1 + i % 7) + "}}\n"
          + "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"us\"},\"values\":{\"v\":" + (4 + (i * 3) % 5) + "}}\n"
          + "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":" + (2 + i % 3) + "}}\n";
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

  /** WebDriverWait on {@code cond}; on timeout, a screenshot, the page's hooks and its console go into the failure. */
  private void waitFor(String what, Duration timeout, BooleanSupplier cond) throws Exception {
    try {
      new WebDriverWait(driver, timeout, Duration.ofMillis(100)).ignoring(JavascriptException.class)
          .until(d -> cond.getAsBoolean());
    } catch (TimeoutException e) {
      screenshot("failure-" + System.currentTimeMillis() + ".png");
      String console = driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::toString)
          .collect(Collectors.joining("\n  "));
      throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; state="
          + state() + ", pulse=" + js("return JSON.stringify({rollups: window.pulse.rollups, points: "
              + "window.pulse.points, sub: window.pulse.sub, lastError: window.pulse.lastError})")
          + "\n  browser console:\n  " + console, e);
    }
  }

  private Object js(String script) {
    return ((JavascriptExecutor) driver).executeScript(script);
  }

  private long num(String expr) {
    Object v = js("return " + expr + " || 0");
    return v instanceof Number ? ((Number) v).longValue() : 0;
  }

  private String state() {
    return (String) js("return document.body.dataset.state");
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> rollup() {
    return (Map<String, Object>) js("return window.pulse.lastRollup");
  }

  private List<String> legendSeries() {
    return driver.findElements(By.cssSelector("#legend li[data-series] .legend-name")).stream()
        .map(WebElement::getText).map(String::trim).collect(Collectors.toList());
  }

  private void screenshot(String name) throws Exception {
    Files.createDirectories(SHOTS);
    Files.write(SHOTS.resolve(name), driver.getScreenshotAs(OutputType.BYTES));
  }
}

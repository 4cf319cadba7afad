package io.pulse.browser;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptException;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real Chromium for the browser tests: Debian's Chromium through its matching ChromeDriver (the
 * driver path is given, so Selenium Manager never runs), headless, with a fresh profile, sized so
 * the page itself gets 1920 x 1080 (a 1080p TV). Waits that fail carry a screenshot, the page's
 * testing hooks ({@code window.__pulse.stats()}) and its console. Tests skip (not fail) where the
 * two binaries are missing; CI installs them.
 *
 * <pre>
 *   try (Browser b = Browser.open()) {
 *     b.get(pulse.baseUrl() + "/?dashboard=x");
 *     b.waitFor("data", Duration.ofSeconds(10), () -> b.num("window.__pulse.stats().bucketsBuffered") > 0);
 *   }
 * </pre>
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  public static final Path SHOTS = Path.of("target", "screenshots");

  private final ChromeDriverService service;
  private final ChromeDriver driver;

  private Browser(ChromeDriverService service, ChromeDriver driver) {
    this.service = service;
    this.driver = driver;
  }

  /** Skips the calling test (JUnit assumption) when Chromium or ChromeDriver is not installed. */
  public static void assumeInstalled() {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no Chromium at " + CHROMIUM);
    Assumptions.assumeTrue(Files.isExecutable(CHROMEDRIVER), "no ChromeDriver at " + CHROMEDRIVER);
  }

  /** A headless Chromium of 1920 x 1080. */
  public static Browser open(String... extraArgs) throws Exception {
    return open(1920, 1080, extraArgs);
  }

  public static Browser open(int width, int height, String... extraArgs) throws Exception {
    assumeInstalled();
    ChromeOptions o = new ChromeOptions().setBinary(CHROMIUM.toString()).addArguments("--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--enable-precise-memory-info", "--user-data-dir=" + Files.createTempDirectory("chrome-profile"));
    o.addArguments(extraArgs);
    ChromeDriverService svc = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
        .usingAnyFreePort().build();
    ChromeDriver d = new ChromeDriver(svc, o);
    Browser b = new Browser(svc, d);
    b.size(width, height);
    return b;
  }

  /** Sizes the window so that the page's viewport is {@code width} x {@code height}. */
  public void size(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
    Object inner = driver.executeScript("return [window.innerWidth, window.innerHeight]");
    if (inner instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number w && l.get(1) instanceof Number h) {
      driver.manage().window().setSize(new Dimension(width + width - w.intValue(), height + height - h.intValue()));
    }
  }

  public ChromeDriver driver() {
    return driver;
  }

  public void get(String url) {
    driver.get(url);
  }

  public Object js(String script, Object... args) {
    return driver.executeScript(script, args);
  }

  /** A number from an expression ({@code 0} for null, undefined or not a number). */
  public double num(String expr) {
    Object v = js("const v = (" + expr + "); return typeof v === 'number' ? v : 0");
    return v instanceof Number n ? n.doubleValue() : 0;
  }

  /** The page's {@code window.__pulse.stats()}, or an empty map before the page booted. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> stats() {
    Object o = js("return window.__pulse ? window.__pulse.stats() : {}");
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  /**
   * Polls {@code cond} every 100 ms (a page script error, an element redrawn or not there yet count
   * as "not yet"); on timeout a failure with the page's state.
   */
  public void waitFor(String what, Duration timeout, BooleanSupplier cond) throws Exception {
    try {
      new WebDriverWait(driver, timeout, Duration.ofMillis(100)).ignoring(JavascriptException.class)
          .ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class)
          .until(d -> cond.getAsBoolean());
    } catch (TimeoutException e) {
      String shot = screenshot("failure-" + System.currentTimeMillis() + ".png");
      throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; stats="
          + safeStats() + "\n  screenshot: " + shot + "\n  browser console:\n  " + console(), e);
    }
  }

  private String safeStats() {
    try {
      return String.valueOf(js("return window.__pulse ? JSON.stringify(window.__pulse.stats()) : 'no window.__pulse'"));
    } catch (RuntimeException e) {
      return "(" + e.getMessage() + ")";
    }
  }

  /** The browser console since the last call, one entry a line. */
  public String console() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::toString)
        .collect(Collectors.joining("\n  "));
  }

  /** Console entries since the last call. */
  public List<LogEntry> consoleEntries() {
    return driver.manage().logs().get(LogType.BROWSER).getAll();
  }

  /** Writes a PNG under target/screenshots/ and answers its path. */
  public String screenshot(String name) {
    try {
      Files.createDirectories(SHOTS);
      Path p = SHOTS.resolve(name);
      Files.write(p, driver.getScreenshotAs(OutputType.BYTES));
      return p.toString();
    } catch (Exception e) {
      return "(no screenshot: " + e.getMessage() + ")";
    }
  }

  /**
   * The page's weight as loaded: {transferred, encoded, decoded, resources, code (the page, its
   * modules, styles and uPlot), data (API answers)} summed over the navigation and every resource
   * the page fetched (Resource Timing; same-origin, so the sizes are exposed), and {@code names}.
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> weight() {
    return (Map<String, Object>) js("const all = [...performance.getEntriesByType('navigation'), "
        + "...performance.getEntriesByType('resource')];"
        + "return {transferred: all.reduce((s, e) => s + (e.transferSize || 0), 0),"
        + " encoded: all.reduce((s, e) => s + (e.encodedBodySize || 0), 0),"
        + " decoded: all.reduce((s, e) => s + (e.decodedBodySize || 0), 0), resources: all.length,"
        + " code: all.filter(e => !new URL(e.name).pathname.startsWith('/api/')).reduce((s, e) => s + (e.transferSize || 0), 0),"
        + " data: all.filter(e => new URL(e.name).pathname.startsWith('/api/')).reduce((s, e) => s + (e.transferSize || 0), 0),"
        + " names: all.map(e => e.name.replace(location.origin, '') + ' ' + (e.transferSize || 0)).join(', ')}");
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
    }
  }
}

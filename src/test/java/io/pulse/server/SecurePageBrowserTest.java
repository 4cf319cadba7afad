package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The wallboard page in Chromium over HTTPS (self-signed mode, HTTP/2 by ALPN) under the UI's
 * Content-Security-Policy: the page goes live over wss:, and the browser reports no CSP violation.
 * Skipped where Chromium or ChromeDriver is missing, like the other browser test.
 */
@DisplayName("Wallboard over HTTPS under its Content-Security-Policy")
class SecurePageBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  @Test
  @DisplayName("the page goes live over wss: with no CSP violation in the console, and its submit handler runs")
  void liveUnderCsp() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "no Chromium/ChromeDriver");
    ChromeOptions o = new ChromeOptions().setBinary(CHROMIUM.toString()).addArguments("--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--ignore-certificate-errors",
        "--user-data-dir=" + Files.createTempDirectory("chrome-profile"));
    ChromeDriverService svc = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
    try (TestPulse p = TestPulse.start(new JsonObject().put("tls", new JsonObject().put("selfSigned", true)))) {
      ChromeDriver d = new ChromeDriver(svc, o);
      try {
        d.get("https://localhost:" + p.port() + "/");
        new WebDriverWait(d, Duration.ofSeconds(20))
            .until(x -> "live".equals(d.executeScript("return document.body.dataset.state")));
        assertEquals("https:", d.executeScript("return location.protocol"));
        assertEquals("h2", d.executeScript("return performance.getEntriesByType('navigation')[0].nextHopProtocol"));
        // the form's inline onsubmit ("return false") is allowed by its hash: a submit event is cancelled by it
        Object cancelled = d.executeScript("const f = document.getElementById('controls');"
            + "const e = new Event('submit', {cancelable: true}); f.dispatchEvent(e); return e.defaultPrevented;");
        assertEquals(Boolean.TRUE, cancelled, "the inline submit handler ran");
        List<LogEntry> logs = d.manage().logs().get(LogType.BROWSER).getAll();
        String csp = logs.stream().map(LogEntry::getMessage)
            .filter(m -> m.contains("Content Security Policy") || m.contains("Content-Security-Policy"))
            .collect(Collectors.joining("\n"));
        assertTrue(csp.isEmpty(), "no CSP violations: " + csp);
      } finally {
        d.quit();
      }
    } finally {
      svc.stop();
    }
  }
}

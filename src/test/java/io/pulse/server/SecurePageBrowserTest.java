package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.browser.Browser;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The wallboard page in Chromium over HTTPS (self-signed mode, HTTP/2 by ALPN) under the UI's
 * Content-Security-Policy: its ES modules and uPlot (from /vendor/uplot/, out of the webjar) load,
 * a chart is drawn from live data over wss:, and the browser reports no CSP violation.
 * Skipped where Chromium or ChromeDriver is missing, like the other browser tests.
 */
@DisplayName("Wallboard over HTTPS under its Content-Security-Policy")
class SecurePageBrowserTest {

  @Test
  @DisplayName("the page draws a live uPlot chart over wss: with no CSP violation in the console")
  void liveUnderCsp() throws Exception {
    Browser.assumeInstalled();
    try (TestPulse p = TestPulse.start(new JsonObject().put("tls", new JsonObject().put("selfSigned", true)));
        Browser b = Browser.open("--ignore-certificate-errors")) {
      b.get("https://localhost:" + p.port() + "/?stream=sec&groupBy=region&metric=v&stat=sum");
      b.waitFor("live with a chart", Duration.ofSeconds(20), () -> {
        // events posted by the page itself (same origin, over HTTP/2 and TLS)
        b.js("fetch('/api/v1/streams/sec/events', {method: 'POST', headers: {'Content-Type': 'application/x-ndjson'},"
            + " body: JSON.stringify({dims: {region: 'eu'}, values: {v: 3}}) + '\\n'})");
        return "live".equals(b.js("return document.body.dataset.state"))
            && !b.driver().findElements(By.cssSelector("section[data-panel=chart] canvas")).isEmpty()
            && b.num("window.__pulse.stats().rollups") > 0;
      });
      assertEquals("https:", b.js("return location.protocol"));
      assertEquals("h2", b.js("return performance.getEntriesByType('navigation')[0].nextHopProtocol"));
      assertEquals(Boolean.TRUE, b.js("return [...document.styleSheets].some(s => (s.href || '').endsWith('/vendor/uplot/uPlot.min.css'))"),
          "uPlot's stylesheet came from this server");
      String csp = b.consoleEntries().stream().map(e -> e.getMessage())
          .filter(m -> m.contains("Content Security Policy") || m.contains("Content-Security-Policy"))
          .collect(Collectors.joining("\n"));
      assertTrue(csp.isEmpty(), "no CSP violations: " + csp);
      // the policy is in force (so "no violation" means something): an inline script is refused
      b.js("const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.head.append(s)");
      assertFalse(Boolean.TRUE.equals(b.js("return window.__inlineRan === true")), "an inline script does not run");
    }
  }
}

package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("SecurityHeaders: which headers go where, and a CSP that fits the UI")
class SecurityHeadersTest {

  @Test
  @DisplayName("UI paths get the page policy, service paths the empty one; HSTS only with TLS")
  void byPath() {
    Map<String, String> ui = new SecurityHeaders(false).forPath("/");
    assertEquals(SecurityHeaders.UI_POLICY, ui.get("Content-Security-Policy"));
    assertEquals("nosniff", ui.get("X-Content-Type-Options"));
    assertEquals("DENY", ui.get("X-Frame-Options"));
    assertEquals("no-referrer", ui.get("Referrer-Policy"));
    assertNull(ui.get("Strict-Transport-Security"));
    for (String p : new String[] {"/api/v1/streams", "/health/ready", "/metrics", "/openapi.json"}) {
      assertEquals(SecurityHeaders.API_POLICY, new SecurityHeaders(false).forPath(p).get("Content-Security-Policy"), p);
    }
    assertEquals(SecurityHeaders.HSTS, new SecurityHeaders(true).forPath("/api/v1/x").get("Strict-Transport-Security"));
    assertTrue(SecurityHeaders.isApi("/api/v1/events"));
    assertFalse(SecurityHeaders.isApi("/apix"));
  }

  /**
   * Every inline script, inline style and inline event handler of the UI's HTML must be allowed by
   * the policy's hashes, and no style attribute may be used (style-src has no 'unsafe-inline'); a
   * new one fails here before it breaks the page in a browser.
   */
  @Test
  @DisplayName("every inline handler of webroot's HTML is allowed by its hash; no inline scripts, styles or style attributes")
  void policyCoversTheUi() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("webroot"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".html")).toList()) {
        String html = Files.readString(f);
        Matcher handlers = Pattern.compile("\\son[a-z]+=\"([^\"]*)\"").matcher(html);
        int n = 0;
        while (handlers.find()) {
          n++;
          String hash = "'sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
              .digest(handlers.group(1).getBytes(StandardCharsets.UTF_8))) + "'";
          assertTrue(SecurityHeaders.UI_POLICY.contains(hash), f + ": the handler \"" + handlers.group(1)
              + "\" needs " + hash + " in the UI's policy (or move it into a module)");
        }
        assertTrue(n > 0 || !SecurityHeaders.UI_POLICY.contains("unsafe-hashes"),
            f + ": no inline handler left: drop 'unsafe-hashes' and its hash from the policy");
        assertFalse(Pattern.compile("<script(?![^>]*\\ssrc=)[^>]*>").matcher(html).find(), f + ": an inline <script>");
        assertFalse(html.contains("<style"), f + ": an inline <style>");
        assertFalse(Pattern.compile("\\sstyle=\"").matcher(html).find(), f + ": a style attribute");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(html).find(), f + ": loads from another host");
      }
    }
    // every module of the page (webroot/js/**): no eval, no style attributes, no HTML from strings
    java.util.List<Path> scripts;
    try (Stream<Path> all = Files.walk(Path.of("webroot"))) {
      scripts = all.filter(p -> p.toString().endsWith(".js")).toList();
    }
    assertTrue(scripts.size() >= 10, "the page's modules were found: " + scripts);
    for (Path f : scripts) {
      String js = Files.readString(f);
      assertFalse(js.contains("eval("), f + ": no eval: script-src has no 'unsafe-eval'");
      assertFalse(js.contains("new Function("), f + ": no new Function: script-src has no 'unsafe-eval'");
      assertFalse(Pattern.compile("setAttribute\\(\\s*['\"]style['\"]").matcher(js).find(), f + ": no style attributes from script");
      assertFalse(Pattern.compile("\\.(innerHTML|outerHTML)\\s*=|insertAdjacentHTML").matcher(js).find(),
          f + ": no HTML from strings (text is set as text)");
    }
  }
}

package io.pulse.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The security headers of every answer (UI pages and files, the API, health and metrics, errors):
 * what a browser may do with it. Decided here from the path and whether TLS is on; the HTTP
 * adapter only copies them onto responses.
 *
 * <ul>
 *   <li>{@code X-Content-Type-Options: nosniff}, {@code Referrer-Policy: no-referrer}, {@code
 *       X-Frame-Options: DENY} (and CSP {@code frame-ancestors 'none'}) everywhere;
 *   <li>the UI's Content-Security-Policy ({@link #UI_POLICY}): only this server's scripts, styles
 *       and connections (the live WebSocket is same-origin), data: images (the inline icon), nothing
 *       inline; everything else gets {@link
 *       #API_POLICY}, which allows nothing (JSON is never a document to render);
 *   <li>{@code Strict-Transport-Security} only when TLS is on (over plain HTTP it means nothing and
 *       would pin a host that may not have TLS yet);
 *   <li>{@code Cache-Control: no-store} on API answers ({@link #API_CACHE}), unless the handler set
 *       its own (SSE sets {@code no-cache}).
 * </ul>
 */
public final class SecurityHeaders {

  /**
   * The UI's policy. The page has no inline script, style or handler at all (its ES modules and
   * uPlot under /vendor are files of this server), so nothing inline may run; a new inline one in
   * webroot would need its hash here (SecurityHeadersTest checks).
   */
  public static final String UI_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /** Everything that is not a UI page: nothing to load, never framed. */
  public static final String API_POLICY = "default-src 'none'; frame-ancestors 'none'";

  /** One year; subdomains are not included (Pulse does not speak for its parent domain's other hosts). */
  public static final String HSTS = "max-age=31536000";

  public static final String API_CACHE = "no-store";

  private final boolean tls;

  public SecurityHeaders(boolean tls) {
    this.tls = tls;
  }

  /** Whether {@code path} is the API's (JSON answers, CORS, no caching). */
  public static boolean isApi(String path) {
    return path.equals("/api") || path.startsWith("/api/");
  }

  /** Whether {@code path} serves something other than the UI: the API, health, metrics. */
  static boolean isService(String path) {
    return isApi(path) || path.equals("/metrics") || path.startsWith("/health/") || path.equals("/openapi.json")
        || path.equals("/openapi.yaml");
  }

  /** The headers for an answer to {@code path}, in the order they are set. */
  public Map<String, String> forPath(String path) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("X-Content-Type-Options", "nosniff");
    h.put("Referrer-Policy", "no-referrer");
    h.put("X-Frame-Options", "DENY");
    h.put("Content-Security-Policy", path != null && isService(path) ? API_POLICY : UI_POLICY);
    if (tls) {
      h.put("Strict-Transport-Security", HSTS);
    }
    return h;
  }
}

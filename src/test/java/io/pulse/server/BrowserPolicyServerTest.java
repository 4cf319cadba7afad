package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.http.SecurityHeaders;
import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Origins and security headers against a real server (plain HTTP): CORS for the configured origin
 * only, other sites' pages refused on the API and its WebSocket, the security headers on every kind
 * of answer.
 */
@DisplayName("Browser policy: allowed origins (CORS, WebSocket) and security headers")
class BrowserPolicyServerTest {

  private static final String ALLOWED = "https://dash.example.com";
  private static final String FOREIGN = "https://evil.example.net";
  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject().put("http", new JsonObject()
        .put("allowedOrigins", new JsonArray().add("HTTPS://Dash.Example.com:443"))));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  @Test
  @DisplayName("a preflight from an allowed origin is answered 204 with the methods and the Authorization header")
  void preflightAllowed() {
    HttpResponse<String> r = pulse.request("OPTIONS", "/api/v1/events", null, "Origin", ALLOWED,
        "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type");
    assertEquals(204, r.statusCode(), r.body());
    assertEquals(ALLOWED, header(r, "Access-Control-Allow-Origin"));
    assertTrue(header(r, "Access-Control-Allow-Headers").contains("Authorization"));
    assertTrue(header(r, "Access-Control-Allow-Methods").contains("POST"));
    assertEquals("Origin", header(r, "Vary"));
  }

  @Test
  @DisplayName("a preflight from another site is refused 403 in JSON, without CORS headers")
  void preflightRefused() {
    HttpResponse<String> r = pulse.request("OPTIONS", "/api/v1/events", null, "Origin", FOREIGN,
        "Access-Control-Request-Method", "POST");
    assertEquals(403, r.statusCode());
    assertTrue(new JsonObject(r.body()).getString("error").contains("http.allowedOrigins"), r.body());
    assertNull(header(r, "Access-Control-Allow-Origin"));
  }

  @Test
  @DisplayName("API calls: another site's page 403; the allowed origin gets CORS; same origin and no Origin pass")
  void apiCalls() {
    HttpResponse<String> foreign = pulse.request("GET", "/api/v1/streams", null, "Origin", FOREIGN);
    assertEquals(403, foreign.statusCode());
    HttpResponse<String> allowed = pulse.request("GET", "/api/v1/streams", null, "Origin", ALLOWED);
    assertEquals(200, allowed.statusCode(), allowed.body());
    assertEquals(ALLOWED, header(allowed, "Access-Control-Allow-Origin"));
    assertTrue(header(allowed, "Access-Control-Expose-Headers").contains("Retry-After"));
    HttpResponse<String> same = pulse.request("GET", "/api/v1/streams", null, "Origin", "http://127.0.0.1:" + pulse.port());
    assertEquals(200, same.statusCode());
    assertNull(header(same, "Access-Control-Allow-Origin"), "same origin needs no CORS");
    HttpResponse<String> otherPort = pulse.request("GET", "/api/v1/streams", null, "Origin",
        "http://127.0.0.1:" + (pulse.port() == 1 ? 2 : pulse.port() - 1));
    assertEquals(403, otherPort.statusCode(), "another port is another origin");
    assertEquals(200, pulse.request("GET", "/api/v1/streams", null).statusCode());
  }

  @Test
  @DisplayName("WebSocket: another site's Origin is refused 403; the allowed one, the same origin and none are accepted")
  void websocketOrigins() {
    Throwable refused = null;
    try (LiveClient ws = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), Map.of("Origin", FOREIGN))) {
      // not reached
    } catch (Throwable e) {
      refused = e;
    }
    Throwable cause = refused;
    while (cause != null && !(cause instanceof UpgradeRejectedException)) {
      cause = cause.getCause();
    }
    assertTrue(cause instanceof UpgradeRejectedException, "the upgrade is rejected: " + refused);
    assertEquals(403, ((UpgradeRejectedException) cause).getStatus());
    assertTrue(((UpgradeRejectedException) cause).getBody().toString().contains("http.allowedOrigins"));

    for (Map<String, String> h : java.util.List.of(Map.of("Origin", ALLOWED),
        Map.of("Origin", "http://127.0.0.1:" + pulse.port()), Map.<String, String>of())) {
      try (LiveClient ws = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), h)) {
        ws.send(new JsonObject().put("op", "ping"));
        ws.await(m -> "pong".equals(m.type()), 5000);
      }
    }
  }

  private static void assertCommon(HttpResponse<String> r, String what) {
    assertEquals("nosniff", header(r, "X-Content-Type-Options"), what);
    assertEquals("no-referrer", header(r, "Referrer-Policy"), what);
    assertEquals("DENY", header(r, "X-Frame-Options"), what);
    assertNull(header(r, "Strict-Transport-Security"), what + ": no HSTS without TLS");
  }

  @Test
  @DisplayName("security headers on the UI page and its files (uPlot's from the webjar too): the page's CSP, no API caching rule")
  void uiHeaders() {
    for (String path : new String[] {"/", "/index.html", "/js/main.js", "/js/panels/timeseries.js", "/style.css",
        "/vendor/uplot/uPlot.esm.js", "/vendor/uplot/uPlot.min.css"}) {
      HttpResponse<String> r = pulse.request("GET", path, null);
      assertEquals(200, r.statusCode(), path);
      assertCommon(r, path);
      assertEquals(SecurityHeaders.UI_POLICY, header(r, "Content-Security-Policy"), path);
      assertFalse("no-store".equals(header(r, "Cache-Control")), path);
      if (path.startsWith("/vendor/")) {
        assertTrue(String.valueOf(header(r, "Cache-Control")).contains("max-age=86400"), path + ": kept a day, then revalidated");
        assertTrue(String.valueOf(header(r, "Content-Type")).startsWith(path.endsWith(".js") ? "text/javascript" : "text/css"), path);
      }
    }
    assertEquals(404, pulse.request("GET", "/vendor/uplot/nothing.js", null).statusCode());
  }

  @Test
  @DisplayName("security headers and no-store on API answers: 200, 404, 405, 400 and the 404 of a missing UI file")
  void apiAndErrorHeaders() {
    Object[][] cases = {
        {"GET", "/api/v1/streams", 200},
        {"GET", "/api/v1/nothing-here", 404},
        {"PATCH", "/api/v1/streams", 405},
        {"GET", "/api/v1/streams/x/series?from=yesterday", 400},
        {"GET", "/health/live", 200},
        {"GET", "/metrics", 200},
    };
    for (Object[] c : cases) {
      HttpResponse<String> r = pulse.request((String) c[0], (String) c[1], null);
      String what = c[0] + " " + c[1];
      assertEquals((int) c[2], r.statusCode(), what + ": " + r.body());
      assertCommon(r, what);
      assertEquals(SecurityHeaders.API_POLICY, header(r, "Content-Security-Policy"), what);
      if (((String) c[1]).startsWith("/api/")) {
        assertEquals("no-store", header(r, "Cache-Control"), what);
      }
    }
    HttpResponse<String> missing = pulse.request("GET", "/no-such-file.png", null);
    assertEquals(404, missing.statusCode());
    assertCommon(missing, "a missing file");
  }

  @Test
  @DisplayName("SSE keeps its own Cache-Control and gets the security headers, and still streams")
  void sseHeaders() {
    HttpResponse<java.io.InputStream> r;
    try {
      r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(pulse.baseUrl() + "/api/v1/live/sse?stream=hdrs")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    try (java.io.InputStream in = r.body()) {
      assertEquals(200, r.statusCode());
      assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(null));
      assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null));
      byte[] first = new byte[5];
      assertEquals(5, in.readNBytes(first, 0, 5), "the stream's first bytes arrive before it ends");
      assertEquals("retry", new String(first, java.nio.charset.StandardCharsets.US_ASCII));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}

package io.pulse.verticles;

import io.pulse.config.PulseConfig;
import io.pulse.http.OriginPolicy;
import io.pulse.http.SecurityHeaders;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What browsers are told and allowed, before any route runs: the security headers of every answer
 * ({@link SecurityHeaders}), and on {@code /api/v1} the origins whose pages may call it
 * ({@link OriginPolicy}, {@code http.allowedOrigins}): CORS for allowed ones (preflights answered
 * here), 403 for other sites' pages, WebSocket upgrades included.
 */
final class BrowserPolicy {

  private static final Logger LOG = LoggerFactory.getLogger(BrowserPolicy.class);

  static final String ALLOW_METHODS = "GET, POST, PUT, DELETE";
  static final String ALLOW_HEADERS = "Authorization, Content-Type, Content-Encoding, Last-Event-ID";
  static final String EXPOSE_HEADERS = "Retry-After, Location, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
      + "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";
  /** How long a browser may reuse a preflight's answer, seconds. */
  static final String MAX_AGE = "600";

  private final SecurityHeaders headers;
  private final OriginPolicy origins;

  BrowserPolicy(PulseConfig config) {
    this.headers = new SecurityHeaders(config.tls().enabled());
    this.origins = new OriginPolicy(config.allowedOrigins());
  }

  /** Says once at start which origins besides the server's own may use the API. */
  static void announce(PulseConfig config) {
    java.util.List<String> o = config.allowedOrigins();
    if (o.contains("*")) {
      LOG.warn("http.allowedOrigins is \"*\": pages of ANY site may call the API and open the live feed with a "
          + "token they hold; name the origins instead unless that is meant");
    } else if (o.isEmpty()) {
      LOG.info("http.allowedOrigins: none; only the server's own pages may call the API from a browser");
    } else {
      LOG.info("http.allowedOrigins: pages of {} may call the API and open the live feed", o);
    }
  }

  /** Every request: the security headers go on its answer, whatever answers it (a route, an error, a 404). */
  void headers(RoutingContext rc) {
    String path = rc.request().path();
    HttpServerResponse res = rc.response();
    Map<String, String> h = headers.forPath(path);
    boolean api = path != null && SecurityHeaders.isApi(path);
    rc.addHeadersEndHandler(v -> {
      h.forEach(res::putHeader);
      if (api && !res.headers().contains(HttpHeaders.CACHE_CONTROL)) {
        res.putHeader(HttpHeaders.CACHE_CONTROL, SecurityHeaders.API_CACHE);
      }
    });
    rc.next();
  }

  /** {@code /api/v1/*}: same-origin and Origin-less requests pass; allowed origins get CORS; others 403. */
  void origins(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (origin == null) {
      rc.next();
      return;
    }
    HostAndPort a = req.authority();
    String host = a == null ? req.getHeader(HttpHeaders.HOST) : a.host() + (a.port() >= 0 ? ":" + a.port() : "");
    HttpServerResponse res = rc.response();
    switch (origins.judge(origin, host)) {
      case NONE, SAME -> rc.next();
      case ALLOWED -> {
        res.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin).putHeader(HttpHeaders.VARY, "Origin");
        if (req.method() == HttpMethod.OPTIONS && req.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD) != null) {
          res.setStatusCode(204).putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS)
              .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
              .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, MAX_AGE).end();
        } else {
          res.putHeader(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
          rc.next();
        }
      }
      case FOREIGN -> {
        res.putHeader(HttpHeaders.VARY, "Origin");
        Replies.error(rc, 403, "pages of " + io.pulse.http.EdgeAnswer.clip(origin, 200) + " may not use this API: "
            + "add the origin to http.allowedOrigins (PULSE_ALLOWED_ORIGINS) to allow it");
      }
    }
  }
}

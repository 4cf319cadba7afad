package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pulse.core.Health;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** Operations (API.md "Operations"): health, metrics, the API document, the UI's files, and the API's 404/405 answers. */
final class OpsApi {

  private final PulseContext ctx;
  private final Router router;
  /**
   * The charting library of the page, from the webjar on the classpath (pom: org.webjars.npm:uplot):
   * {@code /vendor/uplot/uPlot.esm.js} and {@code uPlot.min.css}. The URL carries no version, so
   * browsers keep it a day and then revalidate (ETag) rather than for ever.
   */
  static final String UPLOT_DIR = "META-INF/resources/webjars/uplot/1.6.30/dist";
  private static final StaticFiles VENDOR = new StaticFiles(UPLOT_DIR, "/vendor/uplot/", "public, max-age=86400");
  /**
   * The UI's files (webroot/), from memory, gzipped once ({@link StaticFiles}). {@code no-cache}: a
   * browser keeps them but asks each time whether they changed (a 304 without a body when not), so
   * a new version of the page is never mixed with an old module.
   */
  private static final StaticFiles FILES = new StaticFiles("webroot", "/", "no-cache").with(VENDOR);
  private final OpenApiDoc openapi = new OpenApiDoc();

  private static final java.util.concurrent.atomic.AtomicBoolean READ_AHEAD = new java.util.concurrent.atomic.AtomicBoolean();

  /** Reads the page and the files it names into memory, once per process, on a worker. */
  static void readAhead(io.vertx.core.Vertx vertx) {
    if (READ_AHEAD.compareAndSet(false, true)) {
      vertx.executeBlocking(() -> FILES.readAhead("index.html"), false)
          .onFailure(e -> READ_AHEAD.set(false));
    }
  }

  OpsApi(PulseContext ctx, Router router) {
    this.ctx = ctx;
    this.router = router;
  }

  void live(RoutingContext rc) {
    json(rc, 200, new JsonObject().put("status", "up"));
  }

  /**
   * 503 while draining or while any component is down (the reasons joined in {@code reason}); 200
   * otherwise, with {@code "status":"degraded"} and the problems when something works but lost or
   * refused data an operator should know of.
   */
  void ready(RoutingContext rc) {
    if (ctx.draining.get()) {
      json(rc, 503, new JsonObject().put("status", "draining"));
      return;
    }
    List<Health.Problem> problems = ctx.health.problems();
    JsonArray list = new JsonArray();
    for (Health.Problem p : problems) {
      list.add(new JsonObject().put("component", p.component()).put("level", p.level().name().toLowerCase())
          .put("reason", p.reason()).put("since", p.since()));
    }
    List<String> down = ctx.health.reasons(Health.Level.DOWN);
    if (!down.isEmpty()) {
      JsonObject body = new JsonObject().put("status", "not ready").put("reason", String.join("; ", down))
          .put("problems", list);
      if (ctx.health.get("storage") != null) {
        body.put("queued", ctx.store.get().depth());
      }
      json(rc, 503, body);
    } else if (!problems.isEmpty()) {
      json(rc, 200, new JsonObject().put("status", "degraded").put("problems", list));
    } else {
      json(rc, 200, new JsonObject().put("status", "ready"));
    }
  }

  void metrics(RoutingContext rc) {
    String token = ctx.config.metricsToken();
    if (!token.isEmpty() && !bearerIs(rc.request().getHeader(HttpHeaders.AUTHORIZATION), token)) {
      rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"pulse-metrics\"");
      error(rc, 401, "/metrics needs the bearer token set in auth.metricsToken (PULSE_METRICS_TOKEN)");
      return;
    }
    if (ctx.registry instanceof PrometheusMeterRegistry) {
      Replies.send(rc, rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
          ((PrometheusMeterRegistry) ctx.registry).scrape());
    } else {
      error(rc, 404, "metrics are not enabled");
    }
  }

  /** Whether an Authorization header carries exactly this bearer token (compared in constant time). */
  static boolean bearerIs(String authorization, String token) {
    String sent = authorization == null ? null : io.pulse.auth.JwtAuthenticator.bearer(authorization);
    return sent != null && java.security.MessageDigest.isEqual(sent.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** GET /openapi.json: the REST API described ({@link OpenApiDoc}). */
  void openapiJson(RoutingContext rc) {
    openapi.json(rc);
  }

  /** GET /openapi.yaml: the same document in YAML. */
  void openapiYaml(RoutingContext rc) {
    openapi.yaml(rc);
  }

  /** The UI's static files. */
  void files(RoutingContext rc) {
    FILES.handle(rc);
  }

  /** GET /vendor/uplot/*: uPlot's files from its webjar. */
  void vendor(RoutingContext rc) {
    VENDOR.handle(rc);
  }

  /** A path of the API with another method: 405 with the methods it has; else 404. */
  void unknownApi(RoutingContext rc) {
    String path = rc.request().path();
    java.util.Set<String> allowed = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route r : router.getRoutes()) {
      String pattern = r.getPath();
      if (pattern == null || r.methods() == null || r.methods().isEmpty() || pattern.endsWith("*")) {
        continue;
      }
      String regex = java.util.regex.Pattern.quote(pattern).replaceAll(":[A-Za-z]+", "\\\\E[^/]+\\\\Q");
      if (path.matches(regex)) {
        r.methods().forEach(m -> allowed.add(m.name()));
      }
    }
    if (allowed.isEmpty()) {
      error(rc, 404, "no such endpoint: " + rc.request().method() + " " + path);
    } else {
      rc.response().putHeader(HttpHeaders.ALLOW, String.join(", ", allowed));
      error(rc, 405, rc.request().method() + " is not allowed on " + path + "; it takes " + String.join(", ", allowed));
    }
  }

  /**
   * A request Netty could not decode (bad request line, URI or headers too long, bad header):
   * answered in JSON like every other error, then the connection is closed (the decoder has lost
   * its place in the stream). The router never sees it, so the security headers are set here.
   */
  static void invalidRequest(HttpServerRequest req, java.util.Map<String, String> securityHeaders) {
    Throwable cause = req.decoderResult().cause();
    int status;
    String why;
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      status = 414;
      why = "the request line (method, URI, version) is too long";
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      status = 431;
      why = "the request headers are too large";
    } else {
      status = 400;
      why = "the request could not be read";
    }
    String detail = cause == null || cause.getMessage() == null ? "" : ": " + io.pulse.http.EdgeAnswer.clip(cause.getMessage(), 200);
    HttpServerResponse res = req.response();
    securityHeaders.forEach(res::putHeader);
    res.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(new JsonObject().put("error", why + detail).encode())
        .onComplete(ar -> req.connection().close());
  }
}

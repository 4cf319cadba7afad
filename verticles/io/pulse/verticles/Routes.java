package io.pulse.verticles;

import static io.pulse.core.Scope.ADMIN;
import static io.pulse.core.Scope.ALERTS;
import static io.pulse.core.Scope.AUTHENTICATED;
import static io.pulse.core.Scope.INGEST;
import static io.pulse.core.Scope.PUBLIC;
import static io.pulse.core.Scope.READ;
import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static io.vertx.core.http.HttpMethod.PUT;

import io.pulse.auth.Authenticator;
import io.pulse.core.Scope;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Every HTTP route of Pulse in one table that reads like API.md: method, path, the scope a token
 * needs for it, and its handlers, in the order they run. {@link #mount} installs exactly these
 * routes; every route that is not {@link Scope#PUBLIC} first resolves the request's caller and
 * checks its scope ({@link Callers}: 401 without a valid token, 403 without the scope). A route has
 * a scope or the tests fail (deny by default).
 */
final class Routes {

  /** The handler objects a route's steps come from, made by each HTTP verticle instance. */
  record Adapters(IngestApi ingest, StreamsApi streams, LiveApi live, DefinitionsApi rules,
      DefinitionsApi dashboards, DefinitionsApi playlists, QuarantineApi quarantine, OpsApi ops, BodyHandler eventsBody,
      BodyHandler documentBody, AlertsApi alerts,
      WebhooksApi webhooks, ScoringApi scoring, TokensApi tokens, QueryApi query) {
  }

  /** One handler of a route, taken from the adapters. */
  interface Step extends Function<Adapters, Handler<RoutingContext>> {
  }

  /**
   * @param method null for every method
   * @param onFailure a failure handler for the route (a 413 of its body limit), or null
   */
  record Route(HttpMethod method, String path, Scope scope, List<Step> steps, Step onFailure) {

    /** "GET /api/v1/streams/{stream}/series": the route as API.md writes it. */
    String describe() {
      return (method == null ? "*" : method.name()) + " " + path.replaceAll(":([A-Za-z]+)", "{$1}");
    }
  }

  static final List<Route> TABLE = List.of(
      // ---- ingest: the checks that need no body answer before it is read ----
      route(POST, "/api/v1/events", INGEST, a -> a.ingest()::checkIngest, Adapters::eventsBody,
          a -> a.ingest()::ingest),
      route(POST, "/api/v1/streams/:stream/events", INGEST, a -> a.ingest()::checkIngest, Adapters::eventsBody,
          a -> a.ingest()::ingest),

      // ---- streams and history ----
      route(GET, "/api/v1/streams", READ, a -> a.streams()::streams),
      route(GET, "/api/v1/streams/:stream/series", READ, a -> a.streams()::series),
      route(GET, "/api/v1/streams/:stream/anomalies", READ, a -> a.streams()::anomalies),
      withFailure(route(POST, "/api/v1/streams/:stream/anomalies/feedback", ALERTS, Adapters::documentBody,
          a -> a.streams()::feedback), a -> a.rules()::tooLarge),
      route(GET, "/api/v1/streams/:stream/detectors", READ, a -> a.streams()::detectors),
      route(DELETE, "/api/v1/streams/:stream", ADMIN, a -> a.streams()::delete),

      // ---- panel queries with derived figures (issue 14, wallboard contract section 3) ----
      route(GET, "/api/v1/query", READ, a -> a.query()::get),
      withFailure(route(POST, "/api/v1/query", READ, Adapters::documentBody, a -> a.query()::post),
          a -> a.rules()::tooLarge),

      // ---- event scoring: a stream's model, training on demand, its outliers ----
      route(GET, "/api/v1/streams/:stream/model", READ, a -> a.scoring()::model),
      route(POST, "/api/v1/streams/:stream/model/train", ADMIN, a -> a.scoring()::train),
      route(GET, "/api/v1/streams/:stream/outliers", READ, a -> a.scoring()::outliers),

      // ---- live feed ----
      route(GET, "/api/v1/live/sse", READ, a -> a.live()::sse),
      route(GET, "/api/v1/live/ws", READ, a -> a.live()::websocket),

      // ---- rules (the alerting work's documents) ----
      route(GET, "/api/v1/rules", READ, a -> a.rules()::list),
      withFailure(route(POST, "/api/v1/rules/preview", ALERTS, Adapters::documentBody, a -> a.alerts()::preview),
          a -> a.rules()::tooLarge),
      withFailure(route(POST, "/api/v1/rules", ALERTS, Adapters::documentBody, a -> a.rules()::create),
          a -> a.rules()::tooLarge),
      route(GET, "/api/v1/rules/:id", READ, a -> a.rules()::get),
      withFailure(route(PUT, "/api/v1/rules/:id", ALERTS, Adapters::documentBody, a -> a.rules()::update),
          a -> a.rules()::tooLarge),
      route(DELETE, "/api/v1/rules/:id", ALERTS, a -> a.rules()::delete),
      route(GET, "/api/v1/rules/:id/versions", READ, a -> a.rules()::versions),

      // ---- alerts and silences ----
      route(GET, "/api/v1/alerts", READ, a -> a.alerts()::list),
      route(GET, "/api/v1/alerts/:id", READ, a -> a.alerts()::get),
      withFailure(route(POST, "/api/v1/alerts/:id/ack", ALERTS, Adapters::documentBody, a -> a.alerts()::ack),
          a -> a.alerts()::tooLarge),
      route(POST, "/api/v1/alerts/:id/unack", ALERTS, a -> a.alerts()::unack),
      withFailure(route(POST, "/api/v1/alerts/:id/not-anomaly", ALERTS, Adapters::documentBody,
          a -> a.alerts()::notAnomaly), a -> a.alerts()::tooLarge),
      route(GET, "/api/v1/silences", READ, a -> a.alerts()::silences),
      withFailure(route(POST, "/api/v1/silences", ALERTS, Adapters::documentBody, a -> a.alerts()::createSilence),
          a -> a.alerts()::tooLarge),
      route(GET, "/api/v1/silences/:id", READ, a -> a.alerts()::silence),
      route(DELETE, "/api/v1/silences/:id", ALERTS, a -> a.alerts()::expireSilence),
      // ---- webhooks (alert notifications) ----
      route(GET, "/api/v1/webhooks", ALERTS, a -> a.webhooks()::list),
      withFailure(route(POST, "/api/v1/webhooks", ALERTS, Adapters::documentBody, a -> a.webhooks()::create),
          a -> a.webhooks()::tooLarge),
      route(GET, "/api/v1/webhooks/:id", ALERTS, a -> a.webhooks()::get),
      withFailure(route(PUT, "/api/v1/webhooks/:id", ALERTS, Adapters::documentBody, a -> a.webhooks()::update),
          a -> a.webhooks()::tooLarge),
      route(DELETE, "/api/v1/webhooks/:id", ALERTS, a -> a.webhooks()::delete),
      route(GET, "/api/v1/webhooks/:id/deliveries", ALERTS, a -> a.webhooks()::deliveries),
      route(POST, "/api/v1/webhooks/:id/test", ALERTS, a -> a.webhooks()::test),

      // ---- dashboards ----
      route(GET, "/api/v1/dashboards", READ, a -> a.dashboards()::list),
      withFailure(route(POST, "/api/v1/dashboards", ADMIN, Adapters::documentBody, a -> a.dashboards()::create),
          a -> a.dashboards()::tooLarge),
      route(GET, "/api/v1/dashboards/:id", READ, a -> a.dashboards()::get),
      withFailure(route(PUT, "/api/v1/dashboards/:id", ADMIN, Adapters::documentBody, a -> a.dashboards()::update),
          a -> a.dashboards()::tooLarge),
      route(DELETE, "/api/v1/dashboards/:id", ADMIN, a -> a.dashboards()::delete),
      route(GET, "/api/v1/dashboards/:id/versions", READ, a -> a.dashboards()::versions),

      // ---- playlists (wallboards rotating dashboards; issue 14) ----
      route(GET, "/api/v1/playlists", READ, a -> a.playlists()::list),
      withFailure(route(POST, "/api/v1/playlists", ADMIN, Adapters::documentBody, a -> a.playlists()::create),
          a -> a.playlists()::tooLarge),
      route(GET, "/api/v1/playlists/:id", READ, a -> a.playlists()::get),
      withFailure(route(PUT, "/api/v1/playlists/:id", ADMIN, Adapters::documentBody, a -> a.playlists()::update),
          a -> a.playlists()::tooLarge),
      route(DELETE, "/api/v1/playlists/:id", ADMIN, a -> a.playlists()::delete),
      route(GET, "/api/v1/playlists/:id/versions", READ, a -> a.playlists()::versions),

      // ---- tokens and displays ----
      withFailure(route(POST, "/api/v1/tokens/:id/revoke", ADMIN, Adapters::documentBody, a -> a.tokens()::revoke),
          a -> a.tokens()::tooLarge),
      route(GET, "/api/v1/tokens/revoked", ADMIN, a -> a.tokens()::revoked),
      withFailure(route(POST, "/api/v1/displays", ADMIN, Adapters::documentBody, a -> a.tokens()::createDisplay),
          a -> a.tokens()::tooLarge),
      route(GET, "/api/v1/displays", ADMIN, a -> a.tokens()::listDisplays),
      route(GET, "/api/v1/displays/:id", ADMIN, a -> a.tokens()::getDisplay),
      route(DELETE, "/api/v1/displays/:id", ADMIN, a -> a.tokens()::deleteDisplay),

      // ---- quarantine and audit ----
      route(GET, "/api/v1/quarantine", READ, a -> a.quarantine()::list),
      route(POST, "/api/v1/quarantine/requeue", ADMIN, a -> a.quarantine()::requeueMany),
      route(POST, "/api/v1/quarantine/:id/requeue", ADMIN, a -> a.quarantine()::requeueOne),
      route(DELETE, "/api/v1/quarantine/:id", ADMIN, a -> a.quarantine()::delete),
      route(DELETE, "/api/v1/quarantine", ADMIN, a -> a.quarantine()::purge),
      route(GET, "/api/v1/audit", ADMIN, a -> a.quarantine()::auditList),

      // ---- the caller's own token ----
      route(GET, "/api/v1/whoami", AUTHENTICATED, a -> AuthApi::whoami),

      // ---- operations ----
      route(GET, "/health/live", PUBLIC, a -> a.ops()::live),
      route(GET, "/health/ready", PUBLIC, a -> a.ops()::ready),
      route(GET, "/metrics", PUBLIC, a -> a.ops()::metrics),
      route(GET, "/openapi.json", PUBLIC, a -> a.ops()::openapiJson),
      route(GET, "/openapi.yaml", PUBLIC, a -> a.ops()::openapiYaml),

      // ---- the rest: 404/405 in JSON for the API, the UI's files for everything else ----
      route(null, "/api/*", PUBLIC, a -> a.ops()::unknownApi),
      route(GET, "/vendor/uplot/*", PUBLIC, a -> a.ops()::vendor),
      route(null, "/*", PUBLIC, a -> a.ops()::files));

  private Routes() {
  }

  private static Route route(HttpMethod method, String path, Scope scope, Step... steps) {
    return new Route(method, path, scope, List.of(steps), null);
  }

  private static Route withFailure(Route r, Step onFailure) {
    return new Route(r.method(), r.path(), r.scope(), r.steps(), onFailure);
  }

  /**
   * Installs {@link #TABLE} on {@code router}. Each step becomes a Vert.x route of its own with the
   * same method and path (Vert.x orders body handlers before user handlers within one route; here
   * a user handler, the caller's resolution or ingest's checks, runs before the body is read).
   * A route with a rate limit ({@link RateLimitStep}) charges the client's address before the
   * caller's resolution and the caller's token right after it.
   */
  static void mount(Router router, Adapters adapters, Supplier<Authenticator> callers, EdgeLimits limits) {
    for (Route r : TABLE) {
      if (r.scope() == null) {
        throw new IllegalStateException(r.describe() + " has no scope");
      }
      io.vertx.ext.web.Route last = null;
      if (r.scope() != PUBLIC) {
        io.pulse.http.RateClass rate = RateLimitStep.classOf(r); // fair use: per address, then per token
        if (rate != io.pulse.http.RateClass.NONE) {
          vertxRoute(router, r).handler(RateLimitStep.byAddress(limits, rate));
        }
        last = vertxRoute(router, r).handler(Callers.resolve(callers, r.scope()));
        if (rate != io.pulse.http.RateClass.NONE) {
          last = vertxRoute(router, r).handler(RateLimitStep.byToken(limits, rate));
        }
      }
      for (Step step : r.steps()) {
        Handler<RoutingContext> h = step.apply(adapters);
        last = vertxRoute(router, r).handler(h instanceof BodyHandler ? h : Replies.guarded(h));
      }
      if (r.onFailure() != null) {
        last.failureHandler(r.onFailure().apply(adapters));
      }
    }
  }

  private static io.vertx.ext.web.Route vertxRoute(Router router, Route r) {
    if (r.method() == null) {
      return router.route(r.path());
    }
    io.vertx.ext.web.Route route = router.route(r.method(), r.path());
    // HEAD wherever GET answers (health checks of load balancers), except on the live feed's streams
    return r.method() == GET && !r.path().startsWith("/api/v1/live/") ? route.method(HttpMethod.HEAD) : route;
  }
}

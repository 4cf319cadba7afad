package io.pulse.verticles;

import io.pulse.auth.AuthFailure;
import io.pulse.auth.Authenticator;
import io.pulse.auth.Identity;
import io.pulse.core.Caller;
import io.pulse.core.Scope;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The request's {@link Caller}: resolved once, by the first handler of every route that is not
 * {@link Scope#PUBLIC}, and kept on the routing context; then the route's scope is checked. Handlers
 * read the tenant and the audit log's actor from {@link #of} and from nowhere else.
 *
 * <ul>
 *   <li>401 (with {@code WWW-Authenticate: Bearer ...}) when the caller cannot be established: no
 *       token, or one that is not valid (the reason is the JSON's {@code error});</li>
 *   <li>403 when the token lacks the route's scope (the JSON names the scope needed);</li>
 *   <li>404 when the route names a stream ({@code :stream}) that the token's scope does not cover
 *       (a pattern such as {@code read:checkout*}): such a stream answers as if it did not exist,
 *       like another tenant's. Sending events to it is a 403 instead, as ingest creates streams.</li>
 * </ul>
 *
 * <p>A display token's grants arrive narrowed to the streams its dashboard (or playlist) shows
 * ({@link DisplayScoping}), so the same checks ({@link #sees}, {@link #mayRead}, {@link #visible},
 * the {@code :stream} check here and the live feed's) keep it to them.
 */
final class Callers {

  private static final String KEY = "pulse.caller";

  private Callers() {
  }

  /** Resolves the caller of a request for a route of {@code scope}, and checks the scope. */
  static Handler<RoutingContext> resolve(Supplier<Authenticator> auth, Scope scope) {
    return rc -> {
      Identity known = rc.get(KEY);
      if (known != null) {
        allow(rc, known, scope);
        return;
      }
      Future<Identity> f;
      try {
        f = auth.get().authenticate(rc.request()::getHeader, Callers.param(rc));
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      if (f.isComplete()) {
        done(rc, f, scope);
      } else {
        // a key set being fetched: hold the body until the route's next handler (its body handler) reads it
        rc.request().pause();
        f.onComplete(ar -> {
          done(rc, ar, scope);
          rc.request().resume();
        });
      }
    };
  }

  private static void done(RoutingContext rc, AsyncResult<Identity> ar, Scope scope) {
    if (ar.failed()) {
      Throwable e = ar.cause();
      if (e instanceof IllegalArgumentException) {
        String reason = e.getMessage() == null ? "who is calling could not be established" : e.getMessage();
        boolean missing = e instanceof AuthFailure a && a.missingToken();
        rc.response().putHeader("WWW-Authenticate", AuthFailure.challenge(reason, missing));
        Replies.error(rc, 401, reason);
      } else if (e instanceof io.pulse.store.DefinitionStore.Refused r) {
        Replies.error(rc, r.status(), r.getMessage()); // a display's scope could not be read: 503
      } else {
        rc.fail(e);
      }
      return;
    }
    Identity id = ar.result();
    if (id == null || id.caller() == null) {
      rc.fail(new IllegalStateException("the caller resolver answered null for " + rc.request().path()));
      return;
    }
    rc.put(KEY, id);
    allow(rc, id, scope);
  }

  /** The route's scope, and the stream it names, against the caller's grants. */
  private static void allow(RoutingContext rc, Identity id, Scope scope) {
    Caller c = id.caller();
    if (!c.grants().allows(scope)) {
      String name = scope.name().toLowerCase(Locale.ROOT);
      rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"pulse\", error=\"insufficient_scope\", scope=\""
          + name + "\"");
      Replies.json(rc, 403, new JsonObject().put("error", "this token lacks the scope this call needs: " + name
          + (c.display() != null ? " (a display token only reads)" : "")).put("scope", name));
      return;
    }
    if (c.display() != null && displayOffLimits(rc.request().path())) {
      Replies.json(rc, 403, new JsonObject().put("error", "a display token reads its dashboard and the streams, "
          + "history, live feed and alerts it shows; not " + io.pulse.http.QueryParams.shown(rc.request().path()))
          .put("scope", "display"));
      return;
    }
    String stream = rc.pathParam("stream");
    if (stream != null && !streamAllowed(rc, scope, stream)) {
      return;
    }
    rc.next();
  }

  /**
   * Whether the caller may use stream {@code stream} under {@code scope}; if not, answered here
   * (403 to send events, 404 as if absent to read). The check of a route's {@code {stream}}, and
   * of the streams a request names in its body or query ({@code /api/v1/query}).
   */
  static boolean streamAllowed(RoutingContext rc, Scope scope, String stream) {
    Caller c = of(rc);
    if (!c.grants().allows(scope, stream)) {
      if (scope == Scope.INGEST) {
        Replies.json(rc, 403, new JsonObject().put("error", "this token may not send events to stream "
            + io.pulse.http.QueryParams.shown(stream)).put("scope", "ingest"));
      } else {
        Replies.error(rc, 404, "no stream named " + io.pulse.http.QueryParams.shown(stream) + " is known");
      }
      return false;
    }
    return true;
  }

  /**
   * What a display token (a wallboard's, in a screen's URL) may not read although its scope is
   * read: definitions and records a dashboard does not draw (rules, silences, webhooks, the
   * quarantine with its raw payloads, the audit log, tokens, detectors and event models).
   */
  static boolean displayOffLimits(String path) {
    for (String p : DISPLAY_OFF_LIMITS) {
      if (path.startsWith(p)) {
        return true;
      }
    }
    return path.startsWith("/api/v1/streams/") && (path.endsWith("/model") || path.endsWith("/detectors"));
  }

  private static final java.util.List<String> DISPLAY_OFF_LIMITS = java.util.List.of("/api/v1/rules",
      "/api/v1/webhooks", "/api/v1/quarantine", "/api/v1/audit", "/api/v1/tokens", "/api/v1/displays",
      "/api/v1/silences");

  /**
   * A query parameter for the resolver; null when absent or when the query cannot be decoded. The
   * token is taken from the query ({@code access_token}) on the live endpoints only, where browsers'
   * EventSource and WebSocket cannot send a header: elsewhere a token in the URL would end up in
   * access logs and proxies for no need.
   */
  private static java.util.function.Function<String, String> param(RoutingContext rc) {
    boolean live = rc.request().path().startsWith("/api/v1/live/");
    return name -> {
      if (!live && "access_token".equals(name)) {
        return null;
      }
      try {
        return rc.queryParams().get(name);
      } catch (RuntimeException e) {
        return null; // a malformed query: the route's own parameter checks answer 400 for it
      }
    };
  }

  /** Whether the caller may read stream {@code name} (its READ scope may name only some streams). */
  static boolean sees(RoutingContext rc, String name) {
    return of(rc).grants().allows(Scope.READ, name);
  }

  /**
   * Whether the caller may read stream {@code name}: the one check for every read path that names a
   * stream outside a {@code :stream} path parameter (the query API, a body's stream). False for a
   * stream outside the token's read scope and, for a display token, for a stream its dashboard (or
   * playlist) does not show ({@link DisplayScoping}); answer such a stream as if it did not exist (404).
   */
  static boolean mayRead(RoutingContext rc, String name) {
    return sees(rc, name);
  }

  /**
   * A listing with only what the caller may read: the entries of {@code body}'s array {@code key}
   * whose "stream" its READ scope covers, and without the totals that count the others ({@code
   * counts}). Unchanged for a caller that reads every stream of its tenant.
   */
  static JsonObject visible(RoutingContext rc, JsonObject body, String key, String... counts) {
    Caller c = of(rc);
    if (c.grants().allowsAll(Scope.READ) || body == null || body.getJsonArray(key) == null) {
      return body;
    }
    io.vertx.core.json.JsonArray kept = new io.vertx.core.json.JsonArray();
    for (Object o : body.getJsonArray(key)) {
      if (o instanceof JsonObject j && j.getValue("stream") instanceof String s && c.grants().allows(Scope.READ, s)) {
        kept.add(j);
      }
    }
    JsonObject out = body.copy().put(key, kept);
    for (String n : counts) {
      out.remove(n);
    }
    return out;
  }

  /** The caller of a request on a non-public route. */
  static Caller of(RoutingContext rc) {
    return identity(rc).caller();
  }

  /** The caller with how it was established (whoami). */
  static Identity identity(RoutingContext rc) {
    Identity c = rc.get(KEY);
    if (c == null) {
      throw new IllegalStateException("no caller resolved for " + rc.request().path()
          + ": its route is PUBLIC in the route table, or was mounted outside it");
    }
    return c;
  }
}

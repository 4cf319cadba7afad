package io.pulse.verticles;

import io.pulse.http.QueryParams;
import io.pulse.store.DefinitionStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How every HTTP adapter answers: JSON bodies, {@code {"error": "why"}} errors, store results. */
final class Replies {

  private static final Logger LOG = LoggerFactory.getLogger(Replies.class);

  private Replies() {
  }

  static void json(RoutingContext rc, int status, JsonObject body) {
    if (rc.response().ended()) {
      return;
    }
    send(rc, rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json"),
        body.encode());
  }

  /**
   * Ends {@code res} with {@code body}; for a HEAD request with its length and no body. Vert.x
   * leaves that to the handler on HTTP/2, where a body after a HEAD request's headers makes the
   * client reset the stream (load balancers' HEAD health checks failed over TLS).
   */
  static void send(RoutingContext rc, io.vertx.core.http.HttpServerResponse res, String body) {
    if (rc.request().method() == io.vertx.core.http.HttpMethod.HEAD) {
      res.putHeader(HttpHeaders.CONTENT_LENGTH,
          String.valueOf(body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)).end();
    } else {
      res.end(body);
    }
  }

  static void error(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("error", message));
  }

  static Map<String, List<String>> toMap(MultiMap m) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String name : m.names()) {
      out.put(name, m.getAll(name));
    }
    return out;
  }

  /** The request's query parameters, checked as they are read (a bad one: 400 through {@link #guarded}). */
  static QueryParams params(RoutingContext rc) {
    return new QueryParams(name -> rc.queryParams().get(name));
  }

  /**
   * The one place a handler's refusal becomes an answer: a {@link DefinitionStore.Refused} thrown
   * before any database call answers its status, a bad parameter ({@link IllegalArgumentException})
   * answers 400. Handlers just check and throw. Every route's handlers run inside it.
   */
  static Handler<RoutingContext> guarded(Handler<RoutingContext> h) {
    return rc -> {
      try {
        h.handle(rc);
      } catch (DefinitionStore.Refused r) {
        error(rc, r.status(), r.getMessage());
      } catch (IllegalArgumentException e) {
        error(rc, 400, e.getMessage());
      }
    };
  }

  /** Answers with what a database call gave, waiting at most {@code timeoutMs} (storage.queryTimeoutMs). */
  static void reply(RoutingContext rc, Future<JsonObject> f, int status, long timeoutMs) {
    StoreErrors.bounded(f, timeoutMs).onComplete(ar -> answer(rc, ar, status));
  }

  /**
   * The answer, a refusal with its status, a 400 when the database refused the caller's data, or
   * a 503 when the database did not answer (down, or no answer within storage.queryTimeoutMs: a
   * change may still be applied when it comes back; read it before retrying). A failure that is
   * none of these is logged with its stack trace.
   */
  static void answer(RoutingContext rc, AsyncResult<JsonObject> ar, int status) {
    if (ar.succeeded()) {
      json(rc, status, ar.result());
      return;
    }
    Throwable cause = ar.cause();
    if (cause instanceof DefinitionStore.Refused r) {
      error(rc, r.status(), r.getMessage());
    } else if (StoreErrors.dataException(cause)) {
      error(rc, 400, "the request holds what the database cannot take: " + StoreErrors.describe(cause));
    } else {
      if (StoreErrors.transientFailure(cause)) {
        LOG.warn("{} {}: {}", rc.request().method(), rc.request().path(), cause.toString());
      } else {
        LOG.error("{} {} failed", rc.request().method(), rc.request().path(), cause);
      }
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      String write = rc.request().method() == HttpMethod.GET ? ""
          : "; the change may still be applied when it answers: read it back before retrying";
      error(rc, 503, "storage: the database does not answer: " + StoreErrors.describe(cause) + write);
    }
  }

  /** A request body that must be one JSON object; anything else is an IllegalArgumentException (400) saying why. */
  static JsonObject bodyObject(RoutingContext rc) {
    try {
      JsonObject o = rc.body().asJsonObject();
      if (o == null) {
        throw new IllegalArgumentException("the body must be a JSON object");
      }
      return o;
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("the body must be a JSON object, not an array or a value");
    } catch (io.vertx.core.json.DecodeException e) {
      throw new IllegalArgumentException("the body is not valid JSON");
    }
  }
}

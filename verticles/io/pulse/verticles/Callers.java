package io.pulse.verticles;

import io.pulse.core.Caller;
import io.pulse.core.CallerResolver;
import io.pulse.core.Scope;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/**
 * The request's {@link Caller}: resolved once, by the first handler of every route that is not
 * {@link Scope#PUBLIC}, and kept on the routing context. Handlers read the tenant and the audit
 * log's actor from {@link #of} and from nowhere else.
 */
final class Callers {

  private static final String KEY = "pulse.caller";

  private Callers() {
  }

  /**
   * Resolves the caller of a request for a route of {@code scope} (not checked until the JWT work
   * gives callers scopes); a resolver that refuses the request (IllegalArgumentException) makes it
   * a 401.
   */
  static Handler<RoutingContext> resolve(Supplier<CallerResolver> resolver, Scope scope) {
    return rc -> {
      if (rc.get(KEY) == null) {
        Caller caller;
        try {
          caller = resolver.get().resolve(rc.request()::getHeader, Callers.param(rc));
        } catch (IllegalArgumentException e) {
          Replies.error(rc, 401, e.getMessage() == null ? "who is calling could not be established" : e.getMessage());
          return;
        }
        if (caller == null) {
          throw new IllegalStateException("the caller resolver answered null for " + rc.request().path());
        }
        rc.put(KEY, caller);
      }
      rc.next();
    };
  }

  /** A query parameter for the resolver; null when absent or when the query cannot be decoded. */
  private static java.util.function.Function<String, String> param(RoutingContext rc) {
    return name -> {
      try {
        return rc.queryParams().get(name);
      } catch (RuntimeException e) {
        return null; // a malformed query: the route's own parameter checks answer 400 for it
      }
    };
  }

  /** The caller of a request on a non-public route. */
  static Caller of(RoutingContext rc) {
    Caller c = rc.get(KEY);
    if (c == null) {
      throw new IllegalStateException("no caller resolved for " + rc.request().path()
          + ": its route is PUBLIC in the route table, or was mounted outside it");
    }
    return c;
  }
}

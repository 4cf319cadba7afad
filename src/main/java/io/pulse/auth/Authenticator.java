package io.pulse.auth;

import io.pulse.core.CallerResolver;
import io.vertx.core.Future;
import java.util.function.Function;

/**
 * Finds who a request is, possibly asynchronously (a key set fetched for an unknown key id). A
 * failed future with an {@link IllegalArgumentException} (an {@link AuthFailure} for tokens) is
 * a 401 with its message.
 */
public interface Authenticator {

  /**
   * @param header a header's value by (case-insensitive) name, or null
   * @param param a query parameter's value by name, or null
   */
  Future<Identity> authenticate(Function<String, String> header, Function<String, String> param);

  /** A synchronous resolver (authentication off, tests' in-process resolvers) as an authenticator. */
  static Authenticator of(CallerResolver resolver) {
    return (header, param) -> {
      try {
        return Future.succeededFuture(Identity.off(resolver.resolve(header, param)));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    };
  }
}

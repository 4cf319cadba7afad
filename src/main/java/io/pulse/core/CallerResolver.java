package io.pulse.core;

import java.util.function.Function;

/**
 * Finds who a request is from its headers and query parameters, synchronously. With
 * authentication off the server's resolver is {@link #ANONYMOUS}; with it on, the JWT
 * authenticator ({@code io.pulse.auth.JwtAuthenticator}, asynchronous) takes its place. Tests that
 * need two tenants without tokens install their own in-process (there is no setting that lets a
 * client pick its tenant).
 */
@FunctionalInterface
public interface CallerResolver {

  /** Every request is {@link Caller#ANONYMOUS}, the tenant "default". */
  CallerResolver ANONYMOUS = (header, param) -> Caller.ANONYMOUS;

  /**
   * The caller of a request.
   *
   * @param header a header's value by (case-insensitive) name, or null
   * @param param a query parameter's value by name, or null
   * @return the caller; never null
   * @throws IllegalArgumentException when the request names a caller that is not valid (the
   *     route answers 401 with the message)
   */
  Caller resolve(Function<String, String> header, Function<String, String> param);
}

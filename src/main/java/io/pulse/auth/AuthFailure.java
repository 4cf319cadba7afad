package io.pulse.auth;

/**
 * Why a request's token was not accepted: the route answers 401 with this message as
 * {@code {"error": ...}} and in {@code WWW-Authenticate}. An IllegalArgumentException, so that
 * every resolver's refusal is answered the same way.
 */
public final class AuthFailure extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** Whether the request carried no token at all (RFC 6750: the challenge then names no error). */
  private final boolean missing;

  public AuthFailure(String reason) {
    this(reason, false);
  }

  private AuthFailure(String reason, boolean missing) {
    super(reason);
    this.missing = missing;
  }

  /** The request has no token. */
  public static AuthFailure missing() {
    return new AuthFailure("a token is required: send Authorization: Bearer <JWT> (or access_token=<JWT> on the "
        + "live endpoints and in the page's URL)", true);
  }

  public boolean missingToken() {
    return missing;
  }

  /** The {@code WWW-Authenticate} header of the 401 answer (RFC 6750 section 3). */
  public static String challenge(String reason, boolean missing) {
    if (missing) {
      return "Bearer realm=\"pulse\"";
    }
    String d = reason == null ? "invalid token" : reason.replaceAll("[\"\\\\\\p{Cntrl}]", "'");
    return "Bearer realm=\"pulse\", error=\"invalid_token\", error_description=\"" + d + "\"";
  }
}

package io.pulse.core;

/**
 * Who a request runs as: its tenant, the subject that acts, the token it came with and what that
 * token allows. Every HTTP route and live connection resolves one before it touches data, and
 * reads the tenant from it and from nowhere else. Without authentication every request is
 * {@link #ANONYMOUS}.
 *
 * @param tenant the tenant whose streams, definitions and history the request sees
 * @param subject who acts ("anonymous" without authentication)
 * @param tokenId the token's id (its {@code jti}), by which it is revoked; null without a token
 * @param grants the scopes the token gives
 * @param display what a display token is bound to; null for every other caller
 * @param expiresAtMs when the token expires (epoch ms); {@link Long#MAX_VALUE} for never
 */
public record Caller(String tenant, String subject, String tokenId, Grants grants, DisplayBinding display,
    long expiresAtMs) {

  /** The caller of every request while authentication is off. */
  public static final Caller ANONYMOUS = new Caller(StreamId.DEFAULT_TENANT, "anonymous");

  public Caller {
    if (!StreamId.validTenant(tenant)) {
      throw new IllegalArgumentException("tenant id must be " + StreamId.NAME_RULE);
    }
    if (subject == null || subject.isEmpty()) {
      throw new IllegalArgumentException("a caller has a subject");
    }
    if (grants == null) {
      throw new IllegalArgumentException("a caller has grants");
    }
  }

  /** A caller without a token, allowed everything in its tenant (authentication off; tests' resolvers). */
  public Caller(String tenant, String subject) {
    this(tenant, subject, null, Grants.ALL, null, Long.MAX_VALUE);
  }

  /** The identity of this caller's stream {@code name}. */
  public StreamId stream(String name) {
    return StreamId.of(tenant, name);
  }

  /** The audit log's actor: the subject, and the token's id when there is one ("alice (token 7f3a…)"). */
  public String actor() {
    return tokenId == null ? subject : subject + " (token " + tokenId + ")";
  }
}

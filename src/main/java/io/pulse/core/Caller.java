package io.pulse.core;

/**
 * Who a request runs as: its tenant and the subject that acts (the audit log's actor). Every
 * HTTP route and live connection resolves one before it touches data, and reads the tenant from
 * it and from nowhere else. Until JWT tenants land every request is {@link #ANONYMOUS}; the auth
 * work fills it from the token.
 *
 * @param tenant the tenant whose streams, definitions and history the request sees
 * @param subject who acts, for the audit log ("anonymous" without authentication)
 */
public record Caller(String tenant, String subject) {

  /** The caller of every request while authentication is off. */
  public static final Caller ANONYMOUS = new Caller(StreamId.DEFAULT_TENANT, "anonymous");

  public Caller {
    if (!StreamId.validTenant(tenant)) {
      throw new IllegalArgumentException("tenant id must be " + StreamId.NAME_RULE);
    }
    if (subject == null || subject.isEmpty()) {
      throw new IllegalArgumentException("a caller has a subject");
    }
  }

  /** The identity of this caller's stream {@code name}. */
  public StreamId stream(String name) {
    return StreamId.of(tenant, name);
  }
}

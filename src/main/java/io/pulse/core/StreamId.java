package io.pulse.core;

/**
 * A stream's identity: the tenant it belongs to and its name. Everywhere a stream is a key (events
 * and their series, the catalog, views, subscriptions, the quarantine, stored rows, the history
 * API) it is this pair, never the bare name: two tenants may both have a stream called
 * {@code checkout} and never share anything.
 *
 * <p>The rules for names live here and nowhere else: a stream name is 1 to 64 of
 * {@code [a-z0-9_.-]}; a tenant id is 1 to 64 of {@code [a-z0-9_.-]} as well (it becomes part of
 * keys, log lines and metric tags, so it is held to the same safe alphabet).
 */
public final class StreamId implements Comparable<StreamId> {

  /** The tenant every request runs as until JWT tenants land. */
  public static final String DEFAULT_TENANT = "default";

  /** The longest stream name or tenant id. */
  public static final int MAX_NAME = 64;

  /** The rule in words, for error messages. */
  public static final String NAME_RULE = "1 to 64 characters of a-z, 0-9, '_', '.' and '-'";

  private final String tenant;
  private final String name;
  private final int hash;

  private StreamId(String tenant, String name) {
    this.tenant = tenant;
    this.name = name;
    this.hash = tenant.hashCode() * 31 + name.hashCode();
  }

  /**
   * The identity of {@code name} in {@code tenant}.
   *
   * @throws IllegalArgumentException when either breaks the naming rule
   */
  public static StreamId of(String tenant, String name) {
    if (!validTenant(tenant)) {
      throw new IllegalArgumentException("tenant id must be " + NAME_RULE);
    }
    if (!validName(name)) {
      throw new IllegalArgumentException("stream name must be " + NAME_RULE);
    }
    return new StreamId(tenant, name);
  }

  /** A stream of the default tenant; for configuration, generators and tests. */
  public static StreamId of(String name) {
    return of(DEFAULT_TENANT, name);
  }

  /** The rule for stream names: 1 to 64 of {@code [a-z0-9_.-]}. Null is not valid. */
  public static boolean validName(String s) {
    if (s == null) {
      return false;
    }
    int n = s.length();
    if (n == 0 || n > MAX_NAME) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** The rule for tenant ids: the same alphabet and length as stream names. */
  public static boolean validTenant(String s) {
    return validName(s);
  }

  public String tenant() {
    return tenant;
  }

  public String name() {
    return name;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof StreamId other && other.hash == hash && other.name.equals(name)
        && other.tenant.equals(tenant);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(StreamId o) {
    int c = tenant.compareTo(o.tenant);
    return c != 0 ? c : name.compareTo(o.name);
  }

  /** {@code tenant/name}: for logs and messages, never parsed back. */
  @Override
  public String toString() {
    return tenant + '/' + name;
  }
}

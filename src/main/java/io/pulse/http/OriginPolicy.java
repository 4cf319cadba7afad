package io.pulse.http;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which browser origins may use the API and the live feed ({@code http.allowedOrigins}): the
 * server's own always, the configured ones besides, any only when "*" is configured. A request
 * without an {@code Origin} header is not from a page of another site (browsers send it on every
 * cross-origin request and WebSocket), so it is let through: tokens, not origins, keep other
 * programs out.
 *
 * <p>Same origin means the Origin's host and port are the request's {@code Host}: the scheme is
 * not compared, because behind a proxy that ends TLS the server sees plain HTTP for an https page.
 */
public final class OriginPolicy {

  /** What a request's Origin is to this server. */
  public enum Verdict {
    /** No Origin header: not a browser's cross-origin request. */
    NONE,
    /** The server's own page. */
    SAME,
    /** Another origin, configured (or "*"). */
    ALLOWED,
    /** Another origin, not configured: refused. */
    FOREIGN
  }

  private final Set<String> allowed;
  private final boolean any;

  /** {@code allowed}: normalised origins ({@link #normalise}) or "*". */
  public OriginPolicy(List<String> allowed) {
    this.any = allowed.contains("*");
    this.allowed = Set.copyOf(allowed);
  }

  public boolean allowsAny() {
    return any;
  }

  /**
   * What {@code origin} (the Origin header, null when absent) is to a request whose Host header is
   * {@code host} (null when absent).
   */
  public Verdict judge(String origin, String host) {
    if (origin == null) {
      return Verdict.NONE;
    }
    String o = normalise(origin.trim());
    if (o != null && host != null && sameAuthority(o, host.trim())) {
      return Verdict.SAME;
    }
    if (any || (o != null && allowed.contains(o))) {
      return Verdict.ALLOWED;
    }
    return Verdict.FOREIGN;
  }

  /**
   * An origin as {@code scheme://host[:port]}, lower case, without the scheme's default port; null
   * when {@code text} is not an http(s) origin (a path, a query, "null", no host).
   */
  public static String normalise(String text) {
    URI u;
    try {
      u = new URI(text);
    } catch (Exception e) {
      return null;
    }
    String scheme = u.getScheme() == null ? null : u.getScheme().toLowerCase(Locale.ROOT);
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      return null;
    }
    if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null
        || (u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/"))) {
      return null;
    }
    int port = u.getPort();
    int dflt = "https".equals(scheme) ? 443 : 80;
    String host = u.getHost().toLowerCase(Locale.ROOT);
    return scheme + "://" + host + (port < 0 || port == dflt ? "" : ":" + port);
  }

  /**
   * Whether a normalised origin names the same host and port as a Host header. A Host without a
   * port matches an origin without one (its scheme's default); with a port, an origin on that
   * port, written or by its scheme's default.
   */
  static boolean sameAuthority(String origin, String hostHeader) {
    int sep = origin.indexOf("://");
    String scheme = origin.substring(0, sep);
    String authority = origin.substring(sep + 3);
    String[] o = splitHostPort(authority);
    String[] h = splitHostPort(hostHeader.toLowerCase(Locale.ROOT));
    if (o == null || h == null || !o[0].equals(h[0])) {
      return false;
    }
    String originPort = o[1] != null ? o[1] : ("https".equals(scheme) ? "443" : "80");
    if (h[1] == null) {
      return o[1] == null;
    }
    return originPort.equals(h[1]);
  }

  /** {host, port or null}; IPv6 literals keep their brackets; null when malformed. */
  private static String[] splitHostPort(String authority) {
    if (authority.isEmpty()) {
      return null;
    }
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      if (end < 0) {
        return null;
      }
      String host = authority.substring(0, end + 1);
      String rest = authority.substring(end + 1);
      return rest.isEmpty() ? new String[] {host, null}
          : rest.startsWith(":") && rest.length() > 1 ? new String[] {host, rest.substring(1)} : null;
    }
    int colon = authority.lastIndexOf(':');
    if (colon < 0) {
      return new String[] {authority, null};
    }
    return colon == authority.length() - 1 ? null
        : new String[] {authority.substring(0, colon), authority.substring(colon + 1)};
  }
}

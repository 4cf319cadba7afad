package io.pulse.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where an external PostgreSQL is: the parsed {@code storage.url}
 * ({@code postgresql://user:password@host:port/db}). {@link #toString()} leaves the password out,
 * so a URL can be logged.
 */
public record PgUrl(String user, String password, String host, int port, String database) {

  public static final int DEFAULT_PORT = 5432;

  /**
   * Parses {@code postgresql://user:password@host[:port]/db} ({@code postgres://} too). User and
   * password may be percent-encoded; the port defaults to 5432.
   *
   * @throws IllegalArgumentException saying what is wrong, without repeating the password
   */
  public static PgUrl parse(String text) {
    String form = "expected postgresql://user:password@host:port/db";
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("is empty; " + form);
    }
    String t = text.trim();
    String rest;
    if (t.startsWith("postgresql://")) {
      rest = t.substring("postgresql://".length());
    } else if (t.startsWith("postgres://")) {
      rest = t.substring("postgres://".length());
    } else {
      throw new IllegalArgumentException("must start with postgresql://; " + form);
    }
    if (rest.indexOf('?') >= 0) {
      throw new IllegalArgumentException("takes no ?parameters; set TLS with storage.ssl.mode (PULSE_PG_SSL_MODE) "
          + "and storage.ssl.caFile");
    }
    int at = rest.lastIndexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException("has no user (user:password@ before the host); " + form);
    }
    String userInfo = rest.substring(0, at);
    String hostPart = rest.substring(at + 1);
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    String password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
    if (user.isEmpty()) {
      throw new IllegalArgumentException("has an empty user name; " + form);
    }
    int slash = hostPart.indexOf('/');
    if (slash < 0 || slash == hostPart.length() - 1) {
      throw new IllegalArgumentException("names no database (/db after the host); " + form);
    }
    String database = decode(hostPart.substring(slash + 1));
    String hostPort = hostPart.substring(0, slash);
    String host = hostPort;
    int port = DEFAULT_PORT;
    int portColon = hostPort.lastIndexOf(':');
    if (hostPort.startsWith("[")) { // an IPv6 literal: [::1]:5432
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("has an unclosed [ in the host; " + form);
      }
      host = hostPort.substring(1, close);
      portColon = hostPort.indexOf(':', close) == close + 1 ? close + 1 : -1;
    } else if (portColon >= 0) {
      host = hostPort.substring(0, portColon);
    }
    if (portColon >= 0) {
      String p = hostPort.substring(portColon + 1);
      try {
        port = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("has a port that is not a number (\"" + p + "\"); " + form);
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("has a port outside 1..65535 (" + port + ")");
      }
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("names no host; " + form);
    }
    if (database.indexOf('/') >= 0) {
      throw new IllegalArgumentException("has a database name with a /; " + form);
    }
    return new PgUrl(user, password, host, port, database);
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("has a malformed %-escape in the user or password");
    }
  }

  /** {@code host:port/db}, for logs and messages: never the password. */
  public String where() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/" + database;
  }

  /** The JDBC URL (for Flyway only; queries use the reactive client). */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "postgresql://" + user + ":***@" + where();
  }
}

package io.pulse.http;

import io.pulse.store.PgText;
import java.util.function.Function;

/**
 * Reads a request's query parameters into checked values: a bad one throws
 * {@link IllegalArgumentException} with a message for the caller (the route answers 400).
 * Plain Java over a name-to-value lookup, so the rules are tested without a server.
 */
public final class QueryParams {

  private final Function<String, String> values;

  /** @param values a parameter's (first) value by name, or null when absent */
  public QueryParams(Function<String, String> values) {
    this.values = values;
  }

  public String raw(String name) {
    return values.apply(name);
  }

  /** A whole number in [min, max], or {@code dflt} when absent. */
  public int intParam(String name, int dflt, int min, int max) {
    String v = values.apply(name);
    if (v == null) {
      return dflt;
    }
    try {
      int i = Integer.parseInt(v);
      if (i >= min && i <= max) {
        return i;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new IllegalArgumentException(name + ": must be a whole number from " + min + " to " + max);
  }

  /** A long, or null when absent. */
  public Long longParam(String name) {
    String v = values.apply(name);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": must be a whole number from " + Long.MIN_VALUE + " to "
          + Long.MAX_VALUE);
    }
  }

  /**
   * A text the database can hold, or null when absent: refused when it has a NUL or an unpaired
   * surrogate, or more than {@code max} characters (nothing stored is longer, so it could match
   * nothing anyway).
   */
  public String textParam(String name, int max) {
    String v = values.apply(name);
    if (v == null) {
      return null;
    }
    String problem = PgText.problem(v);
    if (problem != null) {
      throw new IllegalArgumentException(name + ": " + problem);
    }
    if (v.length() > max) {
      throw new IllegalArgumentException(name + ": at most " + max + " characters, got " + v.length());
    }
    return v;
  }

  /**
   * The version a write is based on: the If-Match header ("3" or W/"3"; "*" means any) or else the
   * body's "version"; null when neither gives one.
   */
  public static Integer expectedVersion(String ifMatch, Object bodyVersion) {
    if (ifMatch != null && !ifMatch.trim().equals("*")) {
      String v = ifMatch.trim().replaceFirst("^W/", "").replace("\"", "");
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("If-Match: give the version you read, as the ETag showed it (\"3\")");
      }
    }
    if (bodyVersion == null) {
      return null;
    }
    if (!(bodyVersion instanceof Integer i)) {
      throw new IllegalArgumentException("version: must be the whole number you read");
    }
    return i;
  }

  /** A value for a query parameter of a {@code next} link. */
  public static String encoded(String v) {
    return java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A caller's value quoted in a message: escaped (NUL, unpaired surrogates) and cut to 100 characters. */
  public static String shown(String v) {
    return "\"" + PgText.cap(PgText.escape(v), 100) + "\"";
  }
}

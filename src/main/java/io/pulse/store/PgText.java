package io.pulse.store;

/**
 * What PostgreSQL {@code text} and {@code jsonb} cannot hold, and a reversible way to store it anyway.
 *
 * <p>A PostgreSQL text value cannot contain NUL (U+0000: SQLSTATE 22021; in jsonb, {@code \u0000}
 * is refused with 22P05), and a Java string with an unpaired surrogate has no UTF-8 form (the
 * driver would send {@code ?} in its place, silently changing it). {@link #storable} says whether a
 * string is free of both.
 *
 * <p>{@link #escape} turns any string into a storable one, reversibly ({@link #unescape}): a
 * backslash becomes two, NUL becomes {@code \0}, and an unpaired surrogate becomes {@code \\u}
 * and its four hex digits (e.g. {@code \uD800}). Everything else is kept as it is. Callers store
 * a flag beside an escaped value (the quarantine's {@code escaped} column), since an escaped string
 * cannot be told from a plain one by looking at it.
 */
public final class PgText {

  private PgText() {
  }

  /** Whether PostgreSQL text can hold {@code s} as it is (null counts as storable). */
  public static boolean storable(String s) {
    return s == null || firstProblem(s) < 0;
  }

  /** The index of the first NUL or unpaired surrogate in {@code s}, or -1. */
  public static int firstProblem(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return i;
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++; // a proper pair
        } else {
          return i;
        }
      }
    }
    return -1;
  }

  /** Says what is wrong with {@code s} for a caller, or null when it is storable. */
  public static String problem(String s) {
    int i = s == null ? -1 : firstProblem(s);
    if (i < 0) {
      return null;
    }
    char c = s.charAt(i);
    return c == 0 ? "contains a NUL character (U+0000) at index " + i
        : "contains an unpaired surrogate (U+" + String.format("%04X", (int) c) + ") at index " + i;
  }

  /** A storable, reversible form of {@code s}; see the class comment. Null stays null. */
  public static String escape(String s) {
    if (s == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(s.length() + 16);
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        sb.append("\\\\");
      } else if (c == 0) {
        sb.append("\\0");
      } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        sb.append("\\u").append(String.format("%04X", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** The string {@link #escape} was given. Null stays null; a malformed escape is kept as it is. */
  public static String unescape(String s) {
    if (s == null || s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= n) {
        sb.append(c);
        continue;
      }
      char d = s.charAt(i + 1);
      if (d == '\\') {
        sb.append('\\');
        i++;
      } else if (d == '0') {
        sb.append('\0');
        i++;
      } else if (d == 'u' && i + 6 <= n && hex4(s, i + 2) >= 0) {
        sb.append((char) hex4(s, i + 2));
        i += 5;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static int hex4(String s, int from) {
    int v = 0;
    for (int k = from; k < from + 4; k++) {
      int h = Character.digit(s.charAt(k), 16);
      if (h < 0) {
        return -1;
      }
      v = v * 16 + h;
    }
    return v;
  }

  /** {@code s} cut to at most {@code max} characters (never between the two halves of a pair), marked with "…". */
  public static String cap(String s, int max) {
    if (s == null || s.length() <= max) {
      return s;
    }
    int end = max - 1;
    if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "…";
  }
}

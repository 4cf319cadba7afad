package io.pulse.core;

/**
 * Rules for caller text that Pulse keeps or quotes back. PostgreSQL text cannot hold a NUL
 * character, and UTF-8 cannot encode half of a surrogate pair: a string with either is refused at
 * validation, with a reason that names the field ({@link #unstorable}). And a reason quoting
 * caller text never carries raw control characters or broken surrogates back ({@link #clip}).
 */
public final class Texts {

  /** Longest stretch of caller text quoted in a message. */
  public static final int CLIP = 80;

  private Texts() {
  }

  /**
   * Why PostgreSQL text cannot hold {@code s}, or null when it can: "contains a NUL character
   * (U+0000)" or "contains an unpaired surrogate (U+D800)". One pass, one compare per character in
   * the usual case.
   */
  public static String unstorable(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c == 0 || (c & 0xF800) == 0xD800) {
        return slowCheck(s, i);
      }
    }
    return null;
  }

  /** The same check on chars, for a parser's buffer. */
  public static String unstorable(char[] buf, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      char c = buf[i];
      if (c == 0 || (c & 0xF800) == 0xD800) {
        return unstorable(new String(buf, off, len));
      }
    }
    return null;
  }

  private static String slowCheck(String s, int from) {
    for (int i = from, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return "contains a NUL character (U+0000), which cannot be stored";
      }
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++; // a pair: one supplementary character
      } else if (Character.isSurrogate(c)) {
        return "contains an unpaired surrogate (" + hex(c) + "), which is not valid Unicode text";
      }
    }
    return null;
  }

  /**
   * Caller text for a message: at most {@link #CLIP} characters (then "..."), never cutting a
   * surrogate pair, with control characters, DEL and unpaired surrogates written as {@code \\uXXXX}.
   */
  public static String clip(String s) {
    if (s == null) {
      return "null";
    }
    boolean clean = s.length() <= CLIP;
    for (int i = 0, n = Math.min(s.length(), CLIP); clean && i < n; i++) {
      char c = s.charAt(i);
      clean = c >= 0x20 && c != 0x7F && !Character.isSurrogate(c);
    }
    if (clean) {
      return s;
    }
    StringBuilder sb = new StringBuilder(Math.min(s.length(), CLIP) + 16);
    int n = s.length();
    int kept = 0;
    for (int i = 0; i < n; i++) {
      if (kept == CLIP - 3 && n - i > 3) {
        return sb.append("...").toString();
      }
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else if (c < 0x20 || c == 0x7F || Character.isSurrogate(c)) {
        sb.append('\\').append('u').append(String.format("%04X", (int) c));
      } else {
        sb.append(c);
      }
      kept++;
    }
    return sb.toString();
  }

  /** Text for a message, whole, with control characters, DEL and unpaired surrogates written as {@code \\uXXXX}. */
  public static String escape(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = null;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean pair = Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1));
      boolean bad = !pair && (c < 0x20 || c == 0x7F || Character.isSurrogate(c));
      if (bad && sb == null) {
        sb = new StringBuilder(n + 16).append(s, 0, i);
      }
      if (sb != null) {
        if (bad) {
          sb.append('\\').append('u').append(String.format("%04X", (int) c));
        } else if (pair) {
          sb.append(c).append(s.charAt(i + 1));
        } else {
          sb.append(c);
        }
      }
      if (pair) {
        i++;
      }
    }
    return sb == null ? s : sb.toString();
  }

  private static String hex(char c) {
    return String.format("U+%04X", (int) c);
  }
}

package io.pulse.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints the short durations used in configuration and on the wire ("250ms", "1s", "5m", "1h").
 * Parsing also takes days ("30d") and years of 365 days ("2y"), for retention settings.
 */
public final class Durations {

  private static final Pattern FORM = Pattern.compile("(\\d+)(ms|s|m|h|d|y)");

  private Durations() {
  }

  /** Milliseconds, or -1 when the text is not a duration. */
  public static long parse(String text) {
    if (text == null) {
      return -1;
    }
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
    long unit;
    switch (m.group(2)) {
      case "ms": unit = 1L; break;
      case "s": unit = 1_000L; break;
      case "m": unit = 60_000L; break;
      case "h": unit = 3_600_000L; break;
      case "d": unit = 86_400_000L; break;
      default: unit = 365 * 86_400_000L;
    }
    if (n > Long.MAX_VALUE / unit) {
      return -1; // overflows: not a duration Pulse can hold (io.pulse.core.Times says so)
    }
    return n * unit;
  }

  /** Whether the text has the form of a duration (digits and a unit), whether or not it fits in a long. */
  public static boolean isForm(String text) {
    return text != null && FORM.matcher(text.trim()).matches();
  }

  /** The shortest exact form: 1000 -> "1s", 60000 -> "1m", 250 -> "250ms". */
  public static String format(long ms) {
    if (ms % 86_400_000L == 0) {
      return ms / 86_400_000L + "d";
    }
    if (ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms % 1_000L == 0) {
      return ms / 1_000L + "s";
    }
    return ms + "ms";
  }
}

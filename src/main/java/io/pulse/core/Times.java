package io.pulse.core;

import io.pulse.config.Durations;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The one rule for instants and durations a caller sends (event {@code ts}, {@code /series?from=&to=},
 * {@code since=}): epoch milliseconds, an ISO-8601 instant ({@code 2026-11-23T10:00:00Z}) or offset
 * date-time ({@code ...+01:00}), and durations such as {@code 15m}. An instant must lie between
 * 1970-01-01 and 9999-12-31 (what PostgreSQL's timestamptz, java.time and epoch-ms arithmetic all
 * hold without overflow); anything else, a duration that overflows included, is refused with an
 * {@link IllegalArgumentException} whose message says why (the caller puts the field name first).
 */
public final class Times {

  /** 1970-01-01T00:00:00Z. */
  public static final long MIN_MS = 0L;
  /** 9999-12-31T23:59:59.999Z: the last instant Pulse takes. */
  public static final long MAX_MS = 253_402_300_799_999L;
  /** The longest duration taken: as long as the whole range. */
  public static final long MAX_DURATION_MS = MAX_MS;

  private static final String RANGE = "outside 1970 to 9999 (1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)";

  private Times() {
  }

  /** Whether epoch ms {@code ms} is in range. */
  public static boolean inRange(long ms) {
    return ms >= MIN_MS && ms <= MAX_MS;
  }

  /**
   * Epoch ms from digits (an optional leading minus is read, then refused as before 1970), an ISO-8601
   * instant or an offset date-time.
   *
   * @throws IllegalArgumentException when the text is none of those or is out of range
   */
  public static long parseInstant(String text) {
    String t = text.trim();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("is empty; send epoch milliseconds or an ISO-8601 time");
    }
    if (digits(t)) {
      long ms;
      try {
        ms = Long.parseLong(t);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(quote(t) + " is " + RANGE);
      }
      return checked(t, ms);
    }
    Instant at = instant(t);
    if (at == null) {
      throw new IllegalArgumentException(quote(t) + " is neither epoch milliseconds nor an ISO-8601 time");
    }
    // compare seconds first: toEpochMilli overflows (ArithmeticException) far outside the range
    long s = at.getEpochSecond();
    if (s < MIN_MS / 1000 || s > MAX_MS / 1000) {
      throw new IllegalArgumentException(quote(t) + " is " + RANGE);
    }
    return checked(t, at.toEpochMilli());
  }

  /** {@code ms} when in range. @throws IllegalArgumentException otherwise */
  public static long checked(String text, long ms) {
    if (!inRange(ms)) {
      throw new IllegalArgumentException(quote(text) + " is " + RANGE);
    }
    return ms;
  }

  /** An ISO-8601 instant or offset date-time, or null when the text is neither. */
  private static Instant instant(String t) {
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(t).toInstant();
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  /** Whether the text is an optional minus and then only ASCII digits (at least one). */
  public static boolean digits(String t) {
    int i = t.startsWith("-") ? 1 : 0;
    if (i == t.length()) {
      return false;
    }
    for (; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * Milliseconds of a duration such as 250ms, 15m, 2h, 30d or 1y; -1 when the text is not of that form.
   *
   * @throws IllegalArgumentException when it is of that form but longer than the whole range (it
   *     would overflow epoch-ms arithmetic)
   */
  public static long durationMs(String text) {
    long ms = Durations.parse(text);
    if (ms == -1 && Durations.isForm(text)) {
      throw new IllegalArgumentException(quote(text.trim()) + " is longer than all of 1970 to 9999");
    }
    if (ms > MAX_DURATION_MS) {
      throw new IllegalArgumentException(quote(text.trim()) + " is longer than all of 1970 to 9999");
    }
    return ms;
  }

  /** The text quoted for a message, cut and with control characters escaped. */
  public static String quote(String text) {
    return "\"" + Texts.clip(text) + "\"";
  }
}

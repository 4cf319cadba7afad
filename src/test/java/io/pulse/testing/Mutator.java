package io.pulse.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mutations of valid JSON texts for the fuzz tests: byte flips, inserts and deletes, hostile
 * numbers, strings and times, deep nesting, duplicate keys, wrong types and invalid UTF-8. All
 * randomness comes from the {@link Random} passed in, so a case replays from its seed.
 */
public final class Mutator {

  private static final Pattern NUMBER = Pattern.compile("-?\\d++(?:\\.\\d++)?+(?:[eE][-+]?+\\d++)?+");
  private static final Pattern STRING = Pattern.compile("\"[^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+\""); // possessive: no recursion on long strings

  public static final String[] NUMBERS = {"1.79e308", "-1.79e308", "4.9e-324", "-4.9e-324", "1e999", "-1e999", "-0",
      "NaN", "Infinity", "-Infinity", "1e-400", "123456789012345678901234567890", "9223372036854775807",
      "9223372036854775808", "-9223372036854775808", "0x10", "01", "1.", ".5", "1e", "--1", "0", "99999999999",
      "100000000000", "253402300800000", "-62135596800001", "1.7976931348623157e308", "2.2250738585072014e-308"};

  public static final String[] STRINGS = {"\"\"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udfff\\ud800\"",
      "\"\\u0001\\u001f\\u007f\"", "\"+999999999-01-01T00:00:00Z\"", "\"-999999999-01-01T00:00:00Z\"",
      "\"9999-12-31T23:59:59.999Z\"", "\"1970-01-01T00:00:00Z\"", "\"2026-13-45T99:99:99Z\"", "\"P1D\"", "\"15m\"",
      "\"NaN\"", "\"1e308\"", "\"_overflow\"", "\"..\"", "\"a/b\"", "\"UPPER\"", "\"\u00e9\u4e2d\ud83d\ude00\"",
      "\"\\\"\"", "\"\\\\\"", "\"\\x41\"", "\"\\u12\"", "\"\\uZZZZ\"", "'single'"};

  public static final String[] VALUES = {"null", "true", "false", "[]", "{}", "[1,2]", "{\"a\":1}", "\"str\"", "1",
      "-1", "[[[[[]]]]]", "{\"\":0}", "{\"v\":null}", "{\"v\":\"1\"}", "{\"v\":[1]}", "{\"v\":{}}"};

  private Mutator() {
  }

  /** One to three mutations of {@code text}, as bytes (some mutations make invalid UTF-8). */
  public static byte[] mutate(String text, Random r) {
    String t = text;
    int n = 1 + r.nextInt(3);
    byte[] bytes = null;
    for (int i = 0; i < n; i++) {
      int op = r.nextInt(14);
      if (op == 13) {
        bytes = bytes(bytes != null ? bytes : t.getBytes(StandardCharsets.UTF_8), r);
        t = null;
        break;
      }
      t = text(t, op, r);
    }
    return bytes != null ? bytes : t.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(String t, int op, Random r) {
    switch (op) {
      case 0: // flip a character
        if (t.isEmpty()) {
          return "x";
        } else {
          int i = r.nextInt(t.length());
          return t.substring(0, i) + (char) (r.nextInt(95) + 32) + t.substring(i + 1);
        }
      case 1: { // insert a character, often structural
        int i = r.nextInt(t.length() + 1);
        String s = "{}[]:,\"\\ \t0-.eE";
        String c = s.charAt(r.nextInt(s.length())) + "";
        return t.substring(0, i) + c + t.substring(i);
      }
      case 2: { // delete a range
        if (t.isEmpty()) {
          return t;
        }
        int i = r.nextInt(t.length());
        int j = Math.min(t.length(), i + 1 + r.nextInt(8));
        return t.substring(0, i) + t.substring(j);
      }
      case 3:
        return replace(t, NUMBER, NUMBERS[r.nextInt(NUMBERS.length)], r);
      case 4:
        return replace(t, STRING, STRINGS[r.nextInt(STRINGS.length)], r);
      case 5: { // a long string
        int len = new int[] {300, 5_000, 70_000, 1_100_000}[r.nextInt(4)];
        return replace(t, STRING, "\"" + "x".repeat(len) + "\"", r);
      }
      case 6: { // deep nesting in place of a value
        int depth = new int[] {64, 600, 5_000, 100_000}[r.nextInt(4)];
        String v = r.nextBoolean() ? "[".repeat(depth) + "1" + "]".repeat(depth)
            : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
        return replace(t, NUMBER, v, r);
      }
      case 7: { // duplicate keys
        int i = t.indexOf('{');
        if (i < 0) {
          return t;
        }
        String dup = new String[] {"\"values\":{\"v\":2},", "\"stream\":\"fz\",", "\"ts\":1,", "\"dims\":{},",
            "\"stream\":\"fz2\",\"stream\":\"fz\","}[r.nextInt(5)];
        return t.substring(0, i + 1) + dup + t.substring(i + 1);
      }
      case 8: // a value of the wrong type
        return replace(t, r.nextBoolean() ? NUMBER : STRING, VALUES[r.nextInt(VALUES.length)], r);
      case 9: { // wrong types for the known fields
        String field = new String[] {"values", "dims", "ts", "stream", "id"}[r.nextInt(5)];
        String v = VALUES[r.nextInt(VALUES.length)];
        return t.replaceFirst("\"" + field + "\":", "\"" + field + "\":" + Matcher.quoteReplacement(v) + ",\"_was\":");
      }
      case 10: { // many keys
        StringBuilder sb = new StringBuilder();
        int k = new int[] {20, 100, 2_000}[r.nextInt(3)];
        boolean dims = r.nextBoolean();
        for (int i = 0; i < k; i++) {
          sb.append("\"k").append(i).append("\":").append(dims ? "\"v\"," : i + ",");
        }
        String field = dims ? "\"dims\":{" : "\"values\":{";
        return t.replaceFirst(Pattern.quote(field), Matcher.quoteReplacement(field + sb));
      }
      case 11: { // control characters and NUL raw in the text
        int i = r.nextInt(t.length() + 1);
        return t.substring(0, i) + (char) r.nextInt(32) + t.substring(i);
      }
      default: { // a time field set to something hostile
        String v = r.nextBoolean() ? NUMBERS[r.nextInt(NUMBERS.length)] : STRINGS[r.nextInt(STRINGS.length)];
        if (t.contains("\"ts\":")) {
          return t.replaceFirst("\"ts\":(\"[^\"]*\"|[^,}]*)", Matcher.quoteReplacement("\"ts\":" + v));
        }
        int i = t.indexOf('{');
        return i < 0 ? t : t.substring(0, i + 1) + "\"ts\":" + v + "," + t.substring(i + 1);
      }
    }
  }

  private static String replace(String t, Pattern p, String with, Random r) {
    Matcher m = p.matcher(t);
    List<int[]> spans = new ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end()});
    }
    if (spans.isEmpty()) {
      return t;
    }
    int[] s = spans.get(r.nextInt(spans.size()));
    return t.substring(0, s[0]) + with + t.substring(s[1]);
  }

  /** Invalid UTF-8: a lone continuation byte, an overlong form, a CESU surrogate, past U+10FFFF, 0xFF. */
  private static byte[] bytes(byte[] b, Random r) {
    byte[][] bad = {{(byte) 0xff}, {(byte) 0xc3, 0x28}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0,
        (byte) 0x80}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xe2, (byte) 0x82},
        {0}};
    byte[] ins = bad[r.nextInt(bad.length)];
    int i = r.nextInt(b.length + 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(b, 0, i);
    out.write(ins, 0, ins.length);
    out.write(b, i, b.length - i);
    return out.toByteArray();
  }
}

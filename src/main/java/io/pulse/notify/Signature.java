package io.pulse.notify;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a webhook notification is signed, and how a receiver checks it.
 *
 * <p>Every POST carries:
 * <ul>
 *   <li>{@code X-Pulse-Delivery: <delivery id>}: the same on every attempt of one delivery (a
 *       receiver that saw it already answers 2xx and does nothing: delivery is at least once);</li>
 *   <li>{@code X-Pulse-Timestamp: <epoch milliseconds>}: when this attempt was signed;</li>
 *   <li>{@code X-Pulse-Signature: v1=<hex>}: lower-case hex of HMAC-SHA256, keyed with the
 *       webhook's secret (its UTF-8 bytes), over the UTF-8 bytes of {@code <timestamp>.<body>}:
 *       the timestamp header's text, a dot, then the raw request body exactly as received.</li>
 * </ul>
 * A receiver recomputes the HMAC over the raw body and compares in constant time, refuses a
 * timestamp more than a tolerance (5 minutes by default) away from its own clock, and refuses a
 * signature it has accepted before within that tolerance (a replay): {@link Verifier} does all
 * three. The body itself names its delivery ({@code "delivery"}), so the id is signed too.
 */
public final class Signature {

  public static final String DELIVERY_HEADER = "X-Pulse-Delivery";
  public static final String TIMESTAMP_HEADER = "X-Pulse-Timestamp";
  public static final String SIGNATURE_HEADER = "X-Pulse-Signature";
  /** The scheme's version prefix: a later scheme would add {@code v2=} beside it. */
  public static final String VERSION = "v1=";
  public static final long DEFAULT_TOLERANCE_MS = 5 * 60_000L;

  private Signature() {
  }

  /** {@code v1=<hex HMAC-SHA256(secret, "<timestampMs>.<body>")>}. */
  public static String sign(String secret, long timestampMs, String body) {
    return VERSION + HexFormat.of().formatHex(hmac(secret, timestampMs + "." + body));
  }

  /** The three headers of one attempt, in the order they are sent. */
  public static Map<String, String> headers(String secret, long timestampMs, String deliveryId, String body) {
    return Map.of(DELIVERY_HEADER, deliveryId, TIMESTAMP_HEADER, Long.toString(timestampMs), SIGNATURE_HEADER,
        sign(secret, timestampMs, body));
  }

  private static byte[] hmac(String secret, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  /**
   * A receiver's check, for one secret: signature, age and replay. Remembers the signatures it
   * accepted within the tolerance (bounded: at most {@code maxRemembered}; past that the oldest are
   * forgotten, and a timestamp older than the oldest remembered is refused, so nothing forgotten can
   * come back). Not thread-safe: one per receiver thread, or synchronise around it.
   */
  public static final class Verifier {

    /** Why a request was refused, or null when it was accepted. */
    public record Result(boolean ok, String reason) {
      static final Result OK = new Result(true, null);

      static Result refused(String why) {
        return new Result(false, why);
      }
    }

    private final String secretText;
    private final long toleranceMs;
    private final int maxRemembered;
    private final ArrayDeque<long[]> order = new ArrayDeque<>(); // [timestamp], parallel to keys
    private final ArrayDeque<String> keys = new ArrayDeque<>();
    private final Set<String> seen = new HashSet<>();
    private long floorMs = Long.MIN_VALUE;

    public Verifier(String secret, long toleranceMs, int maxRemembered) {
      this.secretText = secret;
      this.toleranceMs = toleranceMs;
      this.maxRemembered = maxRemembered;
    }

    public Verifier(String secret) {
      this(secret, DEFAULT_TOLERANCE_MS, 100_000);
    }

    /**
     * Checks one request: its {@code X-Pulse-Timestamp} and {@code X-Pulse-Signature} header values,
     * its raw body, and the receiver's clock now.
     */
    public Result verify(String timestampHeader, String signatureHeader, String body, long nowMs) {
      if (timestampHeader == null || signatureHeader == null) {
        return Result.refused("missing " + (timestampHeader == null ? TIMESTAMP_HEADER : SIGNATURE_HEADER));
      }
      long ts;
      try {
        ts = Long.parseLong(timestampHeader.trim());
      } catch (NumberFormatException e) {
        return Result.refused(TIMESTAMP_HEADER + " is not epoch milliseconds");
      }
      byte[] expected = (VERSION + HexFormat.of().formatHex(hmac(secretText, ts + "." + body)))
          .getBytes(StandardCharsets.UTF_8);
      boolean match = false;
      for (String part : signatureHeader.split(",")) { // several schemes may be listed: any v1 that matches
        match |= MessageDigest.isEqual(expected, part.trim().getBytes(StandardCharsets.UTF_8));
      }
      if (!match) {
        return Result.refused("signature does not match (wrong secret, or the body was changed)");
      }
      if (Math.abs(nowMs - ts) > toleranceMs) {
        return Result.refused("timestamp " + ts + " is more than " + toleranceMs + " ms from now (" + nowMs
            + "): too old, a replay, or a clock far off");
      }
      forget(nowMs);
      if (ts < floorMs) {
        return Result.refused("timestamp " + ts + " is older than the replay memory reaches");
      }
      String key = signatureHeader.trim();
      if (seen.contains(key)) {
        return Result.refused("replayed: this signature was accepted before");
      }
      seen.add(key);
      keys.addLast(key);
      order.addLast(new long[] {ts});
      if (keys.size() > maxRemembered) {
        floorMs = Math.max(floorMs, order.peekFirst()[0] + 1);
        seen.remove(keys.pollFirst());
        order.pollFirst();
      }
      return Result.OK;
    }

    private void forget(long nowMs) {
      while (!order.isEmpty() && order.peekFirst()[0] < nowMs - toleranceMs) {
        seen.remove(keys.pollFirst());
        order.pollFirst();
      }
    }
  }
}

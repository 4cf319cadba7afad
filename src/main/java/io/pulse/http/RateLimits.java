package io.pulse.http;

import io.pulse.core.Clock;

/**
 * Pulse's request rate limits: per token and per client address, for ingest and for queries
 * ({@code limits.ingestPerToken}, {@code limits.ingestPerAddress}, {@code limits.queryPerToken},
 * {@code limits.queryPerAddress}). A request is charged to its token's bucket and to its address's;
 * it goes ahead only when both have room, and one refused by the second gets its place in the
 * first back. A request without a token (authentication off) is charged to its address alone.
 * Time comes from the injected {@link Clock}; thread-safe (see {@link RateLimit}).
 */
public final class RateLimits {

  /** What a limit is keyed by, as metric tags and messages name it. */
  public enum KeyKind {
    TOKEN("token"), ADDRESS("address");

    private final String label;

    KeyKind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * The outcome of a request's charge.
   *
   * @param charge the figures for the headers: of the limit that refused, or of the one with the least room
   *     left; null when no limit applies
   * @param refusedBy the kind of limit that refused it; null when allowed
   * @param limit the limit those figures are of; null when none applies
   */
  public record Outcome(RateLimit.Charge charge, KeyKind refusedBy, RateLimit limit) {

    public boolean allowed() {
      return refusedBy == null;
    }

    /** The 429's reason, naming the limit and its setting. */
    public String reason(RateClass cls) {
      return "rate limit: at most " + limit.perSecond() + " " + cls.label() + " requests a second (a burst of "
          + limit.burst() + ") per " + refusedBy.label() + " (" + limit.setting() + "); retry after "
          + charge.retryAfterSeconds() + " s";
    }
  }

  private static final Outcome FREE = new Outcome(null, null, null);

  private final Clock clock;
  private final RateLimit ingestPerToken;
  private final RateLimit ingestPerAddress;
  private final RateLimit queryPerToken;
  private final RateLimit queryPerAddress;

  public RateLimits(Clock clock, RateLimit ingestPerToken, RateLimit ingestPerAddress, RateLimit queryPerToken,
      RateLimit queryPerAddress) {
    this.clock = clock;
    this.ingestPerToken = ingestPerToken;
    this.ingestPerAddress = ingestPerAddress;
    this.queryPerToken = queryPerToken;
    this.queryPerAddress = queryPerAddress;
  }

  /**
   * Charges one request of class {@code cls}.
   *
   * @param token the token's key (its id), or null for a request without a token
   * @param address the client's address
   */
  public Outcome charge(RateClass cls, String token, String address) {
    RateLimit perToken;
    RateLimit perAddress;
    switch (cls) {
      case INGEST -> {
        perToken = ingestPerToken;
        perAddress = ingestPerAddress;
      }
      case QUERY -> {
        perToken = queryPerToken;
        perAddress = queryPerAddress;
      }
      default -> {
        return FREE;
      }
    }
    long now = clock.millis();
    RateLimit.Charge t = token == null ? null : perToken.take(token, now);
    if (t != null && !t.allowed()) {
      return new Outcome(t, KeyKind.TOKEN, perToken);
    }
    RateLimit.Charge a = perAddress.take(address, now);
    if (a != null && !a.allowed()) {
      if (t != null) {
        perToken.giveBack(token);
      }
      return new Outcome(a, KeyKind.ADDRESS, perAddress);
    }
    if (t == null && a == null) {
      return FREE;
    }
    // the headers tell the tighter of the two: the one with less room left
    if (a == null || (t != null && t.remaining() <= a.remaining())) {
      return new Outcome(t, null, perToken);
    }
    return new Outcome(a, null, perAddress);
  }
}

package io.pulse.http;

import io.pulse.core.Clock;

/**
 * Pulse's request rate limits: per token and per client address, for ingest and for queries
 * ({@code limits.ingestPerToken}, {@code limits.ingestPerAddress}, {@code limits.queryPerToken},
 * {@code limits.queryPerAddress}). A request is charged to its client address's bucket (before its
 * token is even checked, so that a flood of bad tokens is limited too), then to its token's; it
 * goes ahead only when both have room, and one the token refuses gets its place at the address
 * back. A request without a token (authentication off) is charged to its address alone.
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
      if (limit.setting().startsWith("limits.ingestEvents")) {
        return "rate limit: at most " + limit.perSecond() + " events a second (a burst of " + limit.burst()
            + ") per " + refusedBy.label() + " (" + limit.setting() + "), and the last requests sent more; retry after "
            + charge.retryAfterSeconds() + " s";
      }
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
  private final RateLimit eventsPerToken;
  private final RateLimit eventsPerAddress;

  /** Request limits only; no limit on events a second. */
  public RateLimits(Clock clock, RateLimit ingestPerToken, RateLimit ingestPerAddress, RateLimit queryPerToken,
      RateLimit queryPerAddress) {
    this(clock, ingestPerToken, ingestPerAddress, queryPerToken, queryPerAddress,
        new RateLimit("limits.ingestEventsPerToken", 0, 0, 1), new RateLimit("limits.ingestEventsPerAddress", 0, 0, 1));
  }

  /**
   * @param eventsPerToken events a second per token ({@code limits.ingestEventsPerToken}), charged once a
   *     body's events are counted; a token in debt has its next ingest refused until the rate paid it back
   * @param eventsPerAddress the same per client address
   */
  public RateLimits(Clock clock, RateLimit ingestPerToken, RateLimit ingestPerAddress, RateLimit queryPerToken,
      RateLimit queryPerAddress, RateLimit eventsPerToken, RateLimit eventsPerAddress) {
    this.clock = clock;
    this.ingestPerToken = ingestPerToken;
    this.ingestPerAddress = ingestPerAddress;
    this.queryPerToken = queryPerToken;
    this.queryPerAddress = queryPerAddress;
    this.eventsPerToken = eventsPerToken;
    this.eventsPerAddress = eventsPerAddress;
  }

  private RateLimit perToken(RateClass cls) {
    return cls == RateClass.INGEST ? ingestPerToken : cls == RateClass.QUERY ? queryPerToken : null;
  }

  private RateLimit perAddress(RateClass cls) {
    return cls == RateClass.INGEST ? ingestPerAddress : cls == RateClass.QUERY ? queryPerAddress : null;
  }

  /**
   * Charges one request of class {@code cls}: {@link #chargeAddress}, then {@link #chargeToken}.
   *
   * @param token the token's key (its id), or null for a request without a token
   * @param address the client's address
   */
  public Outcome charge(RateClass cls, String token, String address) {
    Outcome byAddress = chargeAddress(cls, address);
    return byAddress.allowed() ? chargeToken(cls, token, address, byAddress) : byAddress;
  }

  /**
   * The first half of a charge, before the caller is known (so that requests with bad tokens are
   * limited too): one request to {@code address}'s bucket.
   */
  public Outcome chargeAddress(RateClass cls, String address) {
    if (cls == RateClass.INGEST) {
      RateLimit.Charge debt = eventsPerAddress.admit(address, clock.millis());
      if (debt != null && !debt.allowed()) {
        return new Outcome(debt, KeyKind.ADDRESS, eventsPerAddress);
      }
    }
    RateLimit perAddress = perAddress(cls);
    RateLimit.Charge a = perAddress == null ? null : perAddress.take(address, clock.millis());
    if (a == null) {
      return FREE;
    }
    return new Outcome(a, a.allowed() ? null : KeyKind.ADDRESS, perAddress);
  }

  /**
   * The second half: one request to {@code token}'s bucket (nothing without a token). When the token
   * refuses, the address gets back what {@link #chargeAddress} took ({@code byAddress}, allowed).
   * Answers the refusal, or the tighter of the two (less room left) for the headers.
   */
  public Outcome chargeToken(RateClass cls, String token, String address, Outcome byAddress) {
    if (cls == RateClass.INGEST && token != null) {
      RateLimit.Charge debt = eventsPerToken.admit(token, clock.millis());
      if (debt != null && !debt.allowed()) {
        if (byAddress.charge() != null) {
          byAddress.limit().giveBack(address);
        }
        return new Outcome(debt, KeyKind.TOKEN, eventsPerToken);
      }
    }
    RateLimit perToken = perToken(cls);
    RateLimit.Charge t = token == null || perToken == null ? null : perToken.take(token, clock.millis());
    if (t == null) {
      return byAddress;
    }
    if (!t.allowed()) {
      if (byAddress.charge() != null) {
        byAddress.limit().giveBack(address);
      }
      return new Outcome(t, KeyKind.TOKEN, perToken);
    }
    RateLimit.Charge a = byAddress.charge();
    return a == null || t.remaining() <= a.remaining() ? new Outcome(t, null, perToken) : byAddress;
  }

  /** Charges the events of an ingest request that was let in, to its token (if any) and its address. */
  public void chargeEvents(String token, String address, long events) {
    long now = clock.millis();
    if (token != null) {
      eventsPerToken.chargeAfter(token, events, now);
    }
    eventsPerAddress.chargeAfter(address, events, now);
  }
}

package io.pulse.auth;

import io.pulse.core.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The revoked token ids, in memory, keyed by (tenant, token id): a revocation refuses only tokens of
 * the tenant that made it. {@link #revoked} is a map look-up (no I/O), safe from every
 * event loop. Entries are added by the tokens API (and by what storage holds, at start and as other
 * processes add them); an entry whose token has expired is swept a grace period later, since an
 * expired token is refused for its expiry anyway. Thread-safe: a concurrent map of immutable entries.
 */
public final class RevocationList implements Revocations {

  /** How long after its token's expiry an entry is kept (covers clocks of other servers running behind). */
  public static final long SWEEP_GRACE_MS = 10 * 60_000L;

  /**
   * One revoked token.
   *
   * @param tokenId the token's id (its {@code jti})
   * @param tenant the tenant whose admin revoked it: the only tenant whose token of that id it refuses
   * @param revokedAt when (epoch ms)
   * @param expiresAt when the token expires (epoch ms), or 0 when not known (never swept)
   * @param by the audit actor who revoked it
   * @param reason why, as the admin said; may be null
   */
  public record Entry(String tokenId, String tenant, long revokedAt, long expiresAt, String by, String reason) {
    public Entry {
      if (tokenId == null || tokenId.isEmpty()) {
        throw new IllegalArgumentException("a revocation names a token id");
      }
      if (tenant == null || by == null) {
        throw new IllegalArgumentException("a revocation has a tenant and an actor");
      }
    }

    /** Whether its token has expired more than {@link #SWEEP_GRACE_MS} before {@code now}. */
    boolean sweepable(long now) {
      return expiresAt > 0 && expiresAt + SWEEP_GRACE_MS <= now;
    }
  }

  private final Clock clock;
  /** What an entry is keyed by: the same token id revoked by two tenants is two entries. */
  private record Key(String tenant, String tokenId) {
  }

  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();

  public RevocationList(Clock clock) {
    this.clock = clock;
  }

  @Override
  public boolean revoked(String tenant, String tokenId) {
    return tenant != null && tokenId != null && entries.containsKey(new Key(tenant, tokenId));
  }

  private static Key key(Entry e) {
    return new Key(e.tenant(), e.tokenId());
  }

  /**
   * Adds a revocation. Idempotent: a token revoked already by the same tenant keeps its first entry.
   *
   * @return the entry in force: {@code e}, or the earlier one
   */
  public Entry revoke(Entry e) {
    Entry earlier = entries.putIfAbsent(key(e), e);
    return earlier == null ? e : earlier;
  }

  /** Adds what storage holds (a start, another process's revocations); returns the entries that were new here. */
  public List<Entry> addAll(Collection<Entry> stored) {
    List<Entry> added = new ArrayList<>();
    long now = clock.millis();
    for (Entry e : stored) {
      if (!e.sweepable(now) && entries.putIfAbsent(key(e), e) == null) {
        added.add(e);
      }
    }
    return added;
  }

  /** The tenant's entry of a token id, or null. */
  public Entry get(String tenant, String tokenId) {
    return tenant == null || tokenId == null ? null : entries.get(new Key(tenant, tokenId));
  }

  /** A tenant's revocations, newest first. */
  public List<Entry> list(String tenant) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.tenant().equals(tenant)) {
        out.add(e);
      }
    }
    out.sort(Comparator.comparingLong(Entry::revokedAt).reversed().thenComparing(Entry::tokenId));
    return out;
  }

  /** Forgets the entries whose tokens expired more than {@link #SWEEP_GRACE_MS} ago; returns how many. */
  public int sweep() {
    long now = clock.millis();
    int n = 0;
    for (Entry e : entries.values()) {
      if (e.sweepable(now) && entries.remove(key(e), e)) {
        n++;
      }
    }
    return n;
  }

  /** Revocations held. */
  public int size() {
    return entries.size();
  }
}

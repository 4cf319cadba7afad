package io.pulse.core;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What each tenant holds of the server's shared resources, with a cap per tenant, so that one
 * tenant's flood or cardinality explosion is refused for that tenant while the others go on.
 * The global limits stay where they are (catalog caps, connection slots, the write queue); these
 * caps sit under them.
 *
 * <p>Thread-safe: ingest threads, live connections and the store acquire and release concurrently.
 * A tenant's counts are kept for as long as it holds anything; a tenant with no caller-created
 * resources left costs one small entry.
 */
public final class TenantQuota {

  /** A resource a tenant's callers grow, and what it is called in refusals and settings. */
  public enum Resource {
    STREAMS("streams", "limits.perTenant.maxStreams"),
    SERIES("series", "limits.perTenant.maxSeries"),
    CONNECTIONS("live connections", "limits.perTenant.maxLiveConnections"),
    SUBSCRIPTIONS("live subscriptions", "limits.perTenant.maxSubscriptions"),
    VIEWS("views", "limits.perTenant.maxViews"),
    STORAGE_BACKLOG("final rollups waiting for storage", "limits.perTenant.maxStorageBacklog");

    private final String what;
    private final String setting;

    Resource(String what, String setting) {
      this.what = what;
      this.setting = setting;
    }

    public String what() {
      return what;
    }

    public String setting() {
      return setting;
    }
  }

  private static final Resource[] RESOURCES = Resource.values();

  private final long[] max = new long[RESOURCES.length];
  private final ConcurrentHashMap<String, AtomicLongArray> used = new ConcurrentHashMap<>();
  /** Refusals per resource, all tenants together (a metric; no tenant label, so its size is fixed). */
  private final AtomicLongArray refused = new AtomicLongArray(RESOURCES.length);

  /** @param caps the cap of each resource per tenant; a resource not named has no per-tenant cap */
  public TenantQuota(Map<Resource, Long> caps) {
    for (Resource r : RESOURCES) {
      Long cap = caps.get(r);
      if (cap != null && cap < 1) {
        throw new IllegalArgumentException(r.setting() + " must be at least 1, got " + cap);
      }
      max[r.ordinal()] = cap == null ? Long.MAX_VALUE : cap;
    }
  }

  /** No per-tenant caps: every acquire succeeds (counts are still kept). */
  public static TenantQuota unlimited() {
    return new TenantQuota(new EnumMap<>(Resource.class));
  }

  /** Takes {@code n} of a resource for a tenant; false (nothing taken, a refusal counted) past the tenant's cap. */
  public boolean tryAcquire(String tenant, Resource r, long n) {
    return tryAcquire(tenant, r, n, true);
  }

  /**
   * {@link #tryAcquire(String, Resource, long)}, counting a refusal only when {@code counted}: for a
   * caller that makes room and tries again, and counts with {@link #refusedOnce} if it finally cannot.
   */
  public boolean tryAcquire(String tenant, Resource r, long n, boolean counted) {
    AtomicLongArray counts = counts(tenant);
    int i = r.ordinal();
    while (true) {
      long cur = counts.get(i);
      if (cur + n > max[i]) {
        if (counted) {
          refused.incrementAndGet(i);
        }
        return false;
      }
      if (counts.compareAndSet(i, cur, cur + n)) {
        return true;
      }
    }
  }

  /**
   * Takes {@code n} of a resource for a tenant whatever its cap: for what was already decided
   * elsewhere (in cluster mode the instance an event entered by admits its series; the owner of its
   * partition only counts it). Given back with {@link #release} like the rest.
   */
  public void acquire(String tenant, Resource r, long n) {
    counts(tenant).addAndGet(r.ordinal(), n);
  }

  private AtomicLongArray counts(String tenant) {
    return used.computeIfAbsent(tenant, t -> new AtomicLongArray(RESOURCES.length));
  }

  /** Gives back what {@link #tryAcquire} took. */
  public void release(String tenant, Resource r, long n) {
    AtomicLongArray counts = used.get(tenant);
    if (counts != null) {
      counts.addAndGet(r.ordinal(), -n);
    }
  }

  /** Counts one refusal of {@code r} that a caller decided itself (see {@link #tryAcquire(String, Resource, long, boolean)}). */
  public void refusedOnce(Resource r) {
    refused.incrementAndGet(r.ordinal());
  }

  /**
   * How many times a tenant's cap of this resource refused something, all tenants together: each
   * refused acquire (every event of a new stream or series past the cap counts; a view only when no
   * idle view could make room).
   */
  public long refused(Resource r) {
    return refused.get(r.ordinal());
  }

  /** How much of a resource a tenant holds now. */
  public long used(String tenant, Resource r) {
    AtomicLongArray counts = used.get(tenant);
    return counts == null ? 0 : counts.get(r.ordinal());
  }

  /** The per-tenant cap of a resource ({@code Long.MAX_VALUE}: none). */
  public long cap(Resource r) {
    return max[r.ordinal()];
  }

  /** The reason a caller is given when its tenant is at a cap. */
  public String refusal(String tenant, Resource r) {
    return "tenant " + tenant + " is at its limit of " + max[r.ordinal()] + " " + r.what() + " ("
        + r.setting() + ")";
  }
}

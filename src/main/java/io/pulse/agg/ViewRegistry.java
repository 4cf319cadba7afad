package io.pulse.agg;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The views of every stream. Ingest reads it for every event, so reads are lock-free (a
 * copy-on-write array per stream); changes (a new stream, a subscriber asking for a new group-by)
 * are rare and synchronised. Streams are keyed by {@link StreamId}: each tenant's stream has its
 * own views, and a stream's configured settings ({@code streams.<name>}) apply to that name in
 * every tenant.
 *
 * <p>Each stream always has its total and its per-series view, plus the group-bys its
 * configuration names. Subscribers add views on demand; those retire after a grace period
 * without subscribers, so a reconnecting client finds its view, and its resume buffer, intact.
 * When a stream already has {@code maxViewsPerStream} views, a new one takes the place of the
 * on-demand view that has had no subscriber for the longest: a watched view is never evicted,
 * and only when every on-demand view is watched is a new one refused.
 */
public final class ViewRegistry {

  /** A request for a view that cannot be served; the message is for the client. */
  public static final class ViewException extends Exception {
    private static final long serialVersionUID = 1L;

    public ViewException(String message) {
      super(message, null, false, false);
    }
  }

  /** Where the stream's per-series view (every dim) sits in {@link #views}; the total is at 0. */
  public static final int SERIES = 1;

  private final PulseConfig config;
  private final AtomicInteger ids = new AtomicInteger();
  private final ConcurrentHashMap<StreamId, View[]> byStream = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, View> bySpec = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, View> byId = new ConcurrentHashMap<>();
  /** Each tenant's on-demand views ({@code limits.perTenant.maxViews}), taken when made, given back when dropped. */
  private final io.pulse.core.TenantQuota quota;

  public ViewRegistry(PulseConfig config) {
    this(config, io.pulse.core.TenantQuota.unlimited());
  }

  /** @param quota where each tenant's on-demand views are counted against its cap */
  public ViewRegistry(PulseConfig config, io.pulse.core.TenantQuota quota) {
    this.config = config;
    this.quota = quota;
  }

  /** The view of a spec ({@link View#spec}) if this registry holds it; a stream's permanent views are made on asking. */
  public View bySpec(StreamId stream, String spec) {
    View v = bySpec.get(spec);
    if (v == null && byStream.get(stream) == null) {
      views(stream);
      v = bySpec.get(spec);
    }
    return v;
  }

  /** The views an event of this stream feeds; creates the stream's permanent views on first sight. */
  public View[] views(StreamId stream) {
    View[] v = byStream.get(stream);
    return v != null ? v : createDefaults(stream);
  }

  private synchronized View[] createDefaults(StreamId stream) {
    View[] existing = byStream.get(stream);
    if (existing != null) {
      return existing;
    }
    PulseConfig.StreamSettings s = config.stream(stream.name());
    List<View> views = new ArrayList<>();
    views.add(newView(stream, Map.of(), List.of(), false, s.windowMs(), true));
    views.add(newView(stream, Map.of(), List.of(), true, s.windowMs(), true));
    for (List<String> g : s.groupBy()) {
      if (!bySpec.containsKey(View.spec(stream, Map.of(), g))) {
        views.add(newView(stream, Map.of(), g, false, s.windowMs(), true));
      }
    }
    View[] arr = views.toArray(new View[0]);
    byStream.put(stream, arr);
    return arr;
  }

  private View newView(StreamId stream, Map<String, Set<String>> filter, List<String> groupBy, boolean all,
      long windowMs, boolean permanent) {
    View v = new View(ids.incrementAndGet(), stream, filter, groupBy, all, windowMs, permanent);
    bySpec.put(v.spec(), v);
    byId.put(v.id(), v);
    return v;
  }

  private void unregister(View v) {
    bySpec.remove(v.spec(), v);
    if (byId.remove(v.id(), v) && !v.permanent()) {
      quota.release(v.stream().tenant(), io.pulse.core.TenantQuota.Resource.VIEWS, 1);
    }
  }

  /**
   * Makes room for one more on-demand view of {@code tenant} under its cap: when it is at the cap,
   * its unwatched on-demand view idle the longest (of any of its streams) is dropped and added to
   * {@code evicted}. Takes the place; throws when every one of its views is watched.
   */
  private void takeTenantPlace(String tenant, List<View> evicted) throws ViewException {
    io.pulse.core.TenantQuota.Resource r = io.pulse.core.TenantQuota.Resource.VIEWS;
    while (!quota.tryAcquire(tenant, r, 1, false)) {
      View victim = null;
      for (Map.Entry<StreamId, View[]> e : byStream.entrySet()) {
        if (!e.getKey().tenant().equals(tenant)) {
          continue;
        }
        for (View c : e.getValue()) {
          if (!c.permanent() && c.subscribers() == 0 && (victim == null || c.idleSince() < victim.idleSince())) {
            victim = c;
          }
        }
      }
      if (victim == null) {
        quota.refusedOnce(r);
        throw new ViewException(quota.refusal(tenant, r) + ", each watched");
      }
      byStream.put(victim.stream(), without(byStream.get(victim.stream()), victim));
      unregister(victim);
      evicted.add(victim);
    }
  }

  /**
   * The view for a subscription, made if needed, with its subscriber count raised.
   *
   * @throws ViewException when the stream already has as many views as allowed, all watched
   */
  public View acquire(StreamId stream, Map<String, Set<String>> filter, List<String> groupBy) throws ViewException {
    return acquire(stream, filter, groupBy, new ArrayList<>());
  }

  /**
   * The view for a subscription, made if needed, with its subscriber count raised. When the
   * stream already has {@code maxViewsPerStream} views, the unwatched on-demand view idle the
   * longest is evicted to make room, and added to {@code evicted} (its resume log must go too).
   *
   * @throws ViewException when the stream already has as many views as allowed and each on-demand one is watched
   */
  public synchronized View acquire(StreamId stream, Map<String, Set<String>> filter, List<String> groupBy,
      List<View> evicted) throws ViewException {
    views(stream);
    View v = bySpec.get(View.spec(stream, filter, groupBy));
    if (v == null) {
      takeTenantPlace(stream.tenant(), evicted);
      View[] current = byStream.get(stream);
      int max = config.aggregation().maxViewsPerStream();
      while (current.length >= max) {
        View victim = null;
        for (View c : current) {
          if (!c.permanent() && c.subscribers() == 0 && (victim == null || c.idleSince() < victim.idleSince())) {
            victim = c;
          }
        }
        if (victim == null) {
          quota.release(stream.tenant(), io.pulse.core.TenantQuota.Resource.VIEWS, 1);
          throw new ViewException("stream " + stream.name() + " already has " + current.length
              + " distinct filter/groupBy combinations live, each watched (aggregation.maxViewsPerStream)");
        }
        current = without(current, victim);
        unregister(victim);
        evicted.add(victim);
      }
      v = newView(stream, filter, groupBy, false, config.stream(stream.name()).windowMs(), false); // its place taken above
      View[] next = Arrays.copyOf(current, current.length + 1);
      next[current.length] = v;
      byStream.put(stream, next);
    }
    v.acquire();
    return v;
  }

  private static View[] without(View[] views, View gone) {
    View[] out = new View[views.length - 1];
    int i = 0;
    for (View v : views) {
      if (v != gone) {
        out[i++] = v;
      }
    }
    return out;
  }

  public void release(View v, long now) {
    v.release(now);
  }

  /** Retires on-demand views that have had no subscriber for {@code graceMs}; returns them. */
  public synchronized List<View> retireIdle(long now, long graceMs) {
    List<View> retired = new ArrayList<>();
    for (Map.Entry<StreamId, View[]> e : byStream.entrySet()) {
      View[] views = e.getValue();
      List<View> keep = new ArrayList<>(views.length);
      for (View v : views) {
        if (!v.permanent() && v.subscribers() == 0 && now - v.idleSince() >= graceMs) {
          retired.add(v);
          unregister(v);
        } else {
          keep.add(v);
        }
      }
      if (keep.size() != views.length) {
        byStream.put(e.getKey(), keep.toArray(new View[0]));
      }
    }
    return retired;
  }

  /**
   * Drops every view of a stream, permanent ones included, unless one has a subscriber or lost
   * its last one less than {@code graceMs} ago (a client may be about to resume into it).
   *
   * @return whether the stream has no views now
   */
  public synchronized boolean forgetStream(StreamId stream, long now, long graceMs) {
    View[] views = byStream.get(stream);
    if (views == null) {
      return true;
    }
    for (View v : views) {
      if (v.subscribers() > 0 || (v.idleSince() != 0 && now - v.idleSince() < graceMs)) {
        return false;
      }
    }
    byStream.remove(stream);
    for (View v : views) {
      unregister(v);
    }
    return true;
  }

  /** Streams that have views (the catalog's streams, and streams only subscribed to). */
  public List<StreamId> streams() {
    return new ArrayList<>(byStream.keySet());
  }

  /** Streams that have views. */
  public int streamCount() {
    return byStream.size();
  }

  /** The view with this id, if it is still registered. */
  public View byId(int id) {
    return byId.get(id);
  }
}

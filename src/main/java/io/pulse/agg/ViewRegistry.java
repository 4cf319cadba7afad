package io.pulse.agg;

import io.pulse.config.PulseConfig;
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
 * are rare and synchronised.
 *
 * <p>Each stream always has its total and its per-series view, plus the group-bys its
 * configuration names. Subscribers add views on demand; those retire after a grace period
 * without subscribers, so a reconnecting client finds its view, and its resume buffer, intact.
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
  private final ConcurrentHashMap<String, View[]> byStream = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, View> bySpec = new ConcurrentHashMap<>();

  public ViewRegistry(PulseConfig config) {
    this.config = config;
  }

  /** The views an event of this stream feeds; creates the stream's permanent views on first sight. */
  public View[] views(String stream) {
    View[] v = byStream.get(stream);
    return v != null ? v : createDefaults(stream);
  }

  private synchronized View[] createDefaults(String stream) {
    View[] existing = byStream.get(stream);
    if (existing != null) {
      return existing;
    }
    PulseConfig.StreamSettings s = config.stream(stream);
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

  private View newView(String stream, Map<String, Set<String>> filter, List<String> groupBy, boolean all,
      long windowMs, boolean permanent) {
    View v = new View(ids.incrementAndGet(), stream, filter, groupBy, all, windowMs, permanent);
    bySpec.put(v.spec(), v);
    return v;
  }

  /**
   * The view for a subscription, made if needed, with its subscriber count raised.
   *
   * @throws ViewException when the stream already has as many views as allowed
   */
  public synchronized View acquire(String stream, Map<String, Set<String>> filter, List<String> groupBy)
      throws ViewException {
    views(stream);
    View v = bySpec.get(View.spec(stream, filter, groupBy));
    if (v == null) {
      View[] current = byStream.get(stream);
      if (current.length >= config.aggregation().maxViewsPerStream()) {
        throw new ViewException("stream " + stream + " already has " + current.length
            + " distinct filter/groupBy combinations live (aggregation.maxViewsPerStream)");
      }
      v = newView(stream, filter, groupBy, false, config.stream(stream).windowMs(), false);
      View[] next = Arrays.copyOf(current, current.length + 1);
      next[current.length] = v;
      byStream.put(stream, next);
    }
    v.acquire();
    return v;
  }

  public void release(View v, long now) {
    v.release(now);
  }

  /** Retires on-demand views that have had no subscriber for {@code graceMs}; returns them. */
  public synchronized List<View> retireIdle(long now, long graceMs) {
    List<View> retired = new ArrayList<>();
    for (Map.Entry<String, View[]> e : byStream.entrySet()) {
      View[] views = e.getValue();
      List<View> keep = new ArrayList<>(views.length);
      for (View v : views) {
        if (!v.permanent() && v.subscribers() == 0 && now - v.idleSince() >= graceMs) {
          retired.add(v);
          bySpec.remove(v.spec());
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

  /** The view with this id, if it is still registered. */
  public View byId(int id) {
    for (View[] views : byStream.values()) {
      for (View v : views) {
        if (v.id() == id) {
          return v;
        }
      }
    }
    return null;
  }
}

package io.pulse.agg;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One way of rolling a stream up: which events (a filter on dims) and by which dims they are
 * grouped. The stream total groups by nothing; the series view groups by every dim. A view
 * belongs to one tenant's stream ({@link StreamId}): two tenants never share one.
 *
 * <p>Views are made by {@link ViewRegistry} and compared by identity. Their figures are
 * immutable; only the count of live subscribers changes.
 */
public final class View {

  private final int id;
  private final StreamId stream;
  private final Map<String, Set<String>> filter;
  private final String[] groupBy;
  private final boolean allDims;
  private final long windowMs;
  private final boolean permanent;
  private final String spec;
  private final AtomicInteger subscribers = new AtomicInteger();
  /** One key object per group of this view, shared by every series that rolls up into it. */
  private final java.util.concurrent.ConcurrentHashMap<Dims, ViewKey> keys = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile long idleSince;

  View(int id, StreamId stream, Map<String, Set<String>> filter, List<String> groupBy, boolean allDims, long windowMs,
      boolean permanent) {
    this.id = id;
    this.stream = stream;
    TreeMap<String, Set<String>> f = new TreeMap<>();
    filter.forEach((k, v) -> f.put(k, Collections.unmodifiableSet(new TreeSet<>(v))));
    this.filter = Collections.unmodifiableMap(f);
    this.groupBy = new TreeSet<>(groupBy).toArray(new String[0]);
    this.allDims = allDims;
    this.windowMs = windowMs;
    this.permanent = permanent;
    this.spec = spec(stream, this.filter, allDims ? null : List.of(this.groupBy));
  }

  /** The canonical text of a view: equal specs are the same view. {@code groupBy} null means every dim. */
  public static String spec(StreamId stream, Map<String, ? extends Set<String>> filter, List<String> groupBy) {
    StringBuilder sb = new StringBuilder(stream.tenant()).append('/').append(stream.name()).append('|');
    if (groupBy == null) {
      sb.append('*');
    } else {
      sb.append(String.join(",", new TreeSet<>(groupBy)));
    }
    sb.append('|');
    new TreeMap<>(filter).forEach((k, v) -> sb.append(k).append('=').append(String.join("/", new TreeSet<>(v)))
        .append(';'));
    return sb.toString();
  }

  /** Whether an event with these dims belongs to the view. */
  public boolean matches(Dims dims) {
    if (filter.isEmpty()) {
      return true;
    }
    for (Map.Entry<String, Set<String>> f : filter.entrySet()) {
      String v = dims.get(f.getKey());
      if (v == null || !f.getValue().contains(v)) {
        return false;
      }
    }
    return true;
  }

  /** The series within this view that an event with these dims counts towards. */
  public Dims keyOf(Dims dims) {
    if (allDims || isOverflow(dims)) {
      return dims; // the overflow series stays itself in every group-by, so it is never mistaken for a group
    }
    return dims.project(groupBy);
  }

  /** Whether these are the dims of a stream's overflow series. */
  public static boolean isOverflow(Dims d) {
    return d.size() == 1 && OVERFLOW_KEY.equals(d.key(0));
  }

  /** The dim that marks the overflow series (see {@code StreamCatalog.OVERFLOW}). */
  public static final String OVERFLOW_KEY = "_overflow";

  /** The key of the group that an event with these dims counts towards, one instance per group. */
  public ViewKey key(Dims dims) {
    Dims k = keyOf(dims);
    ViewKey vk = keys.get(k);
    return vk != null ? vk : keys.computeIfAbsent(k, d -> new ViewKey(this, d));
  }

  /** Drops the cached key of a group (a forgotten series); a later {@link #key} makes an equal one. */
  public void forgetKey(Dims dims) {
    keys.remove(keyOf(dims));
  }

  /** Group keys cached. */
  public int keyCount() {
    return keys.size();
  }

  /**
   * Drops every cached group key. Keys are compared by view and dims, so one made afresh is equal
   * to the one dropped: shards and the combiner find their state by it either way.
   */
  public void clearKeys() {
    keys.clear();
  }

  public int id() {
    return id;
  }

  public StreamId stream() {
    return stream;
  }

  public Map<String, Set<String>> filter() {
    return filter;
  }

  /** The group-by dims, sorted; empty for the stream total. Meaningless when {@link #allDims()}. */
  public List<String> groupBy() {
    return Collections.unmodifiableList(new ArrayList<>(Arrays.asList(groupBy)));
  }

  public boolean allDims() {
    return allDims;
  }

  public long windowMs() {
    return windowMs;
  }

  /** Permanent views (the stream total, every series, configured group-bys) are never retired. */
  public boolean permanent() {
    return permanent;
  }

  public String spec() {
    return spec;
  }

  /** Whether anyone watches it live: shards send running (non-final) updates only then. */
  public boolean live() {
    return subscribers.get() > 0;
  }

  int acquire() {
    return subscribers.incrementAndGet();
  }

  int release(long now) {
    int n = subscribers.decrementAndGet();
    if (n == 0) {
      idleSince = now;
    }
    return n;
  }

  public int subscribers() {
    return subscribers.get();
  }

  public long idleSince() {
    return idleSince;
  }

  @Override
  public String toString() {
    return "View#" + id + "(" + spec + ")";
  }
}

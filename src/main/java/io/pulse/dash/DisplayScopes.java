package io.pulse.dash;

import io.pulse.core.Clock;
import io.pulse.core.DisplayBinding;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What each display token may read, by tenant and binding: its dashboard (a playlist binding: the
 * playlist and its dashboards) and the streams those dashboards' panels name. Resolved from
 * storage by a {@link Loader} and kept for {@code ttlMs} (a dashboard edited in another process
 * takes effect within it; one edited here at once, by {@link #changed}), in a bounded map.
 *
 * <p>A request never waits on storage for a scope it has read in the last {@code ttlMs}; after
 * that the first request reloads it (waiting for that one query) and, when storage fails, goes on
 * with the scope it had. A long-lived live connection asks {@link Entry#stream} on every
 * subscription: a stale entry answers from what it holds and reloads in the background.
 * Thread-safe: shared by every HTTP instance.
 */
public final class DisplayScopes {

  /** What a display may read; every set immutable. */
  public record Scope(Set<String> dashboards, Set<String> playlists, Set<String> streams) {
    public static final Scope NOTHING = new Scope(Set.of(), Set.of(), Set.of());

    public Scope {
      dashboards = Set.copyOf(dashboards);
      playlists = Set.copyOf(playlists);
      streams = Set.copyOf(streams);
    }
  }

  /** Reads a binding's scope from storage; a binding whose target is gone has {@link Scope#NOTHING}. */
  @FunctionalInterface
  public interface Loader {
    Future<Scope> load(String tenant, DisplayBinding binding);
  }

  /** One binding's scope, reloaded when stale. */
  public final class Entry {
    private final String tenant;
    private final DisplayBinding binding;
    private volatile Scope scope;
    private volatile long loadedAt = Long.MIN_VALUE;
    /** The reload under way, or null; guarded by the outer instance. */
    private Future<Entry> loading;
    /** Counts {@link #changed} calls: a load that began before one does not make the entry fresh. */
    private int generation;

    private Entry(String tenant, DisplayBinding binding) {
      this.tenant = tenant;
      this.binding = binding;
    }

    /** The scope as last loaded (null before the first load). */
    public Scope scope() {
      return scope;
    }

    /** Whether the display reads stream {@code name}; reloads in the background when stale. */
    public boolean stream(String name) {
      Scope s = scope;
      if (stale()) {
        reload(this);
      }
      return s != null && name != null && s.streams().contains(name);
    }

    private boolean stale() {
      long at = loadedAt;
      return at == Long.MIN_VALUE || clock.millis() - at >= ttlMs;
    }
  }

  private final Loader loader;
  private final Clock clock;
  private final long ttlMs;
  private final int maxEntries;
  private final Map<String, Entry> entries;

  public DisplayScopes(Loader loader, Clock clock, long ttlMs, int maxEntries) {
    this.loader = loader;
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.entries = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
        return size() > DisplayScopes.this.maxEntries;
      }
    };
  }

  /**
   * The binding's entry with a loaded scope: at once when it was loaded in the last {@code ttlMs};
   * else after one reload (which, should storage fail, keeps the scope it had; the first load's
   * failure fails the future).
   */
  public Future<Entry> entry(String tenant, DisplayBinding binding) {
    Entry e;
    synchronized (this) {
      e = entries.computeIfAbsent(tenant + "\u0000" + binding.kind() + "\u0000" + binding.id(),
          k -> new Entry(tenant, binding));
    }
    if (!e.stale()) {
      return Future.succeededFuture(e);
    }
    Future<Entry> f = reload(e);
    if (e.scope != null) {
      Entry had = e;
      return f.recover(t -> Future.succeededFuture(had));
    }
    return f;
  }

  /** The binding's entry when it has a scope loaded (fresh or not); null otherwise. Never loads. */
  public Entry loaded(String tenant, DisplayBinding binding) {
    Entry e;
    synchronized (this) {
      e = entries.get(tenant + "\u0000" + binding.kind() + "\u0000" + binding.id());
    }
    return e == null || e.scope == null ? null : e;
  }

  /** A dashboard or playlist of {@code tenant} changed here: its displays' scopes are reloaded on next use. */
  public void changed(String tenant) {
    synchronized (this) {
      for (Entry e : entries.values()) {
        if (e.tenant.equals(tenant)) {
          e.loadedAt = Long.MIN_VALUE;
          e.generation++;
        }
      }
    }
  }

  /** How many bindings are held (bounded by maxEntries). */
  public synchronized int size() {
    return entries.size();
  }

  private Future<Entry> reload(Entry e) {
    Promise<Entry> p;
    int gen;
    synchronized (this) {
      if (e.loading != null) {
        return e.loading;
      }
      p = Promise.promise();
      e.loading = p.future();
      gen = e.generation;
    }
    long started = clock.millis();
    Future<Scope> f;
    try {
      f = loader.load(e.tenant, e.binding);
    } catch (RuntimeException ex) {
      f = Future.failedFuture(ex);
    }
    f.onComplete(ar -> {
      synchronized (this) {
        e.loading = null;
        if (ar.succeeded()) {
          e.scope = ar.result();
          e.loadedAt = gen == e.generation ? started : Long.MIN_VALUE;
        }
      }
      if (ar.succeeded()) {
        p.complete(e);
      } else {
        p.fail(ar.cause());
      }
    });
    return p.future();
  }
}

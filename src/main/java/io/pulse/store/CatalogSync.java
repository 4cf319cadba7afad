package io.pulse.store;

import io.pulse.catalog.StreamCatalog;
import io.pulse.core.Clock;
import io.pulse.core.StreamId;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the stored stream catalogue up to date with the live one: each {@link #sync} upserts the
 * streams that changed since the last one (merged with what was stored before, earlier runs
 * included). What PostgreSQL cannot hold is left out and counted once per name or value
 * ({@link #skipped()}); a stream the database refuses is given up alone until it changes again,
 * never failing the others; while the database is away the next sync tries again. One sync at a
 * time: a call while one runs gets that one.
 *
 * <p>The stored catalogue is owned here and handed to {@code publish} as an immutable map after
 * every change; the other parts of Pulse read that copy. Plain Java, single-threaded (the store
 * verticle's event loop).
 */
public final class CatalogSync {

  private static final Logger LOG = LoggerFactory.getLogger(CatalogSync.class);
  private static final long LOG_EVERY_MS = 10_000;

  private final Function<List<CatalogStore.Stream>, Future<?>> save;
  private final Clock clock;
  private final Consumer<Map<StreamId, CatalogStore.Stream>> publish;
  private final Map<StreamId, CatalogStore.Stream> stored = new HashMap<>();
  /** Per stream, the lastSeen it was stored (or given up) at. */
  private final Map<StreamId, Long> synced = new HashMap<>();
  /** Per stream, how many of its names and values were left out so far (streams are bounded by maxStreams). */
  private final Map<StreamId, Integer> skippedSeen = new HashMap<>();
  private long skipped;
  private long refused;
  private Future<Void> running;
  private long lastLog = Long.MIN_VALUE;

  /**
   * @param save upserts streams in one statement (bounded by the caller)
   * @param publish handed the stored catalogue, immutable, after every change
   */
  public CatalogSync(Function<List<CatalogStore.Stream>, Future<?>> save, Clock clock,
      Consumer<Map<StreamId, CatalogStore.Stream>> publish) {
    this.save = save;
    this.clock = clock;
    this.publish = publish;
  }

  /** What the database held at the start (earlier runs). */
  public void loaded(Map<StreamId, CatalogStore.Stream> streams) {
    stored.putAll(streams);
    publish.accept(Map.copyOf(stored));
  }

  /**
   * A stream's stored row was deleted (DELETE /api/v1/streams/{stream}): it leaves the published
   * catalogue, and is saved afresh if it has events again.
   */
  public void forget(StreamId name) {
    synced.remove(name);
    skippedSeen.remove(name);
    if (stored.remove(name) != null) {
      publish.accept(Map.copyOf(stored));
    }
  }

  /** The stored catalogue as last published. */
  public Map<StreamId, CatalogStore.Stream> stored() {
    return Map.copyOf(stored);
  }

  /** Names, dim values and value names left out because PostgreSQL cannot hold them, each counted once. */
  public long skipped() {
    return skipped;
  }

  /** Streams whose row the database refused for its content (each time it changed and was tried). */
  public long refused() {
    return refused;
  }

  /** Upserts the streams of {@code live} that changed since the last sync; see the class comment. */
  public Future<Void> sync(Collection<StreamCatalog.StreamInfo> live) {
    if (running != null) {
      return running;
    }
    List<CatalogStore.Stream> changed = new ArrayList<>();
    Map<StreamId, Long> seen = new HashMap<>();
    int newlySkipped = 0;
    for (StreamCatalog.StreamInfo s : live) {
      // lastSeen once, before the dims: ingest adds an event's dims (admit) before it moves lastSeen (count),
      // so what is copied below holds at least every event up to `at`, and a later one changes lastSeen
      long at = s.lastSeen();
      Long done = synced.get(s.id());
      if (done != null && done == at) {
        continue;
      }
      CatalogStore.Stream now = new CatalogStore.Stream(s.id(), s.dims(), s.valueNames(), s.firstSeen(), at);
      CatalogStore.Stream before = stored.get(s.id());
      CatalogStore.Storable ok = CatalogStore.storable(before == null ? now : before.merge(now));
      int counted = skippedSeen.getOrDefault(s.id(), 0);
      if (ok.skipped() > counted) { // each left-out name or value counted once per stream, not at every sync
        newlySkipped += ok.skipped() - counted;
        skippedSeen.put(s.id(), ok.skipped());
      }
      seen.put(s.id(), at);
      if (ok.stream() != null) {
        changed.add(ok.stream());
      } else {
        synced.put(s.id(), at); // nothing of it can be stored
      }
    }
    if (newlySkipped > 0) {
      skipped += newlySkipped;
      problem("{} dim names, dim values or value names hold what PostgreSQL text cannot (NUL, unpaired "
          + "surrogates): not stored in the catalogue", newlySkipped);
    }
    if (changed.isEmpty()) {
      return Future.succeededFuture();
    }
    Future<Void> run = Isolating.write(changed, save).map(o -> {
      settle(changed, seen, o);
      return (Void) null;
    });
    running = run;
    return run.onComplete(ar -> running = null);
  }

  private void settle(List<CatalogStore.Stream> changed, Map<StreamId, Long> seen,
      Isolating.Outcome<CatalogStore.Stream> o) {
    Set<StreamId> notStored = new HashSet<>();
    o.remaining().forEach(s -> notStored.add(s.stream())); // the database is away: the next sync tries again
    for (Isolating.Refusal<CatalogStore.Stream> r : o.refused()) {
      StreamId name = r.row().stream();
      notStored.add(name);
      refused++;
      synced.put(name, seen.get(name)); // again only once it changes
      problem("the database refused the catalogue row of stream {}: {}", name, StoreErrors.describe(r.cause()));
    }
    boolean any = false;
    for (CatalogStore.Stream s : changed) {
      if (!notStored.contains(s.stream())) {
        stored.put(s.stream(), s);
        synced.put(s.stream(), seen.get(s.stream()));
        any = true;
      }
    }
    if (any) {
      publish.accept(Map.copyOf(stored));
    }
  }

  /** Logs a catalogue problem at most once per 10 s. */
  private void problem(String format, Object... args) {
    long now = clock.millis();
    if (lastLog == Long.MIN_VALUE || now - lastLog >= LOG_EVERY_MS) {
      LOG.warn("storage: " + format, args);
      lastLog = now;
    }
  }
}

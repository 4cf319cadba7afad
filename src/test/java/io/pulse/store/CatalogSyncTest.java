package io.pulse.store;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The stored catalogue kept up to date with the live one, against a fake database. */
class CatalogSyncTest {

  private static final long T0 = 1_763_805_600_000L;

  private final ManualClock clock = new ManualClock(T0);
  private final StreamCatalog live = new StreamCatalog(100, 100, new SimpleMeterRegistry());
  private final List<List<String>> saves = new ArrayList<>();
  private final Set<String> refusedNames = new HashSet<>();
  private final List<Map<StreamId, CatalogStore.Stream>> published = new ArrayList<>();
  private boolean away;
  private Promise<Void> hanging;

  private final CatalogSync sync = new CatalogSync(batch -> {
    saves.add(batch.stream().map(s -> s.stream().name()).toList());
    if (hanging != null) {
      return hanging.future();
    }
    if (away) {
      return Future.failedFuture(new IOException("Connection refused"));
    }
    if (batch.stream().anyMatch(s -> refusedNames.contains(s.stream().name()))) {
      return Future.failedFuture(new PgException("value too long", "ERROR", "22001", null));
    }
    return Future.succeededFuture();
  }, clock, published::add);

  private void see(String stream, String host, String value) {
    StreamCatalog.StreamInfo s = live.stream(StreamId.of(stream), clock.millis());
    s.admit(Event.of(StreamId.of(stream), clock.millis(), Dims.of("host", host), Map.of(value, 1)), clock.millis());
    s.count(clock.millis(), 1, 0, 0, 0);
  }

  @Test
  @DisplayName("changed streams are saved once; an unchanged stream is not saved again; the stored map is published")
  void savesChanges() {
    see("a", "h1", "ms");
    see("b", "h1", "ms");
    assertTrue(sync.sync(live.all()).succeeded());
    assertEquals(1, saves.size());
    assertEquals(Set.of("a", "b"), Set.copyOf(saves.get(0)));
    assertEquals(Set.of("a", "b"), published.get(published.size() - 1).keySet().stream().map(StreamId::name).collect(java.util.stream.Collectors.toSet()));
    sync.sync(live.all());
    assertEquals(1, saves.size(), "nothing changed: nothing saved");
    clock.advance(1000);
    see("a", "h2", "ms");
    sync.sync(live.all());
    assertEquals(List.of("a"), saves.get(1));
    assertEquals(List.of("h1", "h2"), sync.stored().get(StreamId.of("a")).dims().get("host"));
    assertThrows(UnsupportedOperationException.class, () -> published.get(published.size() - 1).remove(StreamId.of("a")),
        "what others read is immutable");
  }

  @Test
  @DisplayName("the live stream is merged with what earlier runs stored: dims united, earliest first seen kept")
  void mergesWithLoaded() {
    sync.loaded(Map.of(StreamId.of("a"), new CatalogStore.Stream(StreamId.of("a"), Map.of("region", List.of("eu")), List.of("bytes"),
        T0 - 86_400_000L, T0 - 3_600_000L)));
    assertNotNull(published.get(0).get(StreamId.of("a")), "the loaded catalogue is published at once");
    see("a", "h1", "ms");
    sync.sync(live.all());
    CatalogStore.Stream a = sync.stored().get(StreamId.of("a"));
    assertEquals(Set.of("region", "host"), a.dims().keySet());
    assertEquals(List.of("bytes", "ms"), a.valueNames());
    assertEquals(T0 - 86_400_000L, a.firstSeen());
    assertEquals(T0, a.lastSeen());
  }

  @Test
  @DisplayName("the database away: nothing marked stored, the next sync tries the same streams again")
  void awayRetriesNextSync() {
    see("a", "h1", "ms");
    away = true;
    sync.sync(live.all());
    assertNull(sync.stored().get(StreamId.of("a")));
    assertTrue(published.isEmpty());
    away = false;
    sync.sync(live.all());
    assertEquals(List.of(List.of("a"), List.of("a")), saves);
    assertNotNull(sync.stored().get(StreamId.of("a")));
  }

  @Test
  @DisplayName("a stream the database refuses is given up alone (the others stored) until it changes again")
  void refusedAlone() {
    see("a", "h1", "ms");
    see("bad", "h1", "ms");
    see("c", "h1", "ms");
    refusedNames.add("bad");
    sync.sync(live.all());
    assertEquals(Set.of("a", "c"), sync.stored().keySet().stream().map(StreamId::name).collect(java.util.stream.Collectors.toSet()));
    assertEquals(1, sync.refused());
    int tries = saves.size();
    sync.sync(live.all());
    assertEquals(tries, saves.size(), "not tried again while unchanged");
    clock.advance(1000);
    see("bad", "h2", "ms");
    sync.sync(live.all());
    assertEquals(List.of("bad"), saves.get(saves.size() - 1), "tried again once it changed");
    assertEquals(2, sync.refused());
  }

  @Test
  @DisplayName("what PostgreSQL text cannot hold is left out and counted once per name or value, not at every sync")
  void skippedCountedOnce() {
    see("a", "h\u0000x", "ms");
    sync.sync(live.all());
    assertEquals(1, sync.skipped());
    assertFalse(sync.stored().get(StreamId.of("a")).dims().getOrDefault("host", List.of()).contains("h\u0000x"));
    clock.advance(1000);
    see("a", "h2", "ms");
    sync.sync(live.all());
    assertEquals(1, sync.skipped(), "the same value is not counted again");
  }

  @Test
  @DisplayName("one sync at a time: a call while one runs gets that one")
  void oneAtATime() {
    see("a", "h1", "ms");
    hanging = Promise.promise();
    Future<Void> first = sync.sync(live.all());
    assertSame(first, sync.sync(live.all()));
    assertEquals(1, saves.size());
    hanging.complete();
    assertTrue(first.succeeded());
    assertNotNull(sync.stored().get(StreamId.of("a")));
  }
}

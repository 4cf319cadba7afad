package io.pulse.verticles;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardBatch;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What verticles know of each other: counts and statuses each published by one owner, read as sums. */
class PulseContextTest {

  private Vertx vertx;
  private PulseContext ctx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    Addresses.registerCodecs(vertx);
    ctx = new PulseContext(PulseConfig.of(new JsonObject()), new ManualClock(0), new SimpleMeterRegistry(), 2, null);
  }

  @AfterEach
  void tearDown() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  private static ShardBatch batch(int n) {
    ShardBatch b = new ShardBatch(n);
    for (int i = 0; i < n; i++) {
      b.add(null, null, 0);
    }
    return b;
  }

  @Test
  @DisplayName("pending at a shard = what every sender sent it - what it processed; no count is shared by two writers")
  void pendingIsSentMinusProcessed() {
    PulseContext.Sender http = ctx.sender();
    PulseContext.Sender demo = ctx.sender();
    http.dispatch(vertx.eventBus(), new ShardBatch[] {batch(3), batch(2)});
    demo.dispatch(vertx.eventBus(), new ShardBatch[] {batch(5), batch(0)});
    assertEquals(8, ctx.pending(0));
    assertEquals(2, ctx.pending(1));
    ctx.processed[0].add(8);
    assertEquals(0, ctx.pending(0));
    assertEquals(2, ctx.pending(1));
    assertFalse(ctx.overloaded());
  }

  @Test
  @DisplayName("a shard with more than MAX_PENDING_EVENTS_PER_SHARD waiting makes ingest overloaded until it catches up")
  void overloaded() {
    int n = (int) PulseContext.MAX_PENDING_EVENTS_PER_SHARD + 1;
    ctx.sender().dispatch(vertx.eventBus(), new ShardBatch[] {batch(0), batch(n)});
    assertTrue(ctx.overloaded());
    ctx.processed[1].add(1);
    assertFalse(ctx.overloaded());
  }

  @Test
  @DisplayName("live subscribers are the sum of the hubs' own counts")
  void subscribers() {
    PulseContext.Count a = ctx.subscriberCount();
    PulseContext.Count b = ctx.subscriberCount();
    a.add(2);
    b.add(3);
    a.add(-1);
    assertEquals(4, ctx.subscribers());
  }

  @Test
  @DisplayName("the store's status and the stored catalogue are replaced whole; readers see immutable values")
  void published() {
    assertEquals(io.pulse.store.StoreWriter.Status.IDLE, ctx.store.get());
    ctx.store.set(new io.pulse.store.StoreWriter.Status(7, true, "the database does not answer: x"));
    assertTrue(ctx.store.get().full());
    java.util.Map<StreamId, io.pulse.store.CatalogStore.Stream> m = new java.util.HashMap<>();
    m.put(StreamId.of("a"), new io.pulse.store.CatalogStore.Stream(StreamId.of("a"), java.util.Map.of(), java.util.List.of(), 1, 2));
    ctx.storedStreams.set(m);
    m.clear(); // the owner's own map may change afterwards; the published copy does not
    assertTrue(ctx.storedStreams.containsKey(StreamId.of("a")));
    assertEquals(2, ctx.storedStreams.get(StreamId.of("a")).lastSeen());
  }
}

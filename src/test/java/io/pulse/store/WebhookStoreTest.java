package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.notify.Delivery;
import io.pulse.notify.Webhook;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Webhooks and deliveries against a real PostgreSQL. */
class WebhookStoreTest {

  private static final long NOW = 1_795_000_000_000L;
  private static final String SECRET = "whsec_0123456789abcdef";
  private Vertx vertx;
  private Pool pool;
  private WebhookStore store;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    pool = StoreTesting.migratedPool(vertx, PgFixture.freshDatabase(), 4);
    store = new WebhookStore(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Webhook hook(String tenant, String id, String secret) {
    return Webhook.parse(tenant, id, new JsonObject().put("name", id).put("url", "https://h.example/" + id), secret);
  }

  private static Delivery delivery(String id, Delivery.State state, int attempts, long at) {
    return new Delivery("default", id, "w1", "{\"delivery\":\"" + id + "\"}", state, attempts,
        attempts == 0 ? null : 500, attempts == 0 ? null : "HTTP 500", at + 1_000, NOW, at);
  }

  @Test
  @DisplayName("webhooks per tenant with their secret; a duplicate id is 409, an unknown one 404; a new secret replaces the old")
  void webhooks() throws Exception {
    await(store.create(hook("default", "w1", SECRET), "alice", NOW));
    await(store.create(hook("acme", "w1", SECRET + "-acme"), "bob", NOW));
    ExecutionException dup = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> await(store.create(hook("default", "w1", SECRET), "alice", NOW)));
    assertEquals(409, assertInstanceOf(DefinitionStore.Refused.class, dup.getCause()).status());
    assertEquals(2, await(store.all()).size());
    assertEquals(List.of("w1"), await(store.list("acme")).stream().map(s -> s.webhook().id()).toList());
    assertEquals(SECRET + "-acme", await(store.get("acme", "w1")).webhook().secret());

    await(store.update(hook("default", "w1", "placeholder-secret-xx"), false, "alice", NOW + 1));
    assertEquals(SECRET, await(store.get("default", "w1")).webhook().secret(), "kept without a new one");
    await(store.update(hook("default", "w1", "whsec_new_0123456789"), true, "alice", NOW + 2));
    assertEquals("whsec_new_0123456789", await(store.get("default", "w1")).webhook().secret());
    assertEquals(NOW, await(store.get("default", "w1")).createdAt());

    await(store.delete("default", "w1", "alice", NOW + 3));
    ExecutionException gone = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> await(store.get("default", "w1")));
    assertEquals(404, assertInstanceOf(DefinitionStore.Refused.class, gone.getCause()).status());
    assertEquals(1, await(store.all()).size(), "acme's stays");
  }

  @Test
  @DisplayName("deliveries: batched upserts, pending ones listed for a restart, a final state never overwritten, expiry")
  void deliveries() throws Exception {
    await(store.save(List.of(delivery("d1", Delivery.State.PENDING, 0, NOW), delivery("d2", Delivery.State.PENDING, 0,
        NOW), delivery("d3", Delivery.State.FAILED, 0, NOW))));
    await(store.save(List.of(delivery("d1", Delivery.State.PENDING, 2, NOW + 10),
        delivery("d2", Delivery.State.DELIVERED, 1, NOW + 10))));
    // a late write of an older pending state must not undo the delivery
    await(store.save(List.of(delivery("d2", Delivery.State.PENDING, 1, NOW + 5))));

    List<Delivery> pending = await(store.pending());
    assertEquals(List.of("d1"), pending.stream().map(Delivery::id).toList());
    Delivery d1 = pending.get(0);
    assertEquals(2, d1.attempts());
    assertEquals(500, d1.lastStatus());
    assertEquals(NOW + 1_010, d1.nextAttemptAt());
    assertEquals("{\"delivery\":\"d1\"}", d1.body(), "the body exactly as signed");

    assertEquals(List.of("d2"), await(store.deliveries("default", "w1", Delivery.State.DELIVERED, 10)).stream()
        .map(Delivery::id).toList());
    assertEquals(3, await(store.deliveries("default", "w1", null, 10)).size());
    assertEquals(0, await(store.deliveries("acme", "w1", null, 10)).size(), "per tenant");
    Delivery d3 = await(store.deliveries("default", "w1", Delivery.State.FAILED, 10)).get(0);
    assertNull(d3.lastStatus());

    assertEquals(2, await(store.expire(NOW + 11)), "delivered and failed rows go; the pending one stays");
    assertEquals(1, await(store.deliveries("default", "w1", null, 10)).size());
    assertTrue(await(store.pending()).size() == 1);
  }
}

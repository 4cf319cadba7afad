package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pulse.ingest.Quarantine;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Quarantined events in PostgreSQL: repeats merged, listing, purging. */
class QuarantineStoreTest {

  private static final String T = "default";
  private static final long NOW = 1_795_000_000_000L;
  private Vertx vertx;
  private QuarantineStore store;
  private AuditLog audit;
  private PgFixture.Db db;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    db = PgFixture.freshDatabase();
    Pool pool = StoreTesting.migratedPool(vertx, db, 2);
    store = new QuarantineStore(pool);
    audit = new AuditLog(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Quarantine.Entry entry(long at, String stream, String reason, String payload) {
    return new Quarantine.Entry(0, at, T, stream, "http", reason, payload);
  }

  @Test
  @DisplayName("one bad event repeated is one row whose count and last-seen move, within a batch and across batches")
  void repeatsMerge() throws Exception {
    String bad = "{\"stream\":\"pay\",\"values\":{\"amount\":\"x\"}}";
    await(store.save(List.of(entry(NOW, "pay", "values.amount: must be a number", bad),
        entry(NOW + 5, "pay", "values.amount: must be a number", bad),
        entry(NOW + 1, "pay", "values: required", "{}"))));
    await(store.save(List.of(entry(NOW + 9, "pay", "values.amount: must be a number", bad))));

    QuarantineStore.Page page = await(store.list(T, null, 10, null));
    assertEquals(2, page.rows());
    assertEquals(4, page.events());
    QuarantineStore.Item repeated = page.items().stream().filter(i -> i.payload().equals(bad)).findFirst()
        .orElseThrow();
    assertEquals(3, repeated.count());
    assertEquals(NOW, repeated.firstSeen());
    assertEquals(NOW + 9, repeated.lastSeen());
  }

  @Test
  @DisplayName("listing filters by stream and pages back by id, newest first")
  void listing() throws Exception {
    for (int i = 0; i < 5; i++) {
      await(store.save(List.of(entry(NOW + i, i % 2 == 0 ? "a" : "b", "bad " + i, "{}"))));
    }
    QuarantineStore.Page a = await(store.list(T, "a", 2, null));
    assertEquals(List.of("bad 4", "bad 2"), a.items().stream().map(QuarantineStore.Item::reason).toList());
    assertEquals(3, a.rows());
    QuarantineStore.Page next = await(store.list(T, "a", 2, a.items().get(1).id()));
    assertEquals(List.of("bad 0"), next.items().stream().map(QuarantineStore.Item::reason).toList());
    assertEquals(0, await(store.list("other", null, 10, null)).rows(), "tenants are apart");
  }

  @Test
  @DisplayName("purge deletes by id, by stream and by age, and each purge is audited")
  void purge() throws Exception {
    await(store.save(List.of(entry(NOW, "a", "r1", "1"), entry(NOW + 10, "a", "r2", "2"),
        entry(NOW + 20, "b", "r3", "3"))));
    long id = await(store.list(T, "b", 1, null)).items().get(0).id();
    assertEquals(1, await(store.purge(T, id, null, null, "ann", NOW, "quarantine.delete")));
    assertNull(await(store.get(T, id)));
    assertEquals(1, await(store.purge(T, null, "a", NOW + 5, "ann", NOW, "quarantine.purge")));
    assertEquals(List.of("r2"), await(store.list(T, null, 10, null)).items().stream()
        .map(QuarantineStore.Item::reason).toList());
    assertEquals(List.of("quarantine.purge", "quarantine.delete"),
        await(audit.recent(T, 10, null, "quarantine.")).stream().map(AuditLog.Entry::action).toList());
  }

  @Test
  @DisplayName("NUL, unpaired surrogates and backslashes in stream, reason and payload are stored escaped, listed "
      + "with escaped:true, and the original comes back exactly; the other entries of the batch are stored too")
  void unstorableTextIsEscaped() throws Exception {
    String payload = "{\"stream\":\"q\u0000\",\"values\":{\"a\":1},\"x\":\"\ud800\\\\0\"}";
    assertFalse(PgText.storable(payload));
    Isolating.Outcome<QuarantineStore.Row> o = await(store.save(List.of(
        entry(NOW, "ok", "values: required", "{}"),
        entry(NOW + 1, "q\u0000", "stream: \"q\u0000\" does not match", payload),
        entry(NOW + 2, "ok2", "values: required", "{\"a\":\"\\0\"}"))));
    assertEquals(3, o.written());
    assertTrue(o.refused().isEmpty());
    QuarantineStore.Page page = await(store.list(T, null, 10, null));
    assertEquals(3, page.rows());
    QuarantineStore.Item odd = page.items().stream().filter(QuarantineStore.Item::escaped).findFirst().orElseThrow();
    assertEquals(payload, odd.originalPayload());
    assertEquals("q\u0000", odd.originalStream());
    assertTrue(odd.toJson().getBoolean("escaped"));
    assertTrue(PgText.storable(odd.payload()));
    QuarantineStore.Item plain = page.items().stream().filter(i -> "ok2".equals(i.stream())).findFirst()
        .orElseThrow();
    assertFalse(plain.escaped());
    assertEquals("{\"a\":\"\\0\"}", plain.payload(), "a storable payload is stored as it is");
    // the same poisoned rejection again merges into its row
    await(store.save(List.of(entry(NOW + 9, "q\u0000", "stream: \"q\u0000\" does not match", payload))));
    assertEquals(2, await(store.get(T, odd.id())).count());
  }

  @Test
  @DisplayName("a row the database refuses for its content is given up alone; the rest of the batch is stored")
  void refusedRowIsIsolated() throws Exception {
    db.exec("alter table quarantine add constraint test_poison check (reason <> 'poison')");
    List<Quarantine.Entry> batch = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add(entry(NOW + i, "s", i == 13 ? "poison" : "r" + i, "{}"));
    }
    batch.add(entry(NOW + 30, "s", "poison", "{}")); // a repeat: the same row, refused once for both entries
    Isolating.Outcome<QuarantineStore.Row> o = await(store.save(batch));
    assertEquals(19, o.written());
    assertEquals(1, o.refused().size());
    assertEquals(2, o.refused().get(0).row().entries());
    assertTrue(o.remaining().isEmpty());
    assertEquals(19, await(store.list(T, "s", 100, null)).rows());
  }

  @Test
  @DisplayName("the same payload and reason in two streams (or none) are two rows")
  void fingerprints() {
    assertNotEquals(QuarantineStore.fingerprint("a", "r", "p", false), QuarantineStore.fingerprint("b", "r", "p", false));
    assertNotEquals(QuarantineStore.fingerprint(null, "r", "p", false), QuarantineStore.fingerprint("null", "r", "p", false));
    assertEquals(QuarantineStore.fingerprint("a", "r", "p", false), QuarantineStore.fingerprint("a", "r", "p", false));
  }

  @Test
  @DisplayName("the in-memory ring hands the writer what is new, and counts what it overwrote first")
  void ringSince() {
    Quarantine q = new Quarantine(4, 100);
    for (int i = 0; i < 3; i++) {
      q.add(NOW + i, T, "s", "http", "r" + i, "{}");
    }
    Quarantine.Since first = q.since(0, 2);
    assertEquals(List.of("r0", "r1"), first.entries().stream().map(Quarantine.Entry::reason).toList());
    assertEquals(0, first.missed());
    for (int i = 3; i < 9; i++) {
      q.add(NOW + i, T, "s", "http", "r" + i, "{}");
    }
    Quarantine.Since second = q.since(first.next(), 10);
    assertEquals(3, second.missed(), "r2, r3 and r4 were overwritten before the writer came back");
    assertEquals(List.of("r5", "r6", "r7", "r8"), second.entries().stream().map(Quarantine.Entry::reason).toList());
    assertEquals(9, second.next());
    assertEquals(0, q.since(second.next(), 10).entries().size());
  }
}

package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.store.DefinitionStore.Definition;
import io.pulse.store.DefinitionStore.Kind;
import io.pulse.store.DefinitionStore.Refused;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Rules and dashboards with versions and the audit log, against a real PostgreSQL. */
class DefinitionStoreTest {

  private static final String T = "default";
  private Vertx vertx;
  private Pool pool;
  private DefinitionStore store;
  private AuditLog audit;
  private long now = 1_795_000_000_000L;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    pool = StoreTesting.migratedPool(vertx, PgFixture.freshDatabase(), 4);
    store = new DefinitionStore(pool);
    audit = new AuditLog(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Refused refused(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (ExecutionException e) {
      return assertInstanceOf(Refused.class, e.getCause());
    }
    throw new AssertionError("expected a refusal");
  }

  private static JsonObject rule(String name) {
    return new JsonObject().put("name", name).put("stream", "payments").put("when", "p99(amount) > 500");
  }

  @Test
  @DisplayName("create, read, update and delete keep every version, and each change has one audit entry")
  void lifecycle() throws Exception {
    Definition v1 = await(store.create(T, Kind.RULE, rule("big payments").put("id", "big-pay"), "ann", now));
    assertEquals("big-pay", v1.id());
    assertEquals(1, v1.version());
    assertFalse(v1.doc().containsKey("id"), "server fields are not part of the stored document");

    Definition v2 = await(store.update(T, Kind.RULE, "big-pay", rule("big payments").put("when", "p99(amount) > 900"),
        1, "bob", now += 1000));
    assertEquals(2, v2.version());
    assertEquals("p99(amount) > 900", await(store.get(T, Kind.RULE, "big-pay")).doc().getString("when"));
    assertEquals(1, await(store.list(T, Kind.RULE)).size());

    Definition gone = await(store.delete(T, Kind.RULE, "big-pay", null, "cy", now += 1000));
    assertTrue(gone.deleted());
    assertEquals(404, refused(store.get(T, Kind.RULE, "big-pay")).status());
    assertTrue(await(store.list(T, Kind.RULE)).isEmpty());

    List<Definition> history = await(store.history(T, Kind.RULE, "big-pay"));
    assertEquals(List.of(1, 2, 3), history.stream().map(Definition::version).toList());
    assertEquals(List.of("ann", "bob", "cy"), history.stream().map(Definition::updatedBy).toList());
    assertTrue(history.get(2).deleted());

    List<AuditLog.Entry> entries = await(audit.recent(T, 10, null, "rule."));
    assertEquals(List.of("rule.delete", "rule.update", "rule.create"),
        entries.stream().map(AuditLog.Entry::action).toList());
    assertEquals(now, entries.get(0).at());
    assertEquals(3, entries.get(0).detail().getInteger("version"));

    Definition again = await(store.create(T, Kind.RULE, rule("big payments").put("id", "big-pay"), "dee", now));
    assertEquals(4, again.version(), "a re-created id continues its history");
  }

  @Test
  @DisplayName("a write based on an old version is refused with 409, and nothing changes")
  void optimisticConcurrency() throws Exception {
    await(store.create(T, Kind.DASHBOARD, new JsonObject().put("name", "NOC").put("id", "noc"), "ann", now));
    await(store.update(T, Kind.DASHBOARD, "noc", new JsonObject().put("name", "NOC 2"), 1, "bob", now));
    Refused r = refused(store.update(T, Kind.DASHBOARD, "noc", new JsonObject().put("name", "NOC 3"), 1, "cy", now));
    assertEquals(409, r.status());
    assertTrue(r.getMessage().contains("version 2"), r.getMessage());
    assertEquals("NOC 2", await(store.get(T, Kind.DASHBOARD, "noc")).doc().getString("name"));
    assertEquals(409, refused(store.create(T, Kind.DASHBOARD, new JsonObject().put("name", "x").put("id", "noc"),
        "cy", now)).status());
    assertEquals(2, await(audit.recent(T, 10, null, null)).size(), "refused writes leave no audit entry");
  }

  @Test
  @DisplayName("concurrent writers of one definition get distinct versions or a 409, never a lost update")
  void concurrentWriters() throws Exception {
    await(store.create(T, Kind.RULE, rule("r").put("id", "r"), "ann", now));
    List<Future<Definition>> writes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      writes.add(store.update(T, Kind.RULE, "r", rule("r" + i), null, "w" + i, now + i));
    }
    Future.join(writes).toCompletionStage().toCompletableFuture().handle((v, e) -> null).get(30, TimeUnit.SECONDS);
    long ok = writes.stream().filter(Future::succeeded).count();
    assertEquals(8, ok, "row locks serialise the writers");
    assertEquals(9, await(store.history(T, Kind.RULE, "r")).size());
    assertEquals(9, await(store.get(T, Kind.RULE, "r")).version());
  }

  @Test
  @DisplayName("bad documents are refused with a reason: no name, bad id, mismatched id, too large, unknown id")
  void badDocuments() throws Exception {
    assertEquals(400, refused(store.create(T, Kind.RULE, new JsonObject().put("stream", "x"), "a", now)).status());
    assertEquals(400, refused(store.create(T, Kind.RULE, rule("x").put("id", "no spaces"), "a", now)).status());
    assertEquals(400, refused(store.create(T, Kind.RULE, rule("x").put("id", 7), "a", now)).status());
    assertEquals(400, refused(store.create(T, Kind.RULE, null, "a", now)).status());
    assertEquals(413, refused(store.create(T, Kind.RULE, rule("x").put("blob", "y".repeat(300_000)), "a", now))
        .status());
    await(store.create(T, Kind.RULE, rule("x").put("id", "x"), "a", now));
    assertEquals(400, refused(store.update(T, Kind.RULE, "x", rule("x").put("id", "other"), null, "a", now))
        .status());
    assertEquals(404, refused(store.update(T, Kind.RULE, "nope", rule("x"), null, "a", now)).status());
    assertEquals(404, refused(store.delete(T, Kind.RULE, "nope", null, "a", now)).status());
    assertEquals(404, refused(store.history(T, Kind.RULE, "nope")).status());
  }

  @Test
  @DisplayName("ids are generated when not given, and rules and dashboards are kept apart")
  void generatedIdsAndKinds() throws Exception {
    Definition r = await(store.create(T, Kind.RULE, rule("one"), "a", now));
    Definition d = await(store.create(T, Kind.DASHBOARD, new JsonObject().put("name", "one"), "a", now));
    assertTrue(r.id().startsWith("r-") && d.id().startsWith("d-"), r.id() + " " + d.id());
    assertEquals(List.of(r.id()), await(store.list(T, Kind.RULE)).stream().map(Definition::id).toList());
    assertEquals(404, refused(store.get(T, Kind.DASHBOARD, r.id())).status());
    assertEquals(List.of(), await(store.list("another-tenant", Kind.RULE)));
  }
}

package io.pulse.store;

import static io.pulse.store.RollupCodecTest.CODEC;
import static io.pulse.store.RollupCodecTest.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.WindowAgg;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.ingest.Quarantine;
import io.pulse.store.RollupStore.Query;
import io.pulse.store.RollupStore.Resolution;
import io.pulse.store.RollupStore.Row;
import io.pulse.store.RollupStore.SeriesKey;
import io.pulse.store.RollupStore.Stored;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two tenants with a stream of the same name never share a stored row: series and their windows,
 * the catalogue, quarantine rows, definitions and the audit log, on a real PostgreSQL (PgFixture).
 */
class TenantStoreTest {

  private static final long NOW = 1_763_805_600_000L;
  private static final StreamId A = StreamId.of("acme", "checkout");
  private static final StreamId B = StreamId.of("globex", "checkout");

  private static Vertx vertx;
  private static PgFixture.Db db;
  private static Pool pool;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    db = PgFixture.freshDatabase();
    Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), null);
    Database.Target t = new Database.Target(db.host(), db.port(), db.name(), db.user(), db.password(),
        io.pulse.config.PulseConfig.SslMode.DISABLE, "");
    pool = Database.buildPool(vertx, t, 4);
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("rollups: the same stream, dims and window in two tenants are two series; each reads its own only")
  void rollupsApart() throws Exception {
    RollupStore store = new RollupStore(pool);
    Random rnd = new Random(5);
    WindowAgg wa = window(0, 1000, 3, rnd);
    WindowAgg wb = window(0, 1000, 7, rnd);
    Dims eu = Dims.of("region", "eu");
    await(store.write(List.of(Row.of(SeriesKey.series(A, eu), wa, CODEC), Row.of(SeriesKey.series(B, eu), wb, CODEC),
        Row.of(SeriesKey.group(A, List.of(), Dims.EMPTY), wa, CODEC))));
    assertEquals(3, db.queryLong("select count(*) from series where stream = 'checkout'"));
    assertEquals(2, db.queryLong("select count(*) from series where stream = 'checkout' and tenant = 'acme'"));

    List<Stored> ra = await(store.query(new Query(A, Resolution.SECOND, 0, 10_000, Map.of(), List.of("region"), 100)));
    List<Stored> rb = await(store.query(new Query(B, Resolution.SECOND, 0, 10_000, Map.of(), List.of("region"), 100)));
    assertEquals(1, ra.size());
    assertEquals(3, ra.get(0).count());
    assertEquals(1, rb.size());
    assertEquals(7, rb.get(0).count());
    // the stream total: acme's stored group; globex has none, so its series rows
    List<Stored> ta = await(store.query(new Query(A, Resolution.SECOND, 0, 10_000, Map.of(), List.of(), 100)));
    List<Stored> tb = await(store.query(new Query(B, Resolution.SECOND, 0, 10_000, Map.of(), List.of(), 100)));
    assertEquals(List.of(3L), ta.stream().map(Stored::count).toList());
    assertTrue(ta.get(0).grouped());
    assertEquals(List.of(7L), tb.stream().map(Stored::count).toList());
    assertTrue(!tb.get(0).grouped(), "never acme's stored total");
    List<Stored> none = await(store.query(new Query(StreamId.of("checkout"), Resolution.SECOND, 0, 10_000, Map.of(),
        List.of(), 100)));
    assertEquals(0, none.size(), "the default tenant has no checkout");

    // a second store (a restart: ids resolved from the database) keeps them apart too
    RollupStore again = new RollupStore(pool);
    WindowAgg wb2 = window(1000, 1000, 4, rnd);
    await(again.write(List.of(Row.of(SeriesKey.series(B, eu), wb2, CODEC))));
    assertEquals(3, db.queryLong("select count(*) from series where stream = 'checkout'"));
    assertEquals(1, await(again.query(new Query(A, Resolution.SECOND, 0, 10_000, Map.of(), List.of("region"), 100)))
        .size());
  }

  @Test
  @DisplayName("catalogue: each tenant's stream of one name is its own row, loaded back under its StreamId")
  void catalogueApart() throws Exception {
    CatalogStore store = new CatalogStore(pool);
    await(store.save(List.of(
        new CatalogStore.Stream(StreamId.of("acme", "orders"), Map.of("region", List.of("eu")), List.of("amount"),
            NOW, NOW + 10),
        new CatalogStore.Stream(StreamId.of("globex", "orders"), Map.of("shop", List.of("s1")), List.of("items"),
            NOW + 5, NOW + 20))));
    Map<StreamId, CatalogStore.Stream> loaded = await(store.load());
    CatalogStore.Stream a = loaded.get(StreamId.of("acme", "orders"));
    CatalogStore.Stream b = loaded.get(StreamId.of("globex", "orders"));
    assertEquals(Map.of("region", List.of("eu")), a.dims());
    assertEquals(List.of("amount"), a.valueNames());
    assertEquals(Map.of("shop", List.of("s1")), b.dims());
    assertEquals(NOW + 20, b.lastSeen());
    assertNull(loaded.get(StreamId.of("orders")));
    assertEquals(2, db.queryLong("select count(*) from streams where name = 'orders'"));
  }

  @Test
  @DisplayName("quarantine: one payload rejected for one reason in two tenants is two rows; list, get, requeue and "
      + "purge see the caller's tenant only")
  void quarantineApart() throws Exception {
    QuarantineStore store = new QuarantineStore(pool);
    String payload = "{\"stream\":\"pay\",\"values\":{\"v\":\"x\"}}";
    await(store.save(List.of(new Quarantine.Entry(0, NOW, "acme", "pay", "http", "values.v: must be a number", payload),
        new Quarantine.Entry(1, NOW + 1, "globex", "pay", "http", "values.v: must be a number", payload),
        new Quarantine.Entry(2, NOW + 2, "globex", "pay", "http", "values.v: must be a number", payload))));
    QuarantineStore.Page pa = await(store.list("acme", "pay", 10, null));
    QuarantineStore.Page pb = await(store.list("globex", "pay", 10, null));
    assertEquals(1, pa.items().size());
    assertEquals(1, pa.items().get(0).count(), "not merged with globex's");
    assertEquals(1, pb.items().size());
    assertEquals(2, pb.items().get(0).count());
    long idA = pa.items().get(0).id();
    long idB = pb.items().get(0).id();
    assertNull(await(store.get("globex", idA)));
    assertEquals(List.of(), await(store.claim("globex", List.of(idA), "anonymous", NOW)));
    assertEquals(0L, await(store.purge("globex", idA, null, null, "anonymous", NOW, "quarantine.delete")));
    assertEquals(1L, await(store.purge("acme", null, "pay", null, "anonymous", NOW, "quarantine.purge")));
    assertEquals(0, await(store.list("acme", null, 10, null)).items().size());
    assertEquals(idB, await(store.list("globex", null, 10, null)).items().get(0).id(), "globex's row is untouched");
    assertEquals(0, await(store.list(StreamId.DEFAULT_TENANT, null, 10, null)).items().size());
  }

  @Test
  @DisplayName("definitions and the audit log are per tenant: a rule and its audit entry are seen by their tenant only")
  void definitionsApart() throws Exception {
    DefinitionStore defs = new DefinitionStore(pool);
    AuditLog audit = new AuditLog(pool);
    DefinitionStore.Definition made = await(defs.create("acme", DefinitionStore.Kind.RULE,
        new JsonObject().put("name", "slow checkout"), "alice", NOW));
    assertEquals(1, await(defs.list("acme", DefinitionStore.Kind.RULE)).size());
    assertEquals(0, await(defs.list("globex", DefinitionStore.Kind.RULE)).size());
    java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class, () -> await(defs.get("globex", DefinitionStore.Kind.RULE, made.id())));
    assertEquals(404, ((DefinitionStore.Refused) e.getCause()).status(), "globex cannot read acme's rule");
    assertEquals("slow checkout", await(defs.get("acme", DefinitionStore.Kind.RULE, made.id())).doc().getString("name"));
    assertEquals(1, await(audit.recent("acme", 10, null, "rule.")).size());
    assertEquals(0, await(audit.recent("globex", 10, null, "rule.")).size());
  }
}

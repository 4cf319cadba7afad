package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Database start-up: the embedded server on a data folder, and an external server by URL. */
class DatabaseTest {

  private Vertx vertx;

  @BeforeEach
  void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
  }

  private static PulseConfig.Storage embedded() {
    return PulseConfig.of(new JsonObject()).storage();
  }

  @Test
  @DisplayName("embedded: the data folder survives a stop and a start, and the schema is migrated once")
  void embeddedSurvivesRestart() throws Exception {
    Path data = Files.createTempDirectory("pulse-db");
    Database db = await(Database.start(vertx, embedded(), data));
    try {
      assertTrue(db.embedded());
      assertTrue(db.description().contains(data.resolve("pg").toString()), db.description());
      await(db.pool().query("insert into streams (name, first_seen, last_seen) values ('kept', now(), now())")
          .execute());
    } finally {
      db.close();
    }
    assertTrue(Files.exists(data.resolve("pg").resolve("PG_VERSION")));
    assertFalse(Files.exists(data.resolve("pg").resolve("postmaster.pid")), "stopped cleanly");

    Database again = await(Database.start(vertx, embedded(), data));
    try {
      Row r = await(again.pool().query("select count(*) from streams where name = 'kept'").execute()).iterator().next();
      assertEquals(1L, r.getLong(0));
      Row v = await(again.pool().query("select count(*), count(distinct version) from flyway_schema_history "
          + "where success").execute()).iterator().next();
      assertEquals(v.getLong(1), v.getLong(0), "each migration applied once, not again on the second start");
      assertTrue(v.getLong(0) >= 1);
    } finally {
      again.close();
    }
  }

  @Test
  @DisplayName("embedded: a stale postmaster.pid (a killed Pulse, a reboot) does not stop the next start")
  void stalePidFile() throws Exception {
    Path data = Files.createTempDirectory("pulse-db");
    Path pid = data.resolve("pg").resolve("postmaster.pid");
    Database first = await(Database.start(vertx, embedded(), data));
    try {
      await(first.pool().query("insert into streams (name, first_seen, last_seen) values ('before', now(), now())")
          .execute());
    } finally {
      first.close();
    }
    // what a crash leaves: a pid file naming a process that no longer exists
    Files.writeString(pid, "999999999\n" + data.resolve("pg") + "\n");
    Database db = await(Database.start(vertx, embedded(), data));
    try {
      await(db.ping());
      long postmaster = Long.parseLong(Files.readAllLines(pid).get(0).trim());
      assertTrue(postmaster != 999999999L && ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false),
          "a live postmaster replaced the stale pid file: " + postmaster);
      Row r = await(db.pool().query("select count(*) from streams where name = 'before'").execute()).iterator().next();
      assertEquals(1L, r.getLong(0), "the same data folder, not a new one: what was stored before is there");
    } finally {
      db.close();
    }
    assertFalse(Files.exists(pid), "stopped cleanly after the stale start");
  }

  @Test
  @DisplayName("embedded: a second Pulse on the same data folder is refused with a clear reason")
  void folderInUse() throws Exception {
    Path data = Files.createTempDirectory("pulse-db");
    Database first = await(Database.start(vertx, embedded(), data));
    try {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> await(Database.start(vertx, embedded(), data)));
      assertTrue(Database.rootMessage(e).contains("in use by another Pulse"), Database.rootMessage(e));
      await(first.ping());
    } finally {
      first.close();
    }
  }

  @Test
  @DisplayName("external: storage.url reaches the server, migrates it, and the pool answers")
  void external() throws Exception {
    PgFixture.Db pg = PgFixture.freshDatabase();
    PulseConfig.Storage cfg = PulseConfig.of(pg.storageConfig()).storage();
    Database db = await(Database.start(vertx, cfg, Files.createTempDirectory("pulse-db")));
    try {
      assertFalse(db.embedded());
      assertEquals("PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + pg.name(), db.description());
      assertEquals(0L, await(db.pool().query("select count(*) from series").execute()).iterator().next().getLong(0));
    } finally {
      db.close();
    }
  }

  @Test
  @DisplayName("external: a server that is not there fails the start naming storage.url, without the password")
  void externalAway() throws Exception {
    int port = io.pulse.testing.TestPulse.freePort();
    PulseConfig.Storage cfg = PulseConfig.of(new JsonObject().put("storage", new JsonObject()
        .put("url", "postgresql://pulse:sekret@127.0.0.1:" + port + "/pulse"))).storage();
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(Database.start(vertx, cfg,
        Files.createTempDirectory("pulse-db"), java.time.Duration.ofSeconds(2))));
    String msg = e.getCause().getMessage();
    assertTrue(msg.contains("storage.url") && msg.contains("127.0.0.1:" + port + "/pulse"), msg);
    assertFalse(msg.contains("sekret"), msg);
  }
}

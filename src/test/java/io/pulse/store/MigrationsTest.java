package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Flyway migrations against a real PostgreSQL (PgFixture). */
class MigrationsTest {

  private static final String[] TABLES = {"series", "rollup_1s", "rollup_1m", "rollup_1h", "streams", "quarantine",
      "definitions", "definition_versions", "audit", "webhooks", "webhook_deliveries"};

  private static MigrateResult migrate(PgFixture.Db db, String target) {
    return Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), target);
  }

  @Test
  @DisplayName("an empty database migrates to the newest schema, every table with a tenant column")
  void emptyDatabase() {
    PgFixture.Db db = PgFixture.freshDatabase();
    MigrateResult r = migrate(db, null);
    assertTrue(r.migrationsExecuted >= 1);
    for (String t : TABLES) {
      assertEquals(1, db.queryLong("select count(*) from information_schema.columns where table_name = '" + t
          + "' and column_name = 'tenant' and is_nullable = 'NO' and column_default like '''default''%'"), t);
    }
  }

  @Test
  @DisplayName("a database at V1 holding V1's rows keeps them when migrated to the newest, gains V2's changes "
      + "(quarantine.escaped false for old rows), and a re-run is a no-op")
  void olderSchema() {
    PgFixture.Db db = PgFixture.freshDatabase();
    MigrateResult v1 = migrate(db, "1");
    assertEquals(1, v1.migrationsExecuted, "only V1 applied");
    assertEquals("1", queryText(db, "select max(version) from flyway_schema_history where success"));
    assertEquals(0, db.queryLong("select count(*) from information_schema.columns where table_name = 'quarantine' "
        + "and column_name = 'escaped'"), "a real V1 schema: no V2 column yet");
    // rows as V1 had them (no tenant given: its default; no escaped column)
    db.exec("insert into series (stream, kind, group_by, dims) values ('checkout', 'series', '{region}', "
        + "'{\"region\":\"eu\"}')");
    db.exec("insert into rollup_1s (series_id, start, count, latest, data) select id, 1000, 3, 1999, '\\x01'::bytea "
        + "from series");
    db.exec("insert into streams (name, dims, value_names, first_seen, last_seen) values ('checkout', "
        + "'{\"region\":[\"eu\"]}', '[\"amount\"]', now(), now())");
    db.exec("insert into quarantine (stream, source, reason, payload, fingerprint, first_seen, last_seen, count) "
        + "values ('checkout', 'http', 'values.amount: must be a number', '{\"values\":{\"amount\":\"x\"}}', 'fp1', "
        + "now(), now(), 2)");
    db.exec("insert into definitions (kind, id, version, doc, updated_by) values ('rule', 'r1', 1, "
        + "'{\"name\":\"r1\"}', 'anonymous')");

    MigrateResult latest = migrate(db, null);
    assertTrue(latest.success);
    assertTrue(latest.migrationsExecuted >= 1, "V2 and later applied");
    assertTrue(db.queryLong("select count(*) from flyway_schema_history where success and version = '2'") == 1,
        "V2 recorded");
    // V1's data, whole
    assertEquals(1, db.queryLong("select count(*) from rollup_1s r join series s on s.id = r.series_id "
        + "where r.count = 3 and r.latest = 1999 and s.stream = 'checkout' and s.dims->>'region' = 'eu'"));
    assertEquals("eu", queryText(db, "select dims->'region'->>0 from streams where name = 'checkout'"));
    assertEquals(2, db.queryLong("select count from quarantine where fingerprint = 'fp1' "
        + "and payload = '{\"values\":{\"amount\":\"x\"}}'"));
    assertEquals("r1", queryText(db, "select doc->>'name' from definitions where id = 'r1'"));
    assertEquals("default", queryText(db, "select tenant from series"));
    // V2: the escaped flag, false for the rows stored before it (they were stored as they are)
    assertEquals("false", queryText(db, "select escaped::text from quarantine where fingerprint = 'fp1'"));
    db.exec("insert into quarantine (stream, source, reason, payload, fingerprint, first_seen, last_seen, escaped) "
        + "values ('checkout', 'http', 'r', 'p\\0', 'fp2', now(), now(), true)");
    assertEquals(2, db.queryLong("select count(*) from quarantine"));

    assertEquals(0, migrate(db, null).migrationsExecuted, "nothing left to apply");
  }

  @Test
  @DisplayName("an applied migration whose file changed fails validation instead of running on")
  void checksumsValidated() {
    PgFixture.Db db = PgFixture.freshDatabase();
    migrate(db, null);
    db.exec("update flyway_schema_history set checksum = checksum + 1 where version = '1'");
    assertThrows(FlywayValidateException.class, () -> migrate(db, null));
  }

  @Test
  @DisplayName("a series is unique by tenant, stream, kind, group-by and dims, whatever the key order of dims")
  void seriesIdentity() {
    PgFixture.Db db = PgFixture.freshDatabase();
    migrate(db, null);
    db.exec("insert into series (stream, kind, group_by, dims) values ('s', 'series', '{a,b}', '{\"a\":\"1\",\"b\":\"2\"}')");
    db.exec("insert into series (stream, kind, group_by, dims) values ('s', 'series', '{a,b}', '{\"b\":\"2\",\"a\":\"1\"}') "
        + "on conflict (tenant, stream, kind, group_by, md5(dims::text)) do nothing");
    db.exec("insert into series (stream, kind, group_by, dims) values ('s', 'group', '{a,b}', '{\"a\":\"1\",\"b\":\"2\"}')");
    assertEquals(2, db.queryLong("select count(*) from series"));
  }

  private static String queryText(PgFixture.Db db, String sql) {
    try (var c = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

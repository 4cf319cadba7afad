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
      "definitions", "definition_versions", "audit"};

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
  @DisplayName("a database at an older schema keeps its rows when migrated to the newest; a re-run is a no-op")
  void olderSchema() {
    PgFixture.Db db = PgFixture.freshDatabase();
    assertEquals(1, migrate(db, "1").migrationsExecuted);
    db.exec("insert into series (stream, kind, group_by, dims) values ('checkout', 'series', '{region}', "
        + "'{\"region\":\"eu\"}')");
    db.exec("insert into rollup_1s (series_id, start, count, latest, data) select id, 1000, 3, 1999, '\\x01'::bytea "
        + "from series");
    MigrateResult latest = migrate(db, null);
    assertTrue(latest.success);
    assertEquals(1, db.queryLong("select count(*) from rollup_1s where count = 3"));
    assertEquals(0, migrate(db, null).migrationsExecuted, "nothing left to apply");
    assertEquals("default", queryText(db, "select tenant from series"));
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

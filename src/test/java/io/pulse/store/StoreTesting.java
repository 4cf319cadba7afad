package io.pulse.store;

import io.pulse.config.PulseConfig;
import io.pulse.testing.PgFixture;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/** A pool on a fresh database at the newest schema, for the store's tests. */
final class StoreTesting {

  private StoreTesting() {
  }

  static Pool migratedPool(Vertx vertx, PgFixture.Db db, int size) {
    Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), null);
    return Database.buildPool(vertx, new Database.Target(db.host(), db.port(), db.name(), db.user(), db.password(),
        PulseConfig.SslMode.DISABLE, ""), size);
  }
}

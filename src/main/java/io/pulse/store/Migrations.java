package io.pulse.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The schema: versioned SQL files in {@code src/main/resources/db/migration}, applied by Flyway over
 * JDBC at start (blocking: call it from a worker thread). Queries never use JDBC; only this does.
 */
public final class Migrations {

  /** Where the migrations live on the classpath (inside the jar too). */
  public static final String LOCATION = "classpath:db/migration";

  private Migrations() {
  }

  /**
   * Brings the schema to {@code target} (null: the newest version), validating the checksums of
   * the migrations already applied. A second run with nothing new applies nothing.
   */
  public static MigrateResult migrate(String jdbcUrl, String user, String password, String target) {
    var conf = Flyway.configure(Migrations.class.getClassLoader())
        .dataSource(jdbcUrl, user, password)
        .locations(LOCATION)
        .failOnMissingLocations(true)
        .validateMigrationNaming(true)
        .cleanDisabled(true)
        .connectRetries(0);
    if (target != null) {
      conf.target(target);
    }
    return conf.load().migrate();
  }
}

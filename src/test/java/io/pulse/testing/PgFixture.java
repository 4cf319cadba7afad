package io.pulse.testing;

import io.pulse.config.PgUrl;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A real PostgreSQL for tests: a Testcontainers container where Docker is available (and
 * {@code PULSE_USE_DOCKER} is not "false"), else zonky's embedded PostgreSQL on a random port.
 * This class is the one place that decides; tests only see a server and fresh databases on it.
 *
 * <p>One server per test JVM, started on first use and stopped when the JVM exits; every
 * {@link #freshDatabase()} is a new, empty database on it, so test classes never see each other's
 * rows.
 */
public final class PgFixture {

  /** One database on the shared server. */
  public record Db(String kind, String host, int port, String name, String user, String password) {

    public String jdbcUrl() {
      return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    /** {@code postgresql://user:password@host:port/db}, what PULSE_PG_URL takes. */
    public String url() {
      return "postgresql://" + user + ":" + password + "@" + host + ":" + port + "/" + name;
    }

    public PgUrl pgUrl() {
      return PgUrl.parse(url());
    }

    /** Configuration overrides that point Pulse at this database. */
    public JsonObject storageConfig() {
      return new JsonObject().put("storage", new JsonObject().put("enabled", true).put("url", url()));
    }

    /** Runs SQL over JDBC (for setting up and inspecting from tests). */
    public void exec(String sql) {
      try (Connection c = DriverManager.getConnection(jdbcUrl(), user, password);
          Statement s = c.createStatement()) {
        s.execute(sql);
      } catch (SQLException e) {
        throw new IllegalStateException(sql + ": " + e.getMessage(), e);
      }
    }

    /** The first column of the first row of a query, as text (null when there is no row). */
    public String queryString(String sql) {
      try (Connection c = DriverManager.getConnection(jdbcUrl(), user, password);
          Statement s = c.createStatement();
          var rs = s.executeQuery(sql)) {
        return rs.next() ? rs.getString(1) : null;
      } catch (SQLException e) {
        throw new IllegalStateException(sql + ": " + e.getMessage(), e);
      }
    }

    /** The first column of the first row of a query, as a long. */
    public long queryLong(String sql) {
      try (Connection c = DriverManager.getConnection(jdbcUrl(), user, password);
          Statement s = c.createStatement();
          var rs = s.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      } catch (SQLException e) {
        throw new IllegalStateException(sql + ": " + e.getMessage(), e);
      }
    }
  }

  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static Db server;

  private PgFixture() {
  }

  public static boolean dockerAvailable() {
    if ("false".equals(System.getenv("PULSE_USE_DOCKER"))) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  /** The shared server's admin database, started on first call. */
  public static synchronized Db server() {
    if (server == null) {
      try {
        server = start();
      } catch (Exception e) {
        throw new IllegalStateException("no PostgreSQL for tests: " + e, e);
      }
    }
    return server;
  }

  private static Db start() throws Exception {
    if (dockerAvailable()) {
      PostgreSQLContainer c = new PostgreSQLContainer("postgres:17-alpine");
      c.start();
      Runtime.getRuntime().addShutdownHook(new Thread(c::stop, "pg-fixture-stop"));
      return new Db("testcontainers", c.getHost(), c.getFirstMappedPort(), c.getDatabaseName(), c.getUsername(),
          c.getPassword());
    }
    EmbeddedPostgres pg = EmbeddedPostgres.builder().start(); // random port, its own shutdown hook
    return new Db("zonky", "localhost", pg.getPort(), "postgres", "postgres", "postgres");
  }

  /** A new, empty database on the shared server. */
  public static Db freshDatabase() {
    Db admin = server();
    String name = "t" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    admin.exec("create database " + name);
    return new Db(admin.kind(), admin.host(), admin.port(), name, admin.user(), admin.password());
  }
}

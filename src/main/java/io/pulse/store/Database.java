package io.pulse.store;

import io.pulse.config.ConfigException;
import io.pulse.config.PgUrl;
import io.pulse.config.PulseConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulse's PostgreSQL: the embedded one under {@code <dataDir>/pg} when {@code storage.url} is empty,
 * else the server it names. {@link #start} brings it up, migrates the schema and builds the
 * vertx-pg-client pool every query uses; the blocking parts (starting the embedded server, Flyway
 * over JDBC) run on a worker thread, never on an event loop.
 */
public final class Database {

  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  /** The database the embedded server keeps Pulse's tables in. */
  static final String EMBEDDED_DB = "pulse";

  /** Where and as whom to connect, embedded or not. */
  public record Target(String host, int port, String database, String user, String password,
      PulseConfig.SslMode ssl, String caFile) {

    public String where() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/" + database;
    }

    /** JDBC URL with the same TLS rules as the pool, for Flyway. */
    public String jdbcUrl() {
      StringBuilder sb = new StringBuilder("jdbc:postgresql://").append(where()).append("?connectTimeout=10");
      switch (ssl) {
        case REQUIRE:
          sb.append("&sslmode=require&sslfactory=org.postgresql.ssl.NonValidatingFactory");
          break;
        case VERIFY_FULL:
          sb.append("&sslmode=verify-full");
          if (caFile.isBlank()) {
            sb.append("&sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory");
          } else {
            sb.append("&sslrootcert=").append(URLEncoder.encode(caFile, StandardCharsets.UTF_8));
          }
          break;
        default:
          sb.append("&sslmode=disable");
      }
      return sb.toString();
    }
  }

  private final Target target;
  private final Pool pool;
  private final EmbeddedPostgres embedded;
  private final String description;
  private final long queryTimeoutMs;

  private Database(Target target, Pool pool, EmbeddedPostgres embedded, String description, long queryTimeoutMs) {
    this.target = target;
    this.pool = pool;
    this.embedded = embedded;
    this.description = description;
    this.queryTimeoutMs = queryTimeoutMs;
  }

  /**
   * Starts (or reaches) the database, migrates it and builds the pool; fails with a message that
   * names the setting to look at. {@code dataDir} holds the embedded server's files.
   */
  public static Future<Database> start(Vertx vertx, PulseConfig.Storage cfg, Path dataDir) {
    return start(vertx, cfg, dataDir, Duration.ofSeconds(20));
  }

  /**
   * As {@link #start(Vertx, PulseConfig.Storage, Path)}, waiting up to {@code patience} for an
   * external server that does not answer yet (one starting beside Pulse).
   */
  public static Future<Database> start(Vertx vertx, PulseConfig.Storage cfg, Path dataDir, Duration patience) {
    return vertx.executeBlocking(() -> prepare(cfg, dataDir, patience), false).compose(p -> {
      Pool pool = buildPool(vertx, p.target, cfg.poolSize(), cfg.queryTimeoutMs());
      Database db = new Database(p.target, pool, p.embedded, p.description, cfg.queryTimeoutMs());
      return db.ping().map(v -> {
        LOG.info("storage: {}; schema at version {}{}", db.description, p.schemaVersion,
            p.applied > 0 ? " (" + p.applied + " migration" + (p.applied > 1 ? "s" : "") + " applied now)" : "");
        return db;
      }).recover(e -> vertx.executeBlocking(() -> {
        db.close(); // stopping the embedded server blocks: not on this event loop
        return null;
      }, false).transform(x -> Future.failedFuture(new IllegalStateException("storage: " + db.description
          + " does not answer: " + e.getMessage(), e))));
    });
  }

  private record Prepared(Target target, EmbeddedPostgres embedded, String description, String schemaVersion,
      int applied) {
  }

  /** Blocking: embedded start or reachability check, then migrations. */
  private static Prepared prepare(PulseConfig.Storage cfg, Path dataDir, Duration patience) throws Exception {
    EmbeddedPostgres embedded = null;
    Target target;
    String description;
    if (cfg.embedded()) {
      Path pgDir = dataDir.toAbsolutePath().normalize().resolve("pg");
      embedded = EmbeddedServer.start(pgDir, dataDir.toAbsolutePath().normalize().resolve("postgres.log"));
      target = new Target("localhost", embedded.getPort(), EMBEDDED_DB, "postgres", "",
          PulseConfig.SslMode.DISABLE, "");
      description = "embedded PostgreSQL in " + pgDir + " (port " + embedded.getPort() + ")";
    } else {
      PgUrl u = cfg.url();
      target = new Target(u.host(), u.port(), u.database(), u.user(), u.password(), cfg.ssl().mode(),
          cfg.ssl().caFile());
      description = "PostgreSQL at " + u.where() + (cfg.ssl().mode() == PulseConfig.SslMode.DISABLE ? ""
          : " (TLS " + cfg.ssl().mode().name().toLowerCase().replace('_', '-') + ")");
    }
    try {
      if (embedded != null) {
        ensureDatabase(embedded.getPort());
      }
      MigrateResult r = migrateWithRetry(target, cfg.embedded() ? Duration.ZERO : patience);
      String version = r.targetSchemaVersion != null ? r.targetSchemaVersion
          : r.initialSchemaVersion != null ? r.initialSchemaVersion : "?";
      return new Prepared(target, embedded, description, version, r.migrationsExecuted);
    } catch (Exception e) {
      if (embedded != null) {
        EmbeddedServer.stop(embedded);
      }
      throw e;
    }
  }

  /** External servers may still be starting (a compose file, a pod): retry for a while, then say what is wrong. */
  private static MigrateResult migrateWithRetry(Target t, Duration patience) throws InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    boolean told = false;
    while (true) {
      try {
        return Migrations.migrate(t.jdbcUrl(), t.user(), t.password(), null);
      } catch (RuntimeException e) {
        if (System.nanoTime() >= deadline || !isConnectionProblem(e)) {
          throw new IllegalStateException("storage: cannot migrate the schema at " + t.where()
              + " (storage.url / PULSE_PG_URL): " + rootMessage(e), e);
        }
        if (!told) {
          LOG.warn("storage: {} does not answer yet ({}); retrying for up to {} s", t.where(), rootMessage(e),
              patience.toSeconds());
          told = true;
        }
        Thread.sleep(1000);
      }
    }
  }

  private static boolean isConnectionProblem(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException || c instanceof java.net.UnknownHostException
          || (c instanceof SQLException && ((SQLException) c).getSQLState() != null
              && ((SQLException) c).getSQLState().startsWith("08"))) {
        return true;
      }
    }
    return false;
  }

  static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  /** The embedded server comes with database "postgres"; Pulse keeps its tables in their own. */
  private static void ensureDatabase(int port) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres",
        "postgres", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + EMBEDDED_DB + "'")) {
      if (!rs.next()) {
        try (Statement create = c.createStatement()) {
          create.execute("create database " + EMBEDDED_DB);
        }
      }
    }
  }

  /** Queries waiting for a pooled connection at most; past it a query fails at once (answered 503). */
  public static final int MAX_WAITING = 1000;

  /** As {@link #buildPool(Vertx, Target, int, long)} with the default bound, 3 s. */
  public static Pool buildPool(Vertx vertx, Target t, int size) {
    return buildPool(vertx, t, size, 3_000);
  }

  /**
   * The vertx-pg-client pool for a target: size, TLS as configured, a 5 s connect timeout, and at
   * most {@code acquireTimeoutMs} waiting for a connection (all of them busy with queries a hung
   * database does not answer): the caller gets a failure rather than a wait in the pool's queue.
   */
  public static Pool buildPool(Vertx vertx, Target t, int size, long acquireTimeoutMs) {
    PgConnectOptions connect = new PgConnectOptions().setHost(t.host()).setPort(t.port()).setDatabase(t.database())
        .setUser(t.user()).setPassword(t.password()).setPipeliningLimit(16).setCachePreparedStatements(true);
    connect.addProperty("application_name", "pulse");
    switch (t.ssl()) {
      case REQUIRE:
        connect.setSslMode(SslMode.REQUIRE).setSslOptions(new ClientSSLOptions().setTrustAll(true));
        break;
      case VERIFY_FULL:
        connect.setSslMode(SslMode.VERIFY_FULL).setSslOptions(new ClientSSLOptions()
            .setTrustOptions(trust(t.caFile())).setHostnameVerificationAlgorithm("HTTPS"));
        break;
      default:
        connect.setSslMode(SslMode.DISABLE);
    }
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(size).setName("pulse-pg").setShared(false)
            .setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, acquireTimeoutMs))
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS).setMaxWaitQueueSize(MAX_WAITING))
        .with(new NetClientOptions().setConnectTimeout(5000)) // a database that is away fails fast, then retried
        .connectingTo(connect).using(vertx).build();
  }

  private static TrustOptions trust(String caFile) {
    if (!caFile.isBlank()) {
      return new PemTrustOptions().addCertPath(caFile);
    }
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null); // the JVM's own trust store
      return TrustOptions.wrap(tmf);
    } catch (Exception e) {
      throw new ConfigException("storage.ssl: cannot load the JVM's trust store: " + e.getMessage());
    }
  }

  /** One round trip: succeeds when the database answers, fails with {@link StoreErrors.NoAnswer} past the bound. */
  public Future<Void> ping() {
    return StoreErrors.bounded(pool.query("select 1").execute().<Void>mapEmpty(), queryTimeoutMs);
  }

  /** How long a read may wait for the database ({@code storage.queryTimeoutMs}). */
  public long queryTimeoutMs() {
    return queryTimeoutMs;
  }

  public Pool pool() {
    return pool;
  }

  public Target target() {
    return target;
  }

  /** Which database, for logs: embedded with its folder, or host:port/db (never the password). */
  public String description() {
    return description;
  }

  public boolean embedded() {
    return embedded != null;
  }

  /**
   * Closes the pool, then stops the embedded server if there is one. Blocks (up to a few seconds):
   * call it from a thread of your own, after the last write.
   */
  public void close() {
    try {
      pool.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("storage: closing the pool: {}", e.toString());
    }
    if (embedded != null) {
      EmbeddedServer.stop(embedded);
    }
  }

  /** Starting and stopping zonky's embedded PostgreSQL on a folder that outlives the process. */
  static final class EmbeddedServer {

    private EmbeddedServer() {
    }

    static EmbeddedPostgres start(Path pgDir, Path log) throws IOException {
      Files.createDirectories(pgDir);
      checkFolder(pgDir);
      StalePostmaster.clear(pgDir);
      try {
        return EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(binariesFolder().toFile())
            .setDataDirectory(pgDir)
            .setCleanDataDirectory(false)           // the data survives restarts
            .setRegisterShutdownHook(false)         // Pulse stops it after its last write, not the JVM's hook
            .setServerConfig("fsync", "on")         // zonky turns fsync off for tests; history must survive a crash
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("listen_addresses", "localhost")
            .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .setPGStartupWait(Duration.ofSeconds(60)) // recovery after a crash can take a while
            .start();
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("the embedded PostgreSQL did not start in " + pgDir + " (dataDir / "
            + "PULSE_DATA_DIR): " + rootMessage(e) + tail(log), e);
      }
    }

    /**
     * Where the PostgreSQL binaries unpack: {@code $TMPDIR/embedded-pg} when TMPDIR is set (as the
     * shell's convention says; Java's own temporary folder ignores it), else under
     * {@code java.io.tmpdir}.
     */
    static Path binariesFolder() {
      String tmp = System.getenv("TMPDIR");
      Path base = tmp != null && !tmp.isBlank() ? Path.of(tmp) : Path.of(System.getProperty("java.io.tmpdir"));
      return base.toAbsolutePath().normalize().resolve("embedded-pg");
    }

    /** A folder that is neither empty nor a PostgreSQL data folder is not ours to initialise. */
    private static void checkFolder(Path pgDir) throws IOException {
      if (Files.exists(pgDir.resolve("PG_VERSION"))) {
        return;
      }
      try (var entries = Files.list(pgDir)) {
        List<Path> left = entries.filter(p -> !p.getFileName().toString().equals("epg-lock")).toList();
        if (!left.isEmpty()) {
          throw new IllegalStateException(pgDir + " is not an empty folder nor a PostgreSQL data folder (an "
              + "interrupted first start?); move it away or set PULSE_DATA_DIR to another folder");
        }
      }
    }

    static void stop(EmbeddedPostgres pg) {
      try {
        pg.close();
      } catch (IOException e) {
        LOG.warn("storage: stopping the embedded PostgreSQL: {}", e.toString());
      }
    }

    private static String tail(Path log) {
      try {
        List<String> lines = Files.readAllLines(log);
        int from = Math.max(0, lines.size() - 8);
        return "; the end of " + log + ":\n  " + String.join("\n  ", lines.subList(from, lines.size()));
      } catch (IOException e) {
        return "";
      }
    }
  }
}

package io.pulse.server;

import static io.pulse.server.StorageServerTest.events;
import static io.pulse.server.StorageServerTest.storedEvents;
import static io.pulse.server.StorageServerTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL over TLS, for real: an embedded server with {@code ssl = on} and a certificate for
 * localhost, and Pulse with {@code storage.ssl.mode = verify-full} trusting that certificate.
 */
class PgTlsTest {

  @Test
  @DisplayName("storage.ssl verify-full against a TLS PostgreSQL: events stored, and every Pulse connection is encrypted")
  void storesOverTls() throws Exception {
    Path dir = Files.createTempDirectory("pulse-pgtls");
    TlsKit.Cert cert = TlsKit.make(dir, "pg");
    Files.setPosixFilePermissions(cert.key(), PosixFilePermissions.fromString("rw-------")); // PostgreSQL insists
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("data")).setCleanDataDirectory(true)
        .setServerConfig("ssl", "on").setServerConfig("ssl_cert_file", cert.cert().toString())
        .setServerConfig("ssl_key_file", cert.key().toString()).start();
    JsonObject conf = StorageServerTest.fast().put("storage", new JsonObject().put("enabled", true)
        .put("url", "postgresql://postgres:x@localhost:" + pg.getPort() + "/postgres").put("downsample", false)
        .put("ssl", new JsonObject().put("mode", "verify-full").put("caFile", cert.cert().toString())));
    try (TestPulse pulse = TestPulse.start(conf)) {
      assertEquals(202, pulse.postNdjson("tls", events(20, "a", "b")));
      waitFor("events stored over TLS", () -> storedEvents(pg, "tls"), 20, 15_000);
      long[] ssl = Await.until("Pulse's connections in pg_stat_ssl", () -> connections(pg), c -> c[0] >= 1, 10_000);
      assertEquals(ssl[0], ssl[1], "every connection of Pulse is encrypted: " + ssl[1] + " of " + ssl[0]);
    } finally {
      pg.close();
    }
  }

  /** Pulse's connections (every client backend but this one) and how many of them use TLS. */
  private static long[] connections(EmbeddedPostgres pg) {
    try (var c = pg.getPostgresDatabase().getConnection(); var s = c.createStatement();
        var rs = s.executeQuery("select count(*), count(*) filter (where s.ssl) from pg_stat_activity a "
            + "join pg_stat_ssl s using (pid) where a.backend_type = 'client backend' and a.pid <> pg_backend_pid()")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    } catch (Exception e) {
      return new long[] {-1, -1};
    }
  }
}

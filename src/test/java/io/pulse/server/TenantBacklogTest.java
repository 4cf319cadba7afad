package io.pulse.server;

import static io.pulse.server.StorageServerTest.events;
import static io.pulse.server.StorageServerTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Each tenant's share of the storage backlog ({@code limits.perTenant.maxStorageBacklog}) against a
 * real server and a PostgreSQL of its own that goes away and comes back (as in StorageOutageTest):
 * the tenant whose finals pile up gets 503 + Retry-After with the reason while another tenant is
 * still accepted, and is accepted again once its rows are written.
 */
class TenantBacklogTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> post(TestPulse pulse, String tenant, String ndjson) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(pulse.baseUrl() + "/api/v1/streams/out/events"))
        .header("Content-Type", "application/x-ndjson").header(TestTenants.HEADER, tenant)
        .POST(HttpRequest.BodyPublishers.ofString(ndjson)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @DisplayName("database away: the tenant past its backlog share gets 503 + Retry-After with the reason, another "
      + "tenant 202; back: the first is accepted again")
  void backlogSharePerTenant() throws Exception {
    Path dir = Files.createTempDirectory("pulse-tenant-backlog");
    int port = TestPulse.freePort();
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port)
        .start();
    JsonObject conf = StorageServerTest.fast().put("storage", new JsonObject().put("enabled", true)
        .put("url", "postgresql://postgres:x@localhost:" + port + "/postgres")
        .put("writeQueue", 1000).put("writeBatch", 5).put("retryMs", 200))
        .put("limits", new JsonObject().put("perTenant", new JsonObject().put("maxStorageBacklog", 20)));
    try (TestPulse pulse = TestPulse.start(conf)) {
      pulse.pulse().callers(TestTenants.RESOLVER);
      assertEquals(202, post(pulse, "acme", events(3, "a")).statusCode());
      pg.close(); // the database goes away: finals pile up in the write queue

      // acme's finals pile up (each probe adds new series: more rows per window) until its share is reached
      int[] batch = {0};
      HttpResponse<String> refused = Await.until("acme refused once its share of the write queue is full", () -> {
        int i = batch[0]++;
        return post(pulse, "acme", events(12, "r" + i + "x", "r" + i + "y", "r" + i + "z"));
      }, r -> r.statusCode() != 202, 30_000);
      assertEquals(503, refused.statusCode(), refused.body());
      assertTrue(refused.headers().firstValue("Retry-After").isPresent());
      String why = new JsonObject(refused.body()).getString("error");
      assertTrue(why.contains("tenant acme is at its limit of 20 final rollups waiting for storage "
          + "(limits.perTenant.maxStorageBacklog)"), why);

      HttpResponse<String> other = post(pulse, "globex", events(3, "a"));
      assertEquals(202, other.statusCode(), "another tenant goes on: " + other.body());

      pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port).start();
      waitFor("acme accepted again once its rows are written", () -> {
        try {
          return post(pulse, "acme", events(1, "a")).statusCode();
        } catch (Exception e) {
          return -1;
        }
      }, 202, 20_000);
    } finally {
      pg.close();
    }
  }
}

package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.testing.Await;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The certificate files change while Pulse runs: new connections get the new certificate, without a restart. */
@DisplayName("TLS certificate reload")
class TlsReloadTest {

  private static double refused(HttpClient client, int port) throws Exception {
    return TlsKit.counter(TlsKit.get(client, port, "/metrics").body(), "pulse_tls_reloads_total", "result=\"refused\"");
  }

  @Test
  @DisplayName("certificate B replaces A on new connections; a broken file or a key of another certificate keeps B")
  void reloads() throws Exception {
    Path dir = Files.createTempDirectory("pulse-reload");
    TlsKit.Cert a = TlsKit.make(dir, "a");
    TlsKit.Cert b = TlsKit.make(dir, "b");
    Path cert = dir.resolve("server.crt");
    Path key = dir.resolve("server.key");
    Files.copy(a.cert(), cert);
    Files.copy(a.key(), key);
    try (TestPulse p = TestPulse.start(new JsonObject().put("tls", new JsonObject().put("cert", cert.toString())
        .put("key", key.toString()).put("reloadCheckMs", 100)))) {
      int port = p.port();
      assertEquals(a.fingerprint(), TlsKit.handshake(port, "TLSv1.3")[1], "A served at start");

      TlsKit.replace(key, Files.readAllBytes(b.key()));
      TlsKit.replace(cert, Files.readAllBytes(b.cert()));
      Await.until("a new connection shown certificate B", () -> TlsKit.handshake(port, "TLSv1.3")[1],
          b.fingerprint()::equals, 10_000, 100);

      // a certificate file that is not PEM: refused (counted), B stays
      HttpClient client = TlsKit.https(new TlsKit.Remembering());
      double before = refused(client, port);
      TlsKit.replace(cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
          .getBytes(StandardCharsets.US_ASCII));
      Await.until("the broken certificate refused", () -> refused(client, port), n -> n > before, 10_000, 100);
      assertEquals(b.fingerprint(), TlsKit.handshake(port, "TLSv1.3")[1], "B still served");

      // A's certificate with B's key: the pair does not match, refused, B stays
      double before2 = refused(client, port);
      TlsKit.replace(cert, Files.readAllBytes(a.cert()));
      Await.until("a certificate with another's key refused", () -> refused(client, port), n -> n > before2, 10_000,
          100);
      assertEquals(b.fingerprint(), TlsKit.handshake(port, "TLSv1.3")[1], "B still served");

      // the matching key arrives: A is served again
      TlsKit.replace(key, Files.readAllBytes(a.key()));
      Await.until("a new connection shown certificate A again", () -> TlsKit.handshake(port, "TLSv1.3")[1],
          a.fingerprint()::equals, 10_000, 100);
      String m = TlsKit.get(client, port, "/metrics").body();
      assertEquals(0.0, TlsKit.counter(m, "pulse_tls_connections_total", "engine=\"jdk\""), "still OpenSSL after reloads");
    }
  }
}

package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.net.SelfSignedCertificate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("TlsMaterial and CertWatch: certificates checked before use, changes seen by content")
class TlsMaterialTest {

  private static Vertx vertx;
  private static Path dir;
  private static Path certA;
  private static Path keyA;
  private static Path certB;
  private static Path keyB;

  @BeforeAll
  static void certs() throws Exception {
    vertx = Vertx.vertx();
    dir = Files.createTempDirectory("tls-material");
    SelfSignedCertificate a = SelfSignedCertificate.create("localhost");
    SelfSignedCertificate b = SelfSignedCertificate.create("localhost");
    certA = Files.copy(Path.of(a.certificatePath()), dir.resolve("a.crt"));
    keyA = Files.copy(Path.of(a.privateKeyPath()), dir.resolve("a.key"));
    certB = Files.copy(Path.of(b.certificatePath()), dir.resolve("b.crt"));
    keyB = Files.copy(Path.of(b.privateKeyPath()), dir.resolve("b.key"));
    a.delete();
    b.delete();
  }

  @AfterAll
  static void close() {
    vertx.close();
  }

  @Test
  @DisplayName("a matching pair loads, with its fingerprint; a key of another certificate, garbage or a missing file do not")
  void checks() throws Exception {
    TlsMaterial m = TlsMaterial.load(vertx, certA, keyA);
    assertEquals(95, m.fingerprint().length());
    assertTrue(m.describe().contains("CN=localhost"));
    assertTrue(assertThrows(TlsMaterial.Unusable.class, () -> TlsMaterial.load(vertx, certA, keyB)).getMessage()
        .contains("does not belong to the certificate"));
    assertTrue(assertThrows(TlsMaterial.Unusable.class, () -> TlsMaterial.of(vertx,
        "nothing".getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(keyA))).getMessage().contains("PEM"));
    assertTrue(assertThrows(TlsMaterial.Unusable.class, () -> TlsMaterial.load(vertx, dir.resolve("none.crt"), keyA))
        .getMessage().contains("does not exist"));
  }

  @Test
  @DisplayName("CertWatch: unchanged files are nothing new; new content loads once; bad content is refused once")
  void watch() throws Exception {
    Path cert = Files.copy(certA, dir.resolve("w.crt"), StandardCopyOption.REPLACE_EXISTING);
    Path key = Files.copy(keyA, dir.resolve("w.key"), StandardCopyOption.REPLACE_EXISTING);
    CertWatch w = new CertWatch(cert, key);
    assertInstanceOf(CertWatch.Unchanged.class, w.poll(vertx));
    Files.copy(certA, cert, StandardCopyOption.REPLACE_EXISTING); // rewritten, same content
    assertInstanceOf(CertWatch.Unchanged.class, w.poll(vertx));
    Files.copy(certB, cert, StandardCopyOption.REPLACE_EXISTING); // B's certificate, A's key: refused
    assertInstanceOf(CertWatch.Refused.class, w.poll(vertx));
    assertInstanceOf(CertWatch.Unchanged.class, w.poll(vertx), "said once");
    Files.copy(keyB, key, StandardCopyOption.REPLACE_EXISTING);
    CertWatch.Outcome o = w.poll(vertx);
    assertInstanceOf(CertWatch.Loaded.class, o);
    assertEquals(TlsMaterial.load(vertx, certB, keyB).fingerprint(), ((CertWatch.Loaded) o).material().fingerprint());
    assertInstanceOf(CertWatch.Unchanged.class, w.poll(vertx));
    Files.delete(key);
    assertInstanceOf(CertWatch.Refused.class, w.poll(vertx));
    assertInstanceOf(CertWatch.Unchanged.class, w.poll(vertx));
    Files.copy(keyB, key);
    assertInstanceOf(CertWatch.Loaded.class, w.poll(vertx), "back: loaded again");
  }
}

package io.pulse.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * A server certificate and its private key, read from PEM and checked before the server is given
 * them: both parse (as Vert.x will read them), the key belongs to the certificate (a signature made
 * with the key verifies with the certificate's public key). Holds the PEM text, not paths, so that
 * a reload hands the server exactly what was checked.
 *
 * <p>Reading files and checking are blocking work: call {@link #load} on a worker thread.
 */
public final class TlsMaterial {

  /** Why a certificate or key cannot be used; the message says what to fix. */
  public static final class Unusable extends Exception {
    public Unusable(String message) {
      super(message);
    }
  }

  private final byte[] certPem;
  private final byte[] keyPem;
  private final X509Certificate leaf;
  private final String fingerprint;

  private TlsMaterial(byte[] certPem, byte[] keyPem, X509Certificate leaf) {
    this.certPem = certPem;
    this.keyPem = keyPem;
    this.leaf = leaf;
    this.fingerprint = sha256(encoded(leaf));
  }

  /** Reads and checks the PEM files {@code cert} and {@code key}. Blocking. */
  public static TlsMaterial load(Vertx vertx, Path cert, Path key) throws Unusable {
    return of(vertx, read(cert, "certificate"), read(key, "private key"));
  }

  /** Checks PEM text of a certificate (chain, leaf first) and its key. Blocking (a signature). */
  public static TlsMaterial of(Vertx vertx, byte[] certPem, byte[] keyPem) throws Unusable {
    PemKeyCertOptions opts = options(certPem, keyPem);
    X509KeyManager km;
    try {
      KeyManagerFactory kmf = opts.getKeyManagerFactory(vertx);
      km = x509(kmf.getKeyManagers());
    } catch (Exception e) {
      throw new Unusable("the certificate or key cannot be read as PEM: " + message(e));
    }
    String alias = alias(km);
    if (alias == null) {
      throw new Unusable("no certificate with a private key found in the PEM files");
    }
    X509Certificate[] chain = km.getCertificateChain(alias);
    PrivateKey pk = km.getPrivateKey(alias);
    if (chain == null || chain.length == 0 || pk == null) {
      throw new Unusable("no certificate with a private key found in the PEM files");
    }
    checkPair(pk, chain[0].getPublicKey());
    return new TlsMaterial(certPem.clone(), keyPem.clone(), chain[0]);
  }

  /** What Vert.x is given: the PEM text itself. */
  public PemKeyCertOptions keyCertOptions() {
    return options(certPem, keyPem);
  }

  /** SHA-256 of the leaf certificate (DER), as colon-separated hex: what {@code openssl x509 -fingerprint -sha256} prints. */
  public String fingerprint() {
    return fingerprint;
  }

  public X509Certificate certificate() {
    return leaf;
  }

  /** The certificate's subject, fingerprint and validity, for the log. */
  public String describe() {
    return "certificate " + leaf.getSubjectX500Principal().getName() + ", SHA-256 " + fingerprint + ", valid until "
        + leaf.getNotAfter().toInstant();
  }

  /** Whether the certificate is past its end at {@code nowMs}. */
  public boolean expired(long nowMs) {
    return leaf.getNotAfter().getTime() < nowMs;
  }

  /** SHA-256 of {@code bytes} as upper-case hex pairs joined by ':'. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static PemKeyCertOptions options(byte[] certPem, byte[] keyPem) {
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem));
  }

  private static byte[] read(Path p, String what) throws Unusable {
    try {
      byte[] b = Files.readAllBytes(p);
      if (b.length == 0) {
        throw new Unusable("the " + what + " file " + p.toAbsolutePath() + " is empty");
      }
      return b;
    } catch (NoSuchFileException e) {
      throw new Unusable("the " + what + " file " + p.toAbsolutePath() + " does not exist");
    } catch (IOException e) {
      throw new Unusable("cannot read the " + what + " file " + p.toAbsolutePath() + ": " + message(e));
    }
  }

  private static X509KeyManager x509(KeyManager[] kms) throws Unusable {
    for (KeyManager k : kms) {
      if (k instanceof X509KeyManager x) {
        return x;
      }
    }
    throw new Unusable("the PEM files hold no key usable for TLS");
  }

  private static String alias(X509KeyManager km) {
    for (String type : List.of("RSA", "EC", "EdDSA", "Ed25519", "RSASSA-PSS")) {
      String[] aliases = km.getServerAliases(type, null);
      if (aliases != null && aliases.length > 0) {
        return aliases[0];
      }
    }
    return null;
  }

  /** A signature made with {@code key} must verify with {@code pub}, or the key is not the certificate's. */
  private static void checkPair(PrivateKey key, PublicKey pub) throws Unusable {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "EdDSA", "Ed25519" -> "Ed25519";
      case "Ed448" -> "Ed448";
      default -> null; // RSASSA-PSS and anything rarer: the handshake is the check
    };
    if (!key.getAlgorithm().equals(pub.getAlgorithm()) && !(key.getAlgorithm().startsWith("Ed")
        && pub.getAlgorithm().startsWith("Ed"))) {
      throw new Unusable("the private key (" + key.getAlgorithm() + ") does not belong to the certificate ("
          + pub.getAlgorithm() + " key)");
    }
    if (alg == null) {
      return;
    }
    try {
      byte[] probe = "pulse key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(probe);
      if (!v.verify(sig)) {
        throw new Unusable("the private key does not belong to the certificate (its public key does not match)");
      }
    } catch (Unusable u) {
      throw u;
    } catch (Exception e) {
      throw new Unusable("the private key cannot be checked against the certificate: " + message(e));
    }
  }

  private static String message(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + EdgeAnswer.clip(m, 200));
  }
}

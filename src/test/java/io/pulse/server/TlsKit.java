package io.pulse.server;

import io.pulse.http.TlsMaterial;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS helpers for server tests: self-signed certificates for localhost as PEM files, clients that
 * accept any certificate but remember the one the server showed (so a test can tell which
 * certificate is served), and a reader of Prometheus counters.
 */
final class TlsKit {

  private TlsKit() {
  }

  /** A certificate and key for localhost, as PEM files of their own, and the certificate's fingerprint. */
  record Cert(Path cert, Path key, String fingerprint) {
  }

  /** A new self-signed certificate for localhost, copied into {@code dir} as {@code <name>.crt} and {@code <name>.key}. */
  static Cert make(Path dir, String name) throws Exception {
    SelfSignedCertificate s = SelfSignedCertificate.create("localhost");
    try {
      Path c = dir.resolve(name + ".crt");
      Path k = dir.resolve(name + ".key");
      Files.copy(Path.of(s.certificatePath()), c, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(Path.of(s.privateKeyPath()), k, StandardCopyOption.REPLACE_EXISTING);
      java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
      X509Certificate x;
      try (var in = Files.newInputStream(c)) {
        x = (X509Certificate) cf.generateCertificate(in);
      }
      return new Cert(c, k, TlsMaterial.sha256(x.getEncoded()));
    } finally {
      s.delete();
    }
  }

  /** Replaces {@code target} with {@code bytes} at once (a new file moved over it), as a renewal tool does. */
  static void replace(Path target, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), "new", ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Trusts any server but keeps the leaf certificate it showed last. */
  static final class Remembering extends X509ExtendedTrustManager {
    final AtomicReference<X509Certificate> last = new AtomicReference<>();

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      last.set(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
      last.set(chain[0]);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      last.set(chain[0]);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }

    /** SHA-256 of the certificate the server showed last. */
    String fingerprint() throws Exception {
      X509Certificate c = last.get();
      return c == null ? null : TlsMaterial.sha256(c.getEncoded());
    }
  }

  static SSLContext context(Remembering tm) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
    return ctx;
  }

  /** An HTTP client of the JDK over TLS (HTTP/2 when the server agrees by ALPN), trusting through {@code tm}. */
  static HttpClient https(Remembering tm) throws Exception {
    return HttpClient.newBuilder().sslContext(context(tm)).version(HttpClient.Version.HTTP_2)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  static HttpResponse<String> get(HttpClient client, int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(HttpClient client, int port, String path, String contentType, String body)
      throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A new TLS connection by the JDK's engine offering only {@code protocols}: the protocol agreed
   * and the fingerprint of the certificate shown. Throws when the handshake fails.
   */
  static String[] handshake(int port, String... protocols) throws Exception {
    Remembering tm = new Remembering();
    try (SSLSocket s = (SSLSocket) context(tm).getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.setEnabledProtocols(protocols);
      s.startHandshake();
      return new String[] {s.getSession().getProtocol(), tm.fingerprint()};
    }
  }

  /** The sum of a Prometheus counter's samples whose labels contain every one of {@code labels} ("k=\"v\""). */
  static double counter(String scrape, String name, String... labels) {
    double sum = 0;
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+)$").matcher(scrape);
    while (m.find()) {
      boolean all = true;
      for (String l : labels) {
        all &= m.group(1).contains(l);
      }
      if (all) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }
}

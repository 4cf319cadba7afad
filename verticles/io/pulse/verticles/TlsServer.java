package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.http.CertWatch;
import io.pulse.http.TlsMaterial;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS on the HTTP port ({@code tls.*}): the certificate made or read before the HTTP instances
 * start, the server options (OpenSSL engine always, the configured TLS versions, HTTP/2 by ALPN),
 * and the reload of certificate files that change while Pulse runs, handed to every HTTP instance
 * without a restart. Files are read and keys made on worker threads only.
 */
final class TlsServer {

  private static final Logger LOG = LoggerFactory.getLogger(TlsServer.class);

  /** HTTP/2 streams one connection may have open at once. */
  static final int MAX_CONCURRENT_STREAMS = 100;
  /** HTTP/2 flow-control window of one stream (bytes a client may send ahead of the server's reading). */
  static final int STREAM_WINDOW = 256 * 1024;
  /** HTTP/2 flow-control window of a whole connection. */
  static final int CONNECTION_WINDOW = 1024 * 1024;

  private TlsServer() {
  }

  /**
   * The certificate the server starts with: read and checked from {@code tls.cert}/{@code tls.key},
   * or made for localhost in self-signed mode; null when TLS is off. Fails with a clear message
   * when the OpenSSL engine is not available or the files cannot be used.
   */
  static Future<TlsMaterial> prepare(Vertx vertx, PulseConfig.Tls tls) {
    if (!tls.enabled()) {
      return Future.succeededFuture(null);
    }
    if (!OpenSSLEngineOptions.isAvailable()) {
      Throwable why = io.netty.handler.ssl.OpenSsl.unavailabilityCause();
      return Future.failedFuture(new IllegalStateException("TLS needs the OpenSSL engine (netty-tcnative-boringssl-"
          + "static), which is not available on this platform" + (why == null ? "" : ": " + why)));
    }
    if (!OpenSSLEngineOptions.isAlpnAvailable()) {
      return Future.failedFuture(new IllegalStateException("TLS needs ALPN from the OpenSSL engine for HTTP/2, "
          + "which this build of it does not have"));
    }
    if (tls.selfSigned()) {
      return vertx.executeBlocking(() -> {
        long t0 = System.nanoTime();
        SelfSignedCertificate c = SelfSignedCertificate.create("localhost");
        try {
          TlsMaterial m = TlsMaterial.of(vertx, Files.readAllBytes(Path.of(c.certificatePath())),
              Files.readAllBytes(Path.of(c.privateKeyPath())));
          LOG.warn("TLS: self-signed mode (tls.selfSigned): made a certificate for localhost in {} ms, SHA-256 "
              + "fingerprint {}. Browsers will warn; compare the fingerprint before trusting it, and use "
              + "PULSE_TLS_CERT / PULSE_TLS_KEY for anything but trying TLS out", (System.nanoTime() - t0) / 1_000_000,
              m.fingerprint());
          return m;
        } finally {
          c.delete(); // the key lives in memory only
        }
      }, false);
    }
    return vertx.executeBlocking(() -> {
      try {
        TlsMaterial m = TlsMaterial.load(vertx, Path.of(tls.cert()), Path.of(tls.key()));
        if (m.expired(System.currentTimeMillis())) {
          LOG.warn("TLS: the certificate in {} has expired ({}): clients will refuse it", tls.cert(), m.describe());
        }
        LOG.info("TLS: {} on the OpenSSL engine ({}), HTTP/2 by ALPN; {} from {}; {}", tls.protocols(),
            io.netty.handler.ssl.OpenSsl.versionString(), m.describe(), tls.cert(), tls.reloadCheckMs() > 0
                ? "the files are looked at every " + tls.reloadCheckMs() + " ms (tls.reloadCheckMs) and a change served"
                : "not reloaded (tls.reloadCheckMs 0)");
        return m;
      } catch (TlsMaterial.Unusable e) {
        throw new IllegalStateException("TLS (tls.cert " + tls.cert() + ", tls.key " + tls.key() + "): "
            + e.getMessage(), e);
      }
    }, false);
  }

  /** {@code opts} with TLS as configured and {@code material}'s certificate; unchanged when TLS is off. */
  static HttpServerOptions apply(HttpServerOptions opts, PulseConfig.Tls tls, TlsMaterial material) {
    if (material == null) {
      return opts;
    }
    return opts.setSsl(true).setSslEngineOptions(new OpenSSLEngineOptions())
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(tls.protocols()))
        .setKeyCertOptions(material.keyCertOptions())
        .setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
        .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(MAX_CONCURRENT_STREAMS)
            .setInitialWindowSize(STREAM_WINDOW).setPushEnabled(false))
        .setHttp2ConnectionWindowSize(CONNECTION_WINDOW);
  }

  /** What a running server is handed when its certificate changes: the same settings, the new certificate. */
  static ServerSSLOptions sslOptions(PulseConfig.Tls tls, TlsMaterial material) {
    return new ServerSSLOptions().setKeyCertOptions(material.keyCertOptions())
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(tls.protocols())).setUseAlpn(true)
        .setApplicationLayerProtocols(List.of("h2", "http/1.1"));
  }

  /** Counts TLS connections by engine, protocol and HTTP version (a few values each), for operators and tests. */
  static final class Meters {
    private final MeterRegistry registry;
    final Counter reloaded;
    final Counter reloadRefused;
    final AtomicReference<TlsMaterial> current = new AtomicReference<>();

    Meters(MeterRegistry registry) {
      this.registry = registry;
      this.reloaded = Counter.builder("pulse.tls.reloads").tag("result", "loaded")
          .description("Certificate changes seen in tls.cert / tls.key, by whether the server took them")
          .register(registry);
      this.reloadRefused = Counter.builder("pulse.tls.reloads").tag("result", "refused")
          .description("Certificate changes seen in tls.cert / tls.key, by whether the server took them")
          .register(registry);
      Gauge.builder("pulse.tls.certificate.expiry", current,
              r -> r.get() == null ? Double.NaN : r.get().certificate().getNotAfter().getTime() / 1000.0)
          .description("When the served certificate expires (epoch seconds)").baseUnit("seconds").register(registry);
    }

    /** A TLS connection has been accepted (its handshake is done). */
    void connected(HttpConnection conn) {
      SSLSession s = conn.sslSession();
      if (s == null) {
        return;
      }
      String engine = s.getClass().getName().contains("OpenSsl") ? "openssl" : "jdk";
      String protocol = s.getProtocol();
      String http = conn instanceof io.vertx.core.http.impl.Http2ServerConnection ? "h2" : "http/1.1";
      Counter.builder("pulse.tls.connections").tag("engine", engine)
          .tag("protocol", protocol == null || protocol.length() > 16 ? "other" : protocol).tag("http", http)
          .description("TLS connections accepted, by TLS engine, TLS version and HTTP version (ALPN)")
          .register(registry).increment();
    }
  }

  /**
   * Looks at {@code tls.cert} and {@code tls.key} every {@code tls.reloadCheckMs} and hands a changed,
   * checked certificate to every HTTP instance; a change that cannot be used is logged and the
   * servers keep theirs.
   */
  static void watch(Vertx vertx, PulseConfig.Tls tls, List<HttpVerticle> https, Meters meters) {
    if (!tls.fromFiles() || tls.reloadCheckMs() == 0) {
      return;
    }
    CertWatch watch = new CertWatch(Path.of(tls.cert()), Path.of(tls.key()));
    AtomicBoolean busy = new AtomicBoolean();
    vertx.setPeriodic(tls.reloadCheckMs(), t -> {
      if (!busy.compareAndSet(false, true)) {
        return;
      }
      vertx.executeBlocking(() -> watch.poll(vertx), false)
          .compose(outcome -> {
            if (outcome instanceof CertWatch.Loaded l) {
              return update(tls, https, l.material()).onSuccess(v -> {
                meters.current.set(l.material());
                meters.reloaded.increment();
                LOG.info("TLS: new certificate from {} served on new connections: {}", tls.cert(),
                    l.material().describe());
              }).onFailure(e -> {
                meters.reloadRefused.increment();
                LOG.warn("TLS: the server refused the new certificate from {} ({}); it keeps the one it has", tls.cert(),
                    e.getMessage());
              }).mapEmpty();
            }
            if (outcome instanceof CertWatch.Refused r) {
              meters.reloadRefused.increment();
              LOG.warn("TLS: {} / {} changed but cannot be used, keeping the certificate served now: {}", tls.cert(),
                  tls.key(), r.reason());
            }
            return Future.<Void>succeededFuture();
          })
          .onComplete(ar -> {
            busy.set(false);
            if (ar.failed()) {
              LOG.warn("TLS: looking at the certificate files failed: {}", String.valueOf(ar.cause()));
            }
          });
    });
  }

  private static Future<Void> update(PulseConfig.Tls tls, List<HttpVerticle> https, TlsMaterial m) {
    ServerSSLOptions opts = sslOptions(tls, m);
    List<Future<Boolean>> all = new ArrayList<>();
    for (HttpVerticle h : https) {
      all.add(h.updateTls(opts.copy()));
    }
    return Future.all(all).mapEmpty();
  }
}

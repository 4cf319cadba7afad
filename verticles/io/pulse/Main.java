package io.pulse;

import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import io.pulse.verticles.Pulse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar pulse.jar}: loads the configuration (defaults, file, environment), checks it,
 * starts Pulse and stops it gracefully on SIGTERM or Ctrl-C.
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("demo-report")) {
      System.exit(io.pulse.demo.DemoReport.cli(java.util.Arrays.copyOfRange(args, 1, args.length)));
      return;
    }
    if (args.length > 0 && args[0].equals("token")) {
      // pulse token --tenant T --scopes ingest,read --ttl 1h: a token signed with this server's key
      System.exit(TokenCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.getenv(),
          System.getProperties(), System.out, System.err));
      return;
    }
    if (args.length > 0 && args[0].equals("nab")) {
      // pulse nab --data DIR --out DIR: the NAB benchmark run, no server
      System.exit(io.pulse.detect.nab.NabRunner.main(java.util.Arrays.copyOfRange(args, 1, args.length),
          System.out, System.err));
      return;
    }
    PulseConfig config;
    try {
      config = PulseConfig.load(System.getenv(), System.getProperties());
      prepareDataDir(config);
    } catch (ConfigException e) {
      System.err.println("pulse: " + e.getMessage());
      System.exit(2);
      return;
    }
    Pulse pulse;
    try {
      pulse = Pulse.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String msg = cause.getMessage();
      if (cause instanceof java.net.BindException || (msg != null && msg.contains("Address already in use"))) {
        msg = "cannot listen on " + config.http().host() + ":" + config.http().port()
            + " (http.port / PULSE_HTTP_PORT): " + msg;
      } else if (cause instanceof java.net.UnknownHostException || (msg != null && msg.contains("resolve"))) {
        msg = "configuration http.host (PULSE_HTTP_HOST): cannot listen on \"" + config.http().host() + "\": " + msg;
      }
      System.err.println("pulse: failed to start: " + msg);
      // the message says what to change; the trace says where it failed, for a report
      cause.printStackTrace();
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        pulse.stop(java.time.Duration.ofSeconds(20));
      } catch (Exception e) {
        System.err.println("pulse: shutdown did not finish cleanly: " + e);
      }
    }, "pulse-shutdown"));
    String host = config.http().host().equals("0.0.0.0") ? "localhost" : config.http().host();
    System.out.println();
    String scheme = config.tls().enabled() ? "https" : "http";
    System.out.println("  Pulse is running:  " + scheme + "://" + host + ":" + pulse.port() + "/");
    System.out.println("  API:               " + scheme + "://" + host + ":" + pulse.port() + "/api/v1   metrics: /metrics");
    System.out.println("  TLS:               " + (config.tls().enabled() ? String.join(", ", config.tls().protocols())
        + ", OpenSSL engine, HTTP/2 by ALPN" + (config.tls().selfSigned() ? " (self-signed: see the fingerprint above)"
        : "; certificate reloaded on change") : "off (PULSE_TLS_CERT and PULSE_TLS_KEY turn it on)"));
    System.out.println("  demo generators:   " + (config.demo() ? "on" : "off (PULSE_DEMO=true turns them on)"));
    System.out.println("  history:           " + (pulse.database() == null
        ? "off (PULSE_STORAGE=false): nothing is kept across restarts"
        : pulse.database().description()));
    System.out.println("  authentication:    " + (config.auth().enabled()
        ? "on: every /api/v1 call needs a token (java -jar pulse.jar token --tenant T --scopes read prints one)"
        : "OFF (PULSE_AUTH=false" + (config.auth().explicit() ? "" : ", the demo's default")
            + "): keep Pulse on a trusted network"));
    System.out.println();
  }

  private static void prepareDataDir(PulseConfig config) {
    Path dir = Path.of(config.dataDir());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new ConfigException("configuration dataDir (PULSE_DATA_DIR): cannot create " + dir.toAbsolutePath()
          + ": " + e);
    }
    if (!Files.isWritable(dir)) {
      throw new ConfigException("configuration dataDir (PULSE_DATA_DIR): " + dir.toAbsolutePath()
          + " is not writable");
    }
  }
}

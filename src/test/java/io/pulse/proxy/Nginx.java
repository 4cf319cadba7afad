package io.pulse.proxy;

import io.pulse.testing.Await;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian's, {@code /usr/sbin/nginx}) run by a test in front of a test's Pulse, with
 * the documented site file {@code conf/nginx/pulse.conf} as it is but for the lines an operator
 * edits (upstream address, listen port, access log path) and the proxy timeouts (shortened so a
 * test can outlast them). Everything nginx writes (pid, logs, temp files) is under a temp folder;
 * it runs in the foreground as this test's child process and stops with {@link #close}.
 */
final class Nginx implements AutoCloseable {

  /** The documented site file, relative to the project folder (where Maven runs the tests). */
  static final Path DOCUMENTED = Path.of("conf", "nginx", "pulse.conf");

  /** The nginx binary: Debian's, or {@code -Dpulse.test.nginx=...}. */
  static final Path BINARY = Path.of(System.getProperty("pulse.test.nginx", "/usr/sbin/nginx"));

  /** One rewrite of the documented text: a literal that must occur exactly {@code times} times. */
  record Edit(String literal, String replacement, int times) {
  }

  private final Process process;
  private final Path dir;
  private final int port;

  private Nginx(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /** Fails, saying how to get it, when nginx is not installed: CI installs it (.ci/run), so a missing nginx is a failure, not a skip. */
  static void requireInstalled() {
    if (!Files.isExecutable(BINARY)) {
      throw new AssertionError("nginx is not installed at " + BINARY + ": the reverse-proxy test runs Debian's nginx "
          + "in front of Pulse; install it with `apt-get install -y nginx` (.ci/run does), or point "
          + "-Dpulse.test.nginx at another binary");
    }
  }

  /** The documented site file's text. */
  static String documented() throws IOException {
    if (!Files.isRegularFile(DOCUMENTED)) {
      throw new AssertionError(DOCUMENTED.toAbsolutePath() + " is missing (tests run from the project folder)");
    }
    return Files.readString(DOCUMENTED, StandardCharsets.UTF_8);
  }

  /**
   * The edits that make the documented site file this test's: Pulse at {@code upstreamPort}, nginx
   * on 127.0.0.1:{@code listenPort}, the access log in {@code dir}, and read/send timeouts of
   * {@code timeoutSeconds}. Each literal must be in the documented file exactly once, so a change
   * of the file that the test does not follow fails here instead of testing something else.
   */
  static List<Edit> siteEdits(int upstreamPort, int listenPort, int timeoutSeconds, Path dir) {
    List<Edit> e = new ArrayList<>();
    e.add(new Edit("server 127.0.0.1:8080;", "server 127.0.0.1:" + upstreamPort + ";", 1));
    e.add(new Edit("listen 80;", "listen 127.0.0.1:" + listenPort + ";", 1));
    e.add(new Edit("access_log /var/log/nginx/pulse.access.log ", "access_log " + dir.resolve("pulse.access.log") + " ", 1));
    e.add(new Edit("proxy_read_timeout 60s;", "proxy_read_timeout " + timeoutSeconds + "s;", 1));
    e.add(new Edit("proxy_send_timeout 60s;", "proxy_send_timeout " + timeoutSeconds + "s;", 1));
    return e;
  }

  /** {@code text} with each edit applied; fails when a literal does not occur exactly as often as the edit says. */
  static String apply(String text, List<Edit> edits) {
    String out = text;
    for (Edit e : edits) {
      int n = count(out, e.literal());
      if (n != e.times()) {
        throw new AssertionError("the nginx site file should contain \"" + e.literal() + "\" " + e.times()
            + " time(s), found " + n + ": update Nginx.siteEdits with the documented file");
      }
      out = out.replace(e.literal(), e.replacement());
    }
    return out;
  }

  static int count(String text, String literal) {
    int n = 0;
    for (int i = text.indexOf(literal); i >= 0; i = text.indexOf(literal, i + literal.length())) {
      n++;
    }
    return n;
  }

  /**
   * The main nginx.conf around the site file: in the foreground, one worker, pid, error log and temp
   * files under {@code dir}. Its http block turns gzip on for event streams and JSON, as an
   * operator's main file might (Debian's has {@code gzip on;}), so that the site's own
   * {@code gzip off} for the live feeds is what keeps them uncompressed.
   */
  static String mainConf(Path dir, Path site) {
    StringBuilder sb = new StringBuilder();
    sb.append("daemon off;\n");
    if ("root".equals(System.getProperty("user.name"))) {
      // a root master runs its workers as nobody, who cannot write this test's temp folder
      sb.append("user root;\n");
    }
    sb.append("worker_processes 1;\n")
        .append("pid ").append(dir.resolve("nginx.pid")).append(";\n")
        .append("error_log ").append(dir.resolve("error.log")).append(" info;\n")
        .append("events { worker_connections 512; }\n")
        .append("http {\n")
        .append("    client_body_temp_path ").append(dir.resolve("client_body")).append(";\n")
        .append("    proxy_temp_path ").append(dir.resolve("proxy")).append(";\n")
        .append("    fastcgi_temp_path ").append(dir.resolve("fastcgi")).append(";\n")
        .append("    uwsgi_temp_path ").append(dir.resolve("uwsgi")).append(";\n")
        .append("    scgi_temp_path ").append(dir.resolve("scgi")).append(";\n")
        .append("    access_log ").append(dir.resolve("access.log")).append(";\n")
        .append("    gzip on;\n")
        .append("    gzip_min_length 1;\n")
        .append("    gzip_types text/event-stream application/json;\n")
        .append("    include ").append(site).append(";\n")
        .append("}\n");
    return sb.toString();
  }

  /** Fails with nginx's own words when {@code nginx -t} refuses {@code siteText} in the test's main file. */
  static void check(String siteText) throws Exception {
    requireInstalled();
    Path dir = Files.createTempDirectory("pulse-nginx-check");
    write(dir, siteText);
    List<String> cmd = new ArrayList<>(command(dir));
    cmd.add("-t");
    Process t = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String said = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!t.waitFor(30, TimeUnit.SECONDS) || t.exitValue() != 0) {
      throw new AssertionError("nginx -t refused the rendered configuration:\n" + said + "\n" + siteText);
    }
  }

  private static void write(Path dir, String siteText) throws IOException {
    Path site = dir.resolve("pulse.conf");
    Files.writeString(site, siteText);
    Files.writeString(dir.resolve("nginx.conf"), mainConf(dir, site));
  }

  private static List<String> command(Path dir) {
    return List.of(BINARY.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
        "-e", dir.resolve("error.log").toString());
  }

  /**
   * Checks {@code siteText} ({@link #check}), writes it and a main file into {@code dir}, starts
   * nginx (listening on {@code listenPort}, as the site says) and waits until it accepts connections.
   */
  static Nginx start(String siteText, int listenPort, Path dir) throws Exception {
    check(siteText);
    write(dir, siteText);
    List<String> base = command(dir);
    Process p = new ProcessBuilder(base).redirectErrorStream(true)
        .redirectOutput(dir.resolve("nginx.out").toFile()).start();
    Nginx n = new Nginx(p, dir, listenPort);
    try {
      Await.until("nginx accepting connections on port " + listenPort, () -> {
        if (!p.isAlive()) {
          return "exited";
        }
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", listenPort), 1000);
          return "up";
        } catch (IOException e) {
          return "not yet";
        }
      }, s -> !"not yet".equals(s), 20_000);
      if (!p.isAlive()) {
        throw new AssertionError("nginx exited at start: " + n.errorLog());
      }
    } catch (AssertionError | RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  int port() {
    return port;
  }

  Path dir() {
    return dir;
  }

  String errorLog() {
    return read(dir.resolve("error.log")) + read(dir.resolve("nginx.out"));
  }

  /** The site's access log (the documented pulse_noquery format). */
  String accessLog() {
    return read(dir.resolve("pulse.access.log"));
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "(" + p + " unreadable: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy(); // SIGTERM: nginx's fast shutdown, its worker with it
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package io.pulse.loadtests;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A server under test, started as a child JVM on a free loopback port. Its output goes to a log
 * file. {@link #close()} stops it (SIGTERM, then SIGKILL) together with any processes it started;
 * a JVM shutdown hook does the same if the driver dies first. An embedded database the server
 * starts is not its descendant (pg_ctl detaches it); {@link #watchDatabase} names its pid file, so
 * that its CPU is measured and it is stopped with the server if the server left it running.
 */
final class ChildServer implements AutoCloseable {

  final String name;
  final int port;
  final Path log;
  private final Process process;
  private final Thread hook;
  private volatile boolean closed;
  private volatile Path databasePidFile;

  private ChildServer(String name, int port, Path log, Process process) {
    this.name = name;
    this.port = port;
    this.log = log;
    this.process = process;
    this.hook = new Thread(this::stop, "stop-" + name);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  static ChildServer start(String name, List<String> command, Map<String, String> env, int port, Path log)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    pb.environment().put("PULSE_AUTH", "false"); // the load drivers send no tokens (issue 13 turned auth on by default)
    pb.environment().putAll(env);
    return new ChildServer(name, port, log, pb.start());
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Total CPU time the server process has used so far, in ns (0 if the OS does not say). */
  long cpuNanos() {
    Optional<Duration> d = process.toHandle().info().totalCpuDuration();
    return d.map(Duration::toNanos).orElse(0L);
  }

  /** The server's embedded database writes its pid in the first line of {@code pidFile} (PostgreSQL's postmaster.pid). */
  void watchDatabase(Path pidFile) {
    this.databasePidFile = pidFile;
  }

  /** The database's main process, if {@link #watchDatabase} named one and it is running. */
  Optional<ProcessHandle> database() {
    Path f = databasePidFile;
    if (f == null) {
      return Optional.empty();
    }
    try {
      List<String> lines = Files.readAllLines(f, StandardCharsets.US_ASCII);
      return lines.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * CPU time of the database's processes so far, ns; -1 when there is no database or /proc cannot
   * tell. Each live process of the tree counts its own time and that of its children it has reaped
   * (utime + stime + cutime + cstime), so backends that come and go are counted too.
   */
  long databaseCpuNanos() {
    Optional<ProcessHandle> db = database();
    if (db.isEmpty()) {
      return -1;
    }
    long ticks = procTicks(db.get().pid());
    if (ticks < 0) {
      return -1;
    }
    for (ProcessHandle h : (Iterable<ProcessHandle>) db.get().descendants()::iterator) {
      ticks += Math.max(0, procTicks(h.pid()));
    }
    return ticks * 10_000_000L; // USER_HZ is 100 on Linux
  }

  /** utime + stime + cutime + cstime of a process from /proc/<pid>/stat, in clock ticks; -1 if unreadable. */
  private static long procTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // f[0] is field 3, the state
      return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Polls {@code GET path} on 127.0.0.1 until it answers 200; bounded by {@code timeout}. */
  void awaitReady(String path, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(name + " exited with code " + process.exitValue() + " before it was ready; log "
            + log + ":\n" + tail(40));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
        c.setConnectTimeout(500);
        c.setReadTimeout(2000);
        int code = c.getResponseCode();
        c.disconnect();
        if (code == 200) {
          return;
        }
        last = "HTTP " + code;
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IOException(name + " not ready after " + timeout.toSeconds() + " s (" + last + "); log " + log
        + ":\n" + tail(40));
  }

  /** The last lines of the server's log. */
  String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  private synchronized void stop() {
    if (closed) {
      return;
    }
    closed = true;
    // remember the grandchildren before the parent goes and they get re-parented (an embedded database is not one of them)
    List<ProcessHandle> descendants = new ArrayList<>();
    process.descendants().forEach(descendants::add);
    Optional<ProcessHandle> db = database();
    process.destroy();
    try {
      if (!process.waitFor(Duration.ofSeconds(15).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    // a server that stopped cleanly has stopped its database; one that was killed has not
    db.filter(ProcessHandle::isAlive).ifPresent(descendants::add);
    for (ProcessHandle h : descendants) {
      if (h.isAlive()) {
        h.destroy();
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    for (ProcessHandle h : descendants) {
      while (h.isAlive() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }

  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs stop(), which is idempotent
    }
  }
}

package io.pulse.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Pulse that was killed (kill -9, a crash, a power cut) leaves in its embedded data folder,
 * and how the next start deals with it.
 *
 * <p>The embedded server runs as its own process (pg_ctl starts it detached). When Pulse dies
 * without stopping it, either that PostgreSQL keeps running, orphaned, on the folder, or (after a
 * reboot) only its {@code postmaster.pid} is left. zonky holds a lock on {@code epg-lock} in the
 * folder while a Pulse uses it; the operating system drops that lock when the process dies. So:
 * lock held by someone else: another Pulse is using the folder, refuse. Not held, and the pid file
 * names a live postgres: an orphan, stop it (SIGTERM, a smart shutdown; its clients died with
 * Pulse). Not held, and the pid names nothing (or something else): a stale file, remove it.
 * PostgreSQL then recovers from its write-ahead log as after any crash.
 */
final class StalePostmaster {

  private static final Logger LOG = LoggerFactory.getLogger(StalePostmaster.class);

  private StalePostmaster() {
  }

  static void clear(Path pgDir) throws IOException {
    Path pidFile = pgDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    ensureNotInUse(pgDir);
    long pid = readPid(pidFile);
    Optional<ProcessHandle> proc = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
    if (proc.isPresent() && proc.get().isAlive() && isPostgres(proc.get())) {
      LOG.warn("storage: PostgreSQL (pid {}) is still running on {}, left by a Pulse that did not stop cleanly; "
          + "stopping it", pid, pgDir);
      proc.get().destroy();
      try {
        proc.get().onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("PostgreSQL (pid " + pid + ") left running on " + pgDir
            + " did not stop within 30 s; stop it (kill " + pid + ") and start Pulse again");
      }
      waitGone(pidFile);
    }
    if (Files.deleteIfExists(pidFile)) {
      LOG.warn("storage: removed a stale {} (pid {} is gone): Pulse did not stop cleanly last time; PostgreSQL "
          + "recovers from its log", pidFile, pid);
    }
  }

  /** Fails when another live process (or this one) holds the folder's zonky lock. */
  private static void ensureNotInUse(Path pgDir) throws IOException {
    Path lockFile = pgDir.resolve("epg-lock");
    if (!Files.exists(lockFile)) {
      return;
    }
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IllegalStateException(pgDir + " is in use by another Pulse (its embedded PostgreSQL is running); "
            + "stop that one, or set PULSE_DATA_DIR to another folder");
      }
      lock.release();
    }
  }

  private static long readPid(Path pidFile) {
    try {
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
      return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  private static boolean isPostgres(ProcessHandle p) {
    return p.info().command().map(c -> c.endsWith("/postgres")).orElse(false);
  }

  private static void waitGone(Path pidFile) {
    for (int i = 0; i < 50 && Files.exists(pidFile); i++) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

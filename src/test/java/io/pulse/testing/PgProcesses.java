package io.pulse.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The processes of a PostgreSQL server started from a data folder, for tests that stall it (SIGSTOP) or resume it. */
public final class PgProcesses {

  private PgProcesses() {
  }

  /** The postmaster (the first line of postmaster.pid) and every backend and worker under it, by pid. */
  public static List<Long> of(Path dataDir) throws Exception {
    long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    List<Long> pids = new ArrayList<>();
    pids.add(postmaster);
    ProcessHandle.of(postmaster).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    return pids;
  }

  /**
   * Sends {@code sig} ("STOP", "CONT") to every pid with kill(1); fails if a process that is still
   * there did not get it. A process gone meanwhile is no failure: a backend that was exiting when
   * it was stopped is reaped by the postmaster as soon as the postmaster (first in the list) goes
   * on, before kill reaches it.
   */
  public static void signal(String sig, List<Long> pids) throws Exception {
    if (pids.isEmpty()) {
      return;
    }
    if (kill(sig, pids)) {
      return;
    }
    List<Long> still = new ArrayList<>();
    for (long pid : pids) {
      if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        still.add(pid);
      }
    }
    if (!still.isEmpty() && !kill(sig, still)) {
      throw new AssertionError("kill -" + sig + " " + still + " did not succeed");
    }
  }

  private static boolean kill(String sig, List<Long> pids) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("kill", "-" + sig));
    pids.forEach(pid -> cmd.add(Long.toString(pid)));
    Process k = new ProcessBuilder(cmd).inheritIO().start();
    return k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0;
  }
}

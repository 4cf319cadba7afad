package io.pulse.testing;

import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Waits for what a test expects (a value, a state) with a deadline, polling; fails saying what was last seen. */
public final class Await {

  private static final long POLL_MS = 50;

  private Await() {
  }

  /**
   * Polls {@code probe} until its value passes {@code ok}, and returns that value; fails after
   * {@code timeoutMs} with {@code what} and the last value seen (a probe that throws counts as not yet).
   */
  public static <T> T until(String what, Callable<T> probe, Predicate<? super T> ok, long timeoutMs) {
    return until(what, probe, ok, timeoutMs, POLL_MS);
  }

  /**
   * {@link #until(String, Callable, Predicate, long)}, polling every {@code pollMs}: for a probe
   * that also acts (sends the events whose outcome it looks for), this paces what it does.
   */
  public static <T> T until(String what, Callable<T> probe, Predicate<? super T> ok, long timeoutMs, long pollMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    T last = null;
    Exception failure = null;
    while (true) {
      try {
        last = probe.call();
        failure = null;
        if (ok.test(last)) {
          return last;
        }
      } catch (Exception e) {
        failure = e;
      }
      if (System.currentTimeMillis() >= deadline) {
        throw new AssertionError(what + ": not within " + timeoutMs + " ms; last seen " + last
            + (failure != null ? " (" + failure + ")" : ""), failure);
      }
      try {
        Thread.sleep(pollMs); // the poll interval of a wait with a deadline, not a wait for an outcome
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(what + ": interrupted", e);
      }
    }
  }
}

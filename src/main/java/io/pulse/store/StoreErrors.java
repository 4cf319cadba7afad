package io.pulse.store;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Which failures of a write are worth retrying as they are, and how to say what is wrong. */
public final class StoreErrors {

  private StoreErrors() {
  }

  /**
   * The database is away or busy (connection refused or lost, server shutting down, out of
   * connections or resources, a serialisation conflict): retry the same write later. Anything else
   * (a constraint, bad data) would fail again the same way.
   */
  public static boolean transientFailure(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException) {
        String state = ((PgException) c).getSqlState();
        return state == null || state.startsWith("08") || state.startsWith("53") || state.startsWith("57P")
            || state.equals("40001") || state.equals("40P01") || state.startsWith("58");
      }
      if (c instanceof IOException || c instanceof io.vertx.core.VertxException
          || c instanceof java.util.concurrent.TimeoutException) {
        return true; // connection refused or closed, pool closed, timeouts
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /**
   * The database gave no answer within the bound ({@code storage.queryTimeoutMs}): it is hung,
   * stopped or unreachable. Transient, like a lost connection.
   */
  public static final class NoAnswer extends java.util.concurrent.TimeoutException {
    private static final long serialVersionUID = 1L;

    public NoAnswer(long ms) {
      super("no answer within " + ms + " ms (storage.queryTimeoutMs)");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /**
   * {@code f}, failed with {@link NoAnswer} when it has not completed within {@code ms}; the
   * operation itself goes on (its connection comes back to the pool when the database answers).
   */
  public static <T> Future<T> bounded(Future<T> f, long ms) {
    if (f.isComplete()) {
      return f;
    }
    return f.timeout(ms, TimeUnit.MILLISECONDS).recover(e -> Future.failedFuture(
        e instanceof java.util.concurrent.TimeoutException && !(e instanceof NoAnswer) && !f.isComplete()
            ? new NoAnswer(ms) : e));
  }

  /** Whether the database refused the request for its content (SQLSTATE class 22, data exception). */
  public static boolean dataException(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException) {
        String state = ((PgException) c).getSqlState();
        return state != null && state.startsWith("22");
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /** One line for logs and readiness. */
  public static String describe(Throwable e) {
    String m = Database.rootMessage(e);
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}

package io.pulse.store;

import io.vertx.pgclient.PgException;
import java.io.IOException;

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

  /** One line for logs and readiness. */
  public static String describe(Throwable e) {
    String m = Database.rootMessage(e);
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}

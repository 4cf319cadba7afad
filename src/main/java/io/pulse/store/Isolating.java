package io.pulse.store;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Writes a batch so that one row the database refuses for its content never fails the others.
 *
 * <p>The whole batch is tried in one statement. When the database refuses it for its content (not
 * {@link StoreErrors#transientFailure transient}), the batch is halved and each half tried on its
 * own, down to single rows; a single row refused is given up and reported in {@link Outcome#refused}.
 * When the database is away or busy, nothing more is tried: the rows not written yet are in
 * {@link Outcome#remaining}, for the caller to try again later (the rows already written are not
 * among them, so a retry never writes them twice). A batch with k refused rows among n costs about
 * 2k·log2(n) statements.
 */
public final class Isolating {

  private Isolating() {
  }

  /** A refused row and why. */
  public record Refusal<T>(T row, Throwable cause) {
  }

  /**
   * How a batch went: rows written, rows refused (each once), rows left for later after a transient
   * failure ({@code transientCause}, null when there was none).
   */
  public record Outcome<T>(int written, List<Refusal<T>> refused, List<T> remaining, Throwable transientCause) {
  }

  /** Writes {@code rows} through {@code write} (one statement for the rows it is given). */
  public static <T> Future<Outcome<T>> write(List<T> rows, Function<List<T>, Future<?>> write) {
    Acc<T> acc = new Acc<>();
    return step(List.copyOf(rows), write, acc).map(v -> new Outcome<>(acc.written, acc.refused, acc.remaining,
        acc.transientCause));
  }

  private static final class Acc<T> {
    int written;
    final List<Refusal<T>> refused = new ArrayList<>();
    final List<T> remaining = new ArrayList<>();
    Throwable transientCause;
  }

  private static <T> Future<Void> step(List<T> rows, Function<List<T>, Future<?>> write, Acc<T> acc) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    if (acc.transientCause != null) {
      acc.remaining.addAll(rows);
      return Future.succeededFuture();
    }
    Future<?> f;
    try {
      f = write.apply(rows);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.transform(ar -> {
      if (ar.succeeded()) {
        acc.written += rows.size();
        return Future.succeededFuture();
      }
      Throwable e = ar.cause();
      if (StoreErrors.transientFailure(e)) {
        acc.transientCause = e;
        acc.remaining.addAll(rows);
        return Future.succeededFuture();
      }
      if (rows.size() == 1) {
        acc.refused.add(new Refusal<>(rows.get(0), e));
        return Future.succeededFuture();
      }
      int half = rows.size() / 2;
      List<T> second = rows.subList(half, rows.size());
      return step(rows.subList(0, half), write, acc).compose(v -> step(second, write, acc));
    });
  }
}

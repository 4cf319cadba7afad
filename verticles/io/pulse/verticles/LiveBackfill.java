package io.pulse.verticles;

import io.pulse.agg.View;
import io.pulse.live.BackfillPlan;
import io.pulse.live.LiveSubscription;
import io.pulse.live.Outbox;
import io.pulse.store.History;
import io.pulse.store.RollupStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.List;

/**
 * Reads the history of a since= subscription by its {@link BackfillPlan} and hands it to the
 * subscription's {@link Outbox}. Before reading, it gives the shards one flush tick to close the
 * windows before the boundary and asks storage to write every final it holds.
 */
final class LiveBackfill {

  /** How long a since= subscription waits for storage to write what it holds before reading history. */
  private static final long SYNC_WAIT_MS = 5_000;
  /** Beyond one flush tick: for the shards' last finals before a since= boundary to reach storage. */
  private static final long SETTLE_MS = 250;

  private final Vertx vertx;
  private final PulseContext ctx;
  /** Where stored windows are merged (the HTTP verticle's history pool), never on the event loop. */
  private final WorkerExecutor history;

  LiveBackfill(Vertx vertx, PulseContext ctx, WorkerExecutor history) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.history = history;
  }

  private record Read(BackfillPlan.Windows windows, String warning) {
  }

  void read(LiveSubscription s) {
    Outbox o = s.outbox();
    View view = ctx.views.byId(s.viewId());
    if (view == null) {
      o.noHistory(s);
      return;
    }
    BackfillPlan plan = BackfillPlan.of(s.since(), ctx.clock.millis(), view.windowMs(),
        ctx.config.aggregation().allowedLatenessMs());
    o.reading(s, plan);
    Promise<Void> settled = Promise.promise();
    vertx.setTimer(ctx.config.live().flushMs() + SETTLE_MS, t -> settled.complete());
    settled.future()
        .compose(v -> vertx.eventBus().request(Addresses.STORE_SYNC, "sync",
            new DeliveryOptions().setSendTimeout(SYNC_WAIT_MS)))
        .map(m -> (String) null)
        .otherwise(e -> BackfillPlan.STORAGE_BEHIND)
        .compose(warning -> (plan.readsStorage() ? ctx.rollups.read(plan.request(view), History.MAX_ROWS)
                : Future.succeededFuture(List.<RollupStore.Stored>of()))
            .compose(rows -> history.executeBlocking(() -> plan.windows(s, view, rows, ctx.codec,
                ctx.config.aggregation().sketchMaxBins()), false))
            .map(w -> new Read(w, warning)))
        .onComplete(ar -> {
          if (ar.failed()) {
            o.history(s, List.of(), plan.done(0, false, ar.cause().getMessage(), null, view.stream().name()));
          } else {
            BackfillPlan.Windows w = ar.result().windows();
            o.history(s, w.messages(), plan.done(w.messages().size(), w.truncated(), null, ar.result().warning(),
                view.stream().name()));
          }
        });
  }
}

package io.pulse.verticles;

import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.Durations;
import io.pulse.live.LiveBatch;
import io.pulse.live.LiveJson;
import io.pulse.live.LiveMessage;
import io.pulse.live.ResumeLog;
import io.pulse.live.RollupBatch;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The live feed's sequencer: one instance. It turns the shards' rollups into messages, encoding
 * each once, numbers the final ones per view and keeps them in a bounded resume log, and publishes
 * them to the hub of every HTTP instance, which writes them to its own connections.
 */
public final class LiveVerticle extends VerticleBase {

  private final PulseContext ctx;
  /** Views somebody watches or watched within the grace period, with their resume logs. */
  private final Map<Integer, ResumeLog> logs = new HashMap<>();
  /**
   * The highest final number any log has given out: a new log starts above it, so that a client
   * resuming with an id from a view that was evicted or retired and then made again resets rather
   * than being handed another incarnation's messages under numbers it thinks it knows.
   */
  private long highWater = -1;
  private long timer = -1;

  public LiveVerticle(PulseContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Future<?> start() {
    MessageConsumer<RollupBatch> rollups = vertx.eventBus().consumer(Addresses.ROLLUPS, m -> onRollups(m.body()));
    MessageConsumer<SubscribeRequest> subs = vertx.eventBus().consumer(Addresses.LIVE_SUBSCRIBE, this::onSubscribe);
    MessageConsumer<Integer> release = vertx.eventBus().consumer(Addresses.LIVE_RELEASE, m -> {
      View v = ctx.views.byId(m.body());
      if (v != null) {
        ctx.views.release(v, ctx.clock.millis());
      }
    });
    MessageConsumer<Object> shutdown = vertx.eventBus().consumer(Addresses.LIVE_SHUTDOWN, m -> {
      vertx.eventBus().publish(Addresses.LIVE_UPDATES, new LiveBatch(List.of(), true));
      m.reply(true);
    });
    timer = vertx.setPeriodic(1000, t -> retire());
    return Future.all(rollups.completion(), subs.completion(), release.completion(), shutdown.completion());
  }

  private void onRollups(RollupBatch batch) {
    List<LiveMessage> out = new ArrayList<>();
    for (Rollup r : batch.rollups()) {
      View v = r.view();
      ResumeLog log = logs.get(v.id());
      if (log == null) {
        continue; // nobody watches this view; storage takes finals from the shards directly
      }
      String json = LiveJson.rollup(r);
      if (r.fin()) {
        // the resume log keeps finals for a while: without their windows (and sketches), which only storage needs
        LiveMessage m = new LiveMessage(v.id(), r.series().toString(), true, log.next(), "rollup", json,
            r.withoutWindow());
        highWater = Math.max(highWater, m.seq());
        log.append(m);
        out.add(m);
      } else {
        // an older window may still be open (lateness): a resume from storage starts at the oldest one that can be
        long w = v.windowMs();
        long stillOpen = r.start() - Math.floorDiv(ctx.config.aggregation().allowedLatenessMs() + w - 1, w) * w;
        out.add(new LiveMessage(v.id(), r.series().toString(), false, log.seq(), "rollup", json, r, stillOpen));
      }
    }
    if (!out.isEmpty()) {
      vertx.eventBus().publish(Addresses.LIVE_UPDATES, new LiveBatch(out, false));
    }
  }

  private void onSubscribe(Message<SubscribeRequest> m) {
    SubscribeRequest req = m.body();
    View v;
    List<View> evicted = new ArrayList<>(1);
    try {
      v = ctx.views.acquire(req.stream(), req.filter(), req.groupBy(), evicted);
    } catch (ViewRegistry.ViewException e) {
      m.reply(SubscribeReply.failed(e.getMessage()));
      return;
    }
    for (View gone : evicted) {
      logs.remove(gone.id()); // made room for a watched view; a client resuming into it later resets
    }
    ResumeLog log = logs.computeIfAbsent(v.id(), id -> new ResumeLog(ctx.config.live().resumeBufferSize(),
        highWater + 1));
    List<LiveMessage> replay = List.of();
    boolean reset = false;
    String reason = null;
    Long resumeFrom = null;
    if (req.lastEventId() != null && !req.lastEventId().isBlank()) {
      String lastId = req.lastEventId();
      Long at = null;
      int tilde = lastId.indexOf('~');
      if (tilde >= 0) {
        try {
          at = Long.parseLong(lastId.substring(tilde + 1));
        } catch (NumberFormatException e) {
          at = null;
        }
        lastId = lastId.substring(0, tilde);
      }
      int dot = lastId.indexOf('.');
      if (dot >= 0) {
        lastId = lastId.substring(0, dot); // a running update's id: resume after the final before it
      }
      String[] parts = lastId.split("-", 2);
      long after = -1;
      if (parts.length == 2 && parts[0].equals(ctx.bootId)) {
        try {
          after = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
          after = -1;
        }
      }
      List<LiveMessage> missed = after < 0 ? null : log.after(after);
      if (missed == null && at != null && ctx.storageEnabled()) {
        resumeFrom = at; // not in the resume log (another run, or too old): storage replays from that window
      } else if (missed == null) {
        reset = true;
        reason = after < 0 ? "the last event id is from an earlier server run or malformed; start afresh"
            : "the messages after that id are no longer held; start afresh";
      } else {
        replay = missed;
      }
    }
    m.reply(new SubscribeReply(v.id(), v.stream(), v.allDims() ? null : v.groupBy(),
        Durations.format(v.windowMs()), log.seq(), replay, reset, reason, null, resumeFrom));
  }

  /** Retires views nobody has watched for the grace period, and their resume logs. */
  private void retire() {
    long now = ctx.clock.millis();
    long grace = ctx.config.live().viewGraceMs();
    ctx.views.retireIdle(now, grace);
    Iterator<Map.Entry<Integer, ResumeLog>> it = logs.entrySet().iterator();
    while (it.hasNext()) {
      View v = ctx.views.byId(it.next().getKey());
      if (v == null || (v.subscribers() == 0 && now - v.idleSince() >= grace)) {
        it.remove();
      }
    }
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}

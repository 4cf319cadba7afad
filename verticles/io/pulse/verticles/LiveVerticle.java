package io.pulse.verticles;

import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.live.LiveBatch;
import io.pulse.live.LiveMessage;
import io.pulse.live.RollupBatch;
import io.pulse.live.Sequencer;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;

/**
 * The live feed's sequencer ({@link Sequencer}), one instance, on the event bus: it takes the
 * shards' rollups and publishes the sequenced messages to the hub of every HTTP instance, which
 * writes them to its own connections; it answers subscriptions and retires idle views.
 */
public final class LiveVerticle extends VerticleBase {

  private final PulseContext ctx;
  private final Sequencer sequencer;
  private long timer = -1;

  public LiveVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.sequencer = new Sequencer(ctx.config.live().resumeBufferSize(),
        ctx.config.aggregation().allowedLatenessMs(), ctx.bootId, ctx.storageEnabled());
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
    MessageConsumer<io.vertx.core.json.JsonObject> alerts = vertx.eventBus().consumer(Addresses.ALERTS,
        m -> onAlert(m.body()));
    MessageConsumer<io.vertx.core.json.JsonObject> remoteAlerts = vertx.eventBus().consumer(Addresses.REMOTE_ALERTS,
        m -> onAlert(m.body()));
    timer = vertx.setPeriodic(1000, t -> retire());
    return Future.all(List.of(rollups.completion(), subs.completion(), release.completion(), shutdown.completion(),
        alerts.completion(), remoteAlerts.completion()));
  }

  private void onRollups(RollupBatch batch) {
    List<LiveMessage> out = sequencer.messages(batch.rollups());
    if (!out.isEmpty()) {
      vertx.eventBus().publish(Addresses.LIVE_UPDATES, new LiveBatch(out, false));
    }
  }

  /** An alert transition to the subscribers of its stream, as API.md's alert message. */
  private void onAlert(io.vertx.core.json.JsonObject transition) {
    io.pulse.core.StreamId stream;
    try {
      stream = io.pulse.core.StreamId.of(transition.getString("tenant"), transition.getString("stream"));
    } catch (RuntimeException e) {
      return; // not a stream's alert: nothing on the live feed carries it
    }
    io.vertx.core.json.JsonObject seriesJson = transition.getJsonObject("series");
    io.pulse.event.Dims series = seriesJson == null || seriesJson.isEmpty() ? io.pulse.event.Dims.EMPTY
        : io.pulse.event.Dims.of(seriesJson.getMap().entrySet().stream().collect(java.util.stream.Collectors.toMap(
            java.util.Map.Entry::getKey, e -> String.valueOf(e.getValue()))));
    List<LiveMessage> out = sequencer.alert(ctx.views.views(stream), series, transition.getString("id"),
        io.pulse.live.LiveJson.alert(transition));
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
    m.reply(sequencer.subscribe(v, evicted, req.lastEventId()));
  }

  /** Retires views nobody has watched for the grace period, and their resume logs. */
  private void retire() {
    sequencer.retire(ctx.views, ctx.clock.millis(), ctx.config.live().viewGraceMs());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}

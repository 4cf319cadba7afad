package io.pulse.verticles;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.TimeGauge;
import io.pulse.config.PulseConfig;
import io.pulse.notify.Delivery;
import io.pulse.notify.Notifier;
import io.pulse.notify.Signature;
import io.pulse.notify.Webhook;
import io.pulse.store.StoreErrors;
import io.pulse.store.WebhookStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alert transitions to webhooks: adapts {@link Notifier} (grouping, retries, give-up, bounds) to
 * the event bus, an HTTP client and {@link WebhookStore}. One instance, deployed with storage on.
 * <ul>
 *   <li>{@link Addresses#ALERTS}: each transition goes to the notifier;</li>
 *   <li>every {@link #TICK_MS}: groups that are due become deliveries, due deliveries are signed and
 *       POSTed, and every delivery that changed is stored in one batch (one save at a time; what the
 *       database did not take is kept for the next);</li>
 *   <li>at start, the webhooks and the pending deliveries are loaded: deliveries resume after a restart;</li>
 *   <li>{@link Addresses#NOTIFY_WEBHOOKS} reloads the webhooks after a change through the API,
 *       {@link Addresses#NOTIFY_SYNC} stores what changed before the API lists deliveries,
 *       {@link Addresses#NOTIFY_TEST} sends a test notification and answers its first attempt.</li>
 * </ul>
 */
public final class NotifyVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(NotifyVerticle.class);
  static final long TICK_MS = 50;
  private static final long EXPIRE_EVERY_MS = 3_600_000L;
  /** The webhooks are loaded again this often too, should a change's reload message not have arrived. */
  static final long RELOAD_EVERY_MS = 30_000L;
  /** Bytes of a receiver's answer kept for the error message. */
  private static final int ERROR_BODY_CHARS = 200;

  private final PulseContext ctx;
  private final PulseConfig.Notify cfg;
  private Notifier notifier;
  private WebhookStore store;
  private HttpClientAgent client;
  private Future<Void> saving = Future.succeededFuture();
  private boolean storeFailing;
  /** Test notifications whose first attempt a caller waits for, by delivery id. */
  private final Map<String, Message<Object>> testWaiters = new HashMap<>();
  private long tickTimer = -1;
  private long expireTimer = -1;
  private long reloadTimer = -1;

  public NotifyVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.cfg = ctx.config.notifications();
  }

  @Override
  public Future<?> start() {
    store = new WebhookStore(ctx.db.pool());
    notifier = new Notifier(cfg, ctx.clock, new java.util.Random(),
        () -> "d-" + java.util.UUID.randomUUID().toString().replace("-", "")); // random: unique across restarts
    client = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.connectTimeoutMs()))
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, cfg.requestTimeoutMs()))
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(Math.max(1, cfg.maxInFlight())));
    meters();
    long bound = Math.max(30_000, 3 * ctx.config.storage().queryTimeoutMs());
    Future<Void> loaded = StoreErrors.bounded(store.all(), bound).map(hooks -> {
      notifier.webhooks(hooks);
      return hooks.size();
    }).compose(n -> StoreErrors.bounded(store.pending(), bound).map(pending -> {
      notifier.resume(pending);
      if (n > 0 || !pending.isEmpty()) {
        LOG.info("notify: {} webhook(s), {} pending deliver{} resumed", n, pending.size(),
            pending.size() == 1 ? "y" : "ies");
      }
      return null;
    }));
    return loaded.compose(v -> listen()) // transitions are taken once the webhooks are known
        .onSuccess(v -> {
          tickTimer = vertx.setPeriodic(TICK_MS, t -> tick());
          expireTimer = vertx.setPeriodic(60_000, EXPIRE_EVERY_MS, t -> expire());
          reloadTimer = vertx.setPeriodic(RELOAD_EVERY_MS, t -> loadWebhooks());
        });
  }

  private Future<?> listen() {
    MessageConsumer<Object> alerts = vertx.eventBus().consumer(Addresses.ALERTS, m -> {
      if (m.body() instanceof JsonObject transition) {
        notifier.accept(transition);
      }
    });
    MessageConsumer<Object> reload = vertx.eventBus().consumer(Addresses.NOTIFY_WEBHOOKS, this::reload);
    MessageConsumer<Object> sync = vertx.eventBus().consumer(Addresses.NOTIFY_SYNC, m -> {
      if ("stop".equals(m.body())) { // the server stops: no new attempts; open groups and changes are stored
        vertx.cancelTimer(tickTimer);
        notifier.closeGroups();
      }
      save().onComplete(ar -> m.reply(ar.succeeded() ? 0 : 1));
    });
    MessageConsumer<JsonObject> test = vertx.eventBus().consumer(Addresses.NOTIFY_TEST, this::test);
    return Future.all(alerts.completion(), reload.completion(), sync.completion(), test.completion());
  }

  private void meters() {
    var reg = ctx.registry;
    String outcomes = "Webhook deliveries finished, by outcome: delivered, or failed because they gave_up (the give-up "
        + "age), queue_full (notify.maxPendingPerTenant) or webhook_gone (deleted); none is dropped unseen";
    FunctionCounter.builder("pulse.notify.deliveries", notifier, Notifier::delivered).tag("outcome", "delivered")
        .description(outcomes).register(reg);
    for (Notifier.FailReason r : Notifier.FailReason.values()) {
      FunctionCounter.builder("pulse.notify.deliveries", notifier, n -> n.failed(r)).tag("outcome", r.tag)
          .description(outcomes).register(reg);
    }
    FunctionCounter.builder("pulse.notify.failed", notifier, Notifier::failedTotal).description("Webhook deliveries marked failed, whatever the reason (stored, visible through the API)")
        .register(reg);
    for (Notifier.AttemptResult r : Notifier.AttemptResult.values()) {
      FunctionCounter.builder("pulse.notify.attempts", notifier, n -> n.attempts(r)).tag("result", r.tag)
          .description("Webhook POSTs by result: ok (2xx), http_error (another status), unreachable (no answer)")
          .register(reg);
    }
    for (Notifier.Accepted a : Notifier.Accepted.values()) {
      FunctionCounter.builder("pulse.notify.transitions", notifier, n -> n.transitions(a))
          .tag("handled", a.name().toLowerCase(java.util.Locale.ROOT))
          .description("Alert transitions seen: grouped (for a webhook), quiet (not notifying: pending, silenced, "
              + "flapping, notify:false), unmatched")
          .register(reg);
    }
    Gauge.builder("pulse.notify.pending", notifier, Notifier::pendingCount)
        .description("Webhook deliveries waiting to be delivered (first try or retry)").register(reg);
    Gauge.builder("pulse.notify.unstored", notifier, Notifier::unstored)
        .description("Delivery changes waiting to be stored: grows while the database is slow or away").register(reg);
    TimeGauge.builder("pulse.notify.oldest.pending.age", notifier, TimeUnit.MILLISECONDS,
            n -> n.oldestPendingAgeMs(ctx.clock.millis()))
        .description("Age of the oldest webhook delivery still waiting").register(reg);
  }

  private void tick() {
    for (Delivery d : notifier.tick()) {
      send(d);
    }
    save();
  }

  /** Signs and POSTs one attempt; its outcome goes back to the notifier. */
  private void send(Delivery d) {
    Webhook w = notifier.webhook(d.tenant(), d.webhook());
    if (w == null) {
      done(notifier.attempted(d.id(), null, "the webhook was deleted"));
      return;
    }
    RequestOptions opts = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(w.url().toString())
        .setConnectTimeout(cfg.connectTimeoutMs()).setIdleTimeout(cfg.requestTimeoutMs())
        .putHeader("Content-Type", "application/json").putHeader("User-Agent", "Pulse-Webhook/1");
    Signature.headers(w.secret(), ctx.clock.millis(), d.id(), d.body()).forEach(opts::putHeader);
    Buffer body = Buffer.buffer(d.body());
    io.vertx.core.http.HttpClientRequest[] sent = {null}; // reset when late: a trickling answer frees its connection
    client.request(opts)
        .compose(req -> (sent[0] = req).send(body))
        .compose(this::outcome)
        .timeout(cfg.requestTimeoutMs(), TimeUnit.MILLISECONDS)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            done(notifier.attempted(d.id(), ar.result().getInteger("status"), ar.result().getString("error")));
          } else {
            Throwable e = ar.cause();
            if (sent[0] != null) {
              sent[0].reset();
            }
            String why = e instanceof java.util.concurrent.TimeoutException
                ? "no answer within " + cfg.requestTimeoutMs() + " ms (notify.requestTimeoutMs)"
                : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            done(notifier.attempted(d.id(), null, why));
          }
        });
  }

  /** The status and, for a failure, the start of the receiver's answer (at most a few hundred characters). */
  private Future<JsonObject> outcome(HttpClientResponse resp) {
    int status = resp.statusCode();
    StringBuilder text = new StringBuilder();
    resp.handler(b -> {
      if (status >= 300 && text.length() < ERROR_BODY_CHARS) {
        text.append(b.toString(java.nio.charset.StandardCharsets.UTF_8));
      }
    });
    return resp.end().map(v -> new JsonObject().put("status", status)
        .put("error", text.length() == 0 ? null : text.substring(0, Math.min(text.length(), ERROR_BODY_CHARS))));
  }

  private void done(Delivery d) {
    if (d != null) {
      Message<Object> waiter = testWaiters.remove(d.id());
      if (waiter != null) {
        waiter.reply(d.toJson());
      }
    }
  }

  /** Stores what changed, after the save before it; what the database did not take waits for the next. */
  private Future<Void> save() {
    saving = saving.transform(ar -> {
      List<Delivery> rows = notifier.takeChanged();
      if (rows.isEmpty()) {
        return Future.succeededFuture();
      }
      return StoreErrors.bounded(store.save(rows), Math.max(10_000, 3 * ctx.config.storage().queryTimeoutMs()))
          .onSuccess(v -> storeFailing = false)
          .onFailure(e -> {
            notifier.notStored(rows);
            if (!storeFailing) { // once per outage, not at every tick
              LOG.warn("notify: {} delivery changes not stored, kept and tried again at each tick: {}", rows.size(),
                  StoreErrors.describe(e));
            }
            storeFailing = true;
          });
    });
    return saving;
  }

  private void reload(Message<Object> m) {
    loadWebhooks().onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(0);
      } else {
        m.fail(503, "webhooks not reloaded: " + StoreErrors.describe(ar.cause()));
      }
    });
  }

  private Future<Void> loadWebhooks() {
    return StoreErrors.bounded(store.all(), ctx.config.storage().queryTimeoutMs())
        .onSuccess(hooks -> notifier.webhooks(hooks))
        .onFailure(e -> LOG.warn("notify: loading the webhooks failed: {}", StoreErrors.describe(e))).mapEmpty();
  }

  private void test(Message<JsonObject> m) {
    Delivery d = notifier.test(m.body().getString("tenant"), m.body().getString("webhook"));
    if (d == null) {
      m.fail(404, "no webhook " + m.body().getString("webhook"));
      return;
    }
    if (!d.pending()) { // the tenant's queue is full: stored as failed
      m.reply(d.toJson());
      return;
    }
    @SuppressWarnings("unchecked")
    Message<Object> any = (Message<Object>) (Message<?>) m;
    testWaiters.put(d.id(), any);
    send(d);
  }

  private void expire() {
    store.expire(ctx.clock.millis() - cfg.keepMs())
        .onSuccess(n -> LOG.debug("notify: {} finished deliveries expired (notify.keepMs)", n))
        .onFailure(e -> LOG.warn("notify: expiring finished deliveries failed: {}", StoreErrors.describe(e)));
  }

  /**
   * For a stop, before the database closes: no new attempts, and every delivery change stored
   * (bounded by {@code ms}; what is not stored by then is only an attempt count: pending deliveries
   * are sent again on the next start).
   */
  static Future<Void> stopSending(io.vertx.core.Vertx vertx, PulseContext ctx, long ms) {
    if (ctx.db == null || !ctx.config.notifications().enabled()) {
      return Future.succeededFuture();
    }
    return vertx.eventBus().request(Addresses.NOTIFY_SYNC, "stop", new io.vertx.core.eventbus.DeliveryOptions()
        .setSendTimeout(ms)).<Void>mapEmpty().recover(e -> {
          LOG.warn("notify: delivery changes not stored at the stop ({}); pending deliveries are sent again on the "
              + "next start", e.getMessage());
          return Future.succeededFuture();
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(tickTimer);
    vertx.cancelTimer(expireTimer);
    vertx.cancelTimer(reloadTimer);
    return save().transform(ar -> client.close());
  }
}

package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;

import io.pulse.core.Caller;
import io.pulse.notify.Delivery;
import io.pulse.notify.Webhook;
import io.pulse.store.DefinitionStore;
import io.pulse.store.StoreErrors;
import io.pulse.store.WebhookStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Webhooks of the caller's tenant: CRUD (each change audited), their deliveries, and a test
 * notification. The secret is shown once, in the answer to the creation, and never again; a
 * {@code PUT} may set a new one. Routes in {@link Routes}; the sending is {@link NotifyVerticle}'s.
 */
final class WebhooksApi {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WebhooksApi.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_LIST = 1000;

  private final Vertx vertx;
  private final PulseContext ctx;
  private final WebhookStore store;
  private final long timeoutMs;

  WebhooksApi(Vertx vertx, PulseContext ctx) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.store = ctx.storageEnabled() ? new WebhookStore(ctx.db.pool()) : null;
    this.timeoutMs = ctx.config.storage().queryTimeoutMs();
  }

  void list(RoutingContext rc) {
    Caller caller = caller(rc);
    Replies.reply(rc, store.list(caller.tenant()).map(all -> {
      JsonArray items = new JsonArray();
      all.forEach(s -> items.add(s.toJson()));
      return new JsonObject().put("webhooks", items);
    }), 200, timeoutMs);
  }

  void get(RoutingContext rc) {
    Caller caller = caller(rc);
    Replies.reply(rc, store.get(caller.tenant(), webhookId(rc)).map(WebhookStore.Stored::toJson), 200, timeoutMs);
  }

  void create(RoutingContext rc) {
    Caller caller = caller(rc);
    JsonObject doc = Replies.bodyObject(rc);
    Object given = doc.getValue("id");
    if (given != null && !(given instanceof String s && Webhook.validId(s))) {
      throw new IllegalArgumentException("id: must match " + Webhook.ID_PATTERN);
    }
    String id = given != null ? (String) given : "wh-" + hex(6);
    Object s = doc.getValue("secret");
    if (s != null && !(s instanceof String)) {
      throw new IllegalArgumentException("secret: must be a string");
    }
    String secret = s != null ? (String) s : "whsec_" + hex(24);
    Webhook w = Webhook.parse(caller.tenant(), id, doc, secret);
    Future<JsonObject> f = StoreErrors.bounded(store.create(w, caller.actor(), ctx.clock.millis()), timeoutMs)
        .compose(stored -> reloaded().map(stored.toJson().put("secret", secret)));
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().putHeader(HttpHeaders.LOCATION, "/api/v1/webhooks/" + id);
      }
      Replies.answer(rc, ar, 201);
    });
  }

  void update(RoutingContext rc) {
    Caller caller = caller(rc);
    String id = webhookId(rc);
    JsonObject doc = Replies.bodyObject(rc);
    Object given = doc.getValue("id");
    if (given != null && !id.equals(given)) {
      throw new IllegalArgumentException("id: the document names " + given + " but the path names " + id);
    }
    Object s = doc.getValue("secret");
    if (s != null && !(s instanceof String)) {
      throw new IllegalArgumentException("secret: must be a string");
    }
    // without a new secret the stored one stays: this stand-in only lets the document be checked
    String secret = s != null ? (String) s : "unchanged-secret-placeholder";
    Webhook w = Webhook.parse(caller.tenant(), id, doc, secret);
    Replies.reply(rc, StoreErrors.bounded(store.update(w, s != null, caller.actor(), ctx.clock.millis()), timeoutMs)
        .compose(stored -> reloaded().map(stored.toJson())), 200, timeoutMs * 2);
  }

  void delete(RoutingContext rc) {
    Caller caller = caller(rc);
    String id = webhookId(rc);
    Replies.reply(rc, StoreErrors.bounded(store.delete(caller.tenant(), id, caller.actor(), ctx.clock.millis()),
        timeoutMs).compose(v -> reloaded().map(new JsonObject().put("deleted", id))), 200, timeoutMs * 2);
  }

  /** {@code ?state=pending|delivered|failed&limit=} (default 100, at most 1000), newest first. */
  void deliveries(RoutingContext rc) {
    Caller caller = caller(rc);
    String id = webhookId(rc);
    String stateText = rc.queryParams().get("state");
    Delivery.State state = stateText == null || stateText.isEmpty() ? null : Delivery.State.of(stateText);
    if (stateText != null && !stateText.isEmpty() && state == null) {
      throw new IllegalArgumentException("state: must be pending, delivered or failed");
    }
    int limit = Replies.params(rc).intParam("limit", 100, 1, MAX_LIST);
    // the notify verticle stores what changed first, so the list is as current as the sender
    Future<Object> synced = vertx.eventBus().request(Addresses.NOTIFY_SYNC, "sync",
        new DeliveryOptions().setSendTimeout(timeoutMs)).<Object>map(m -> m.body()).recover(e -> Future.succeededFuture());
    Replies.reply(rc, store.get(caller.tenant(), id)
        .compose(w -> synced)
        .compose(v -> store.deliveries(caller.tenant(), id, state, limit))
        .map(all -> {
          JsonArray items = new JsonArray();
          all.forEach(d -> items.add(d.toJson()));
          return new JsonObject().put("webhook", id).put("deliveries", items);
        }), 200, timeoutMs * 3);
  }

  /** Sends a signed test notification now; answers with the delivery after its first attempt. */
  void test(RoutingContext rc) {
    Caller caller = caller(rc);
    String id = webhookId(rc);
    long wait = ctx.config.notifications().requestTimeoutMs() + ctx.config.notifications().connectTimeoutMs() + 2_000;
    Future<JsonObject> f = StoreErrors.bounded(store.get(caller.tenant(), id), timeoutMs)
        .compose(w -> reloaded())
        .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.NOTIFY_TEST,
            new JsonObject().put("tenant", caller.tenant()).put("webhook", id), new DeliveryOptions().setSendTimeout(wait)))
        .map(m -> new JsonObject().put("delivery", m.body()))
        .recover(e -> e instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE
            ? Future.failedFuture(new DefinitionStore.Refused(r.failureCode() == 404 ? 404 : 503, r.getMessage()))
            : Future.failedFuture(e));
    f.onComplete(ar -> Replies.answer(rc, ar, 200));
  }

  /** A body past the limit: names this route's limit. */
  void tooLarge(RoutingContext rc) {
    if (rc.statusCode() == 413) {
      error(rc, 413, "the body is larger than a webhook document may be: at most " + DefinitionStore.MAX_DOC_BYTES
          + " bytes of JSON");
    } else {
      rc.next();
    }
  }

  /**
   * Completes once the notify verticle has loaded the webhooks as they now are, so that a test or a
   * transition right after this answer sees the change. A change is stored either way: should the
   * notifier not answer, it still takes it with its periodic reload ({@link NotifyVerticle}).
   */
  private Future<Void> reloaded() {
    return vertx.eventBus().request(Addresses.NOTIFY_WEBHOOKS, "reload", new DeliveryOptions().setSendTimeout(timeoutMs))
        .<Void>mapEmpty().recover(e -> {
          LOG.warn("notify: the notifier did not reload the webhooks after a change ({}); it will within {} s",
              e.getMessage(), NotifyVerticle.RELOAD_EVERY_MS / 1000);
          return Future.succeededFuture();
        });
  }

  private Caller caller(RoutingContext rc) {
    if (store == null) {
      throw new DefinitionStore.Refused(503,
          "storage is off (storage.enabled=false, PULSE_STORAGE=false): webhooks need the database");
    }
    if (!ctx.config.notifications().enabled()) {
      throw new DefinitionStore.Refused(503, "notifications are off (notify.enabled=false)");
    }
    return Callers.of(rc);
  }

  private static String webhookId(RoutingContext rc) {
    String id = rc.pathParam("id");
    if (!Webhook.validId(id)) {
      throw new DefinitionStore.Refused(404, "no webhook with that id (ids match " + Webhook.ID_PATTERN + ")");
    }
    return id;
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}

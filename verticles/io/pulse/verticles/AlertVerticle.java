package io.pulse.verticles;

import io.pulse.agg.Rollup;
import io.pulse.alert.AlertDesk;
import io.pulse.alert.AlertEngine;
import io.pulse.alert.Rule;
import io.pulse.alert.Silence;
import io.pulse.alert.Transition;
import io.pulse.live.RollupBatch;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.pulse.store.AlertStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerting on the event bus, one instance: an adapter of {@link AlertEngine}. It loads every
 * tenant's stored rules and silences at start, follows rule changes ({@link Addresses#RULES_CHANGED}),
 * feeds final rollups to the engine, ticks it every {@link #TICK_MS}, publishes each transition on
 * {@link Addresses#ALERTS} and stores it ({@link AlertStore}), and answers the alerts API
 * ({@link Addresses#ALERTS_REQUEST}, through {@link AlertDesk}). It keeps the view of every rule
 * acquired from the live verticle while a rule reads it, so on-demand views (a filter, a group-by
 * not configured) are not retired; permanent views need no acquiring, unless a rule fires early
 * on running updates ({@link Rule#firesEarly}), which shards send only for held views.
 */
public final class AlertVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AlertVerticle.class);
  static final long TICK_MS = 250;
  /** Transitions waiting for the database at most; past it the oldest go (logged), the bus had them. */
  static final int MAX_UNSTORED = 20_000;

  private final PulseContext ctx;
  private final AlertEngine engine;
  private final AlertDesk desk;
  private final AlertStore store;
  /** View spec -> the acquired view's id (-1 while asked for). */
  private final Map<String, Integer> acquired = new HashMap<>();
  private final List<Transition> unstored = new ArrayList<>();
  /** Waiting for everything emitted so far to be stored (a cluster handover). */
  private final List<io.vertx.core.Promise<Void>> storedWaiters = new ArrayList<>();
  /**
   * Cluster mode: the latest transition of every alert another instance raised (tenant NUL id ->
   * its JSON), so that listing, reading and acknowledging work on any instance. Bounded: resolved
   * ones go first past {@link #MAX_REMOTE}.
   */
  private final java.util.LinkedHashMap<String, JsonObject> remote = new java.util.LinkedHashMap<>();
  static final int MAX_REMOTE = 20_000;
  private boolean writing;
  private long timer = -1;
  private long dropped;
  private long ticks;
  /** Alerts active now, as of the last second's count (read by the meter registry's thread). */
  private volatile int active;
  private final Map<String, io.micrometer.core.instrument.Counter> transitions = new HashMap<>();

  public AlertVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.engine = new AlertEngine(AlertEngine.Settings.DEFAULT, "a" + ctx.bootId);
    this.desk = new AlertDesk(engine);
    this.store = ctx.storageEnabled() ? new AlertStore(ctx.db.pool()) : null;
    if (ctx.cluster != null) { // a rule is evaluated on the owner of its stream's home partition only
      ClusterLink cluster = ctx.cluster;
      engine.home(cluster::ownsHome);
    }
    for (io.pulse.alert.Alert.State st : io.pulse.alert.Alert.State.values()) {
      transitions.put(st.wire(), io.micrometer.core.instrument.Counter.builder("pulse.alerts.transitions")
          .tag("state", st.wire()).description("Alert transitions, by the state entered").register(ctx.registry));
    }
    io.micrometer.core.instrument.Gauge.builder("pulse.alerts.active", this, v -> v.active)
        .description("Alerts pending, firing or acknowledged").register(ctx.registry);
  }

  @Override
  public Future<?> start() {
    MessageConsumer<RollupBatch> rollups = vertx.eventBus().consumer(Addresses.ROLLUPS, m -> onRollups(m.body()));
    MessageConsumer<JsonObject> rules = vertx.eventBus().consumer(Addresses.RULES_CHANGED, m -> onRule(m.body()));
    MessageConsumer<JsonObject> requests = vertx.eventBus().consumer(Addresses.ALERTS_REQUEST, this::onRequest);
    MessageConsumer<JsonObject> remoteAlerts = vertx.eventBus().consumer(Addresses.REMOTE_ALERTS, m -> mirror(m.body()));
    MessageConsumer<JsonObject> ops = vertx.eventBus().consumer(Addresses.CLUSTER_ALERT_OPS, m -> remoteOp(m.body()));
    MessageConsumer<Object> silences = vertx.eventBus().consumer(Addresses.CLUSTER_SILENCES, m -> reloadSilences());
    MessageConsumer<JsonObject> handOver = vertx.eventBus().consumer(Addresses.CLUSTER_HANDOVER_ALERTS, this::handOver);
    MessageConsumer<JsonObject> takeOver = vertx.eventBus().consumer(Addresses.CLUSTER_TAKEOVER_ALERTS, this::takeOver);
    return Future.all(List.of(rollups.completion(), rules.completion(), requests.completion(), remoteAlerts.completion(),
        ops.completion(), silences.completion(), handOver.completion(), takeOver.completion())).compose(v -> load())
        .onSuccess(v -> {
          timer = vertx.setPeriodic(TICK_MS, t -> {
            emit(engine.tick(ctx.clock.millis()));
            flush();
            if (++ticks % 4 == 0) {
              active = engine.activeAlerts();
            }
          });
          syncViews();
        });
  }

  /**
   * Stored silences and rules, then the alerts a previous run left active: taken up again where
   * their rule still exists (state and acknowledgement kept), closed otherwise.
   */
  private Future<Void> load() {
    if (store == null) {
      return Future.succeededFuture();
    }
    long now = ctx.clock.millis();
    return store.silences(now - 86_400_000L)
        .onSuccess(all -> all.forEach(engine::putSilence))
        .compose(s -> store.rules())
        .onSuccess(all -> {
          for (AlertStore.StoredRule r : all) {
            put(r.tenant(), r.id(), r.doc(), now);
          }
          LOG.info("alerts: {} rule(s) loaded", all.size());
        })
        .compose(r -> ctx.cluster != null ? Future.<Void>succeededFuture() : store.active().compose(all -> restore(all, now)))
        .mapEmpty();
  }

  /**
   * Cluster mode: the home partitions of some streams leave this instance. Their alerts are no longer
   * raised here; the active ones stay listed (as the next owner's, through the mirror) and the reply
   * waits until every transition so far is stored, so the next owner takes them up as they stand.
   */
  private void handOver(Message<JsonObject> m) {
    Set<Integer> leaving = ClusterLink.partitions(m.body());
    List<Transition> handed = engine.handOver(s -> ctx.cluster.homeIn(s, leaving), ctx.clock.millis());
    handed.forEach(t -> mirror(t.toJson()));
    if (!handed.isEmpty()) {
      LOG.info("alerts: {} active alert(s) handed over with partitions {}", handed.size(), leaving);
    }
    stored().onComplete(ar -> m.reply(handed.size()));
  }

  /**
   * Cluster mode: the home partitions of some streams came to this instance. Their rules are evaluated
   * here from now on, and the alerts the last owner left active (stored) are taken up with their id,
   * state and acknowledgement; those whose rule is gone are closed.
   */
  private void takeOver(Message<JsonObject> m) {
    Set<Integer> taking = ClusterLink.partitions(m.body());
    java.util.function.Predicate<io.pulse.core.StreamId> mine = s -> ctx.cluster.homeIn(s, taking);
    if (store == null) {
      engine.takeUp(mine, ctx.clock.millis());
      m.reply(0);
      return;
    }
    store.active().onComplete(ar -> {
      long now = ctx.clock.millis();
      engine.takeUp(mine, now);
      if (ar.failed()) {
        LOG.warn("alerts: the active alerts of partitions {} could not be read ({}); a breach still active is "
            + "raised anew", taking, ar.cause().toString());
        m.reply(0);
        return;
      }
      int taken = 0;
      List<String> orphans = new ArrayList<>();
      for (AlertStore.Active a : ar.result()) {
        io.pulse.core.StreamId stream;
        try {
          stream = io.pulse.core.StreamId.of(a.tenant(), a.stream());
        } catch (IllegalArgumentException e) {
          continue;
        }
        if (!mine.test(stream) || engine.alert(a.tenant(), a.id()) != null) {
          continue;
        }
        if (restore(a, now)) {
          remote.remove(a.tenant() + '\0' + a.id());
          taken++;
        } else if (engine.rules(a.tenant()).stream().noneMatch(r -> r.id().equals(a.ruleId()))) {
          orphans.add(a.tenant() + "/" + a.id());
        }
      }
      int n = taken;
      store.closeOrphans(now, orphans).onComplete(c -> {
        LOG.info("alerts: partitions {} taken up: {} active alert(s) taken over, {} closed (their rule is gone)",
            taking, n, c.succeeded() ? c.result() : 0);
        m.reply(n);
      });
    });
  }

  /** Completes once every transition emitted so far is stored (or at once without storage). */
  private Future<Void> stored() {
    if (store == null || (unstored.isEmpty() && !writing)) {
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    storedWaiters.add(p);
    flush();
    return p.future();
  }

  /** Cluster mode: another instance's transition, kept for the alerts API here. */
  private void mirror(JsonObject t) {
    String key = t.getString("tenant") + '\0' + t.getString("id");
    remote.remove(key);
    remote.put(key, t);
    if (remote.size() > MAX_REMOTE) {
      var it = remote.entrySet().iterator();
      while (it.hasNext() && remote.size() > MAX_REMOTE) {
        if ("resolved".equals(it.next().getValue().getString("state"))) {
          it.remove();
        }
      }
      while (remote.size() > MAX_REMOTE) {
        remote.remove(remote.keySet().iterator().next());
      }
    }
  }

  /** Cluster mode: an acknowledgement made on another instance, for an alert this one raised. */
  private void remoteOp(JsonObject req) {
    if (engine.alert(req.getString("tenant"), req.getString("id")) == null) {
      return; // not this instance's
    }
    try {
      List<Transition> out = new ArrayList<>(1);
      desk.handle(req, ctx.clock.millis(), out);
      emit(out);
    } catch (AlertEngine.Refused e) {
      LOG.info("alerts: a request from another instance for {} was refused: {}", req.getString("id"), e.getMessage());
    }
  }

  /** Cluster mode: silences changed on another instance; the stored ones are read again. */
  private void reloadSilences() {
    if (store != null) {
      store.silences(ctx.clock.millis() - 86_400_000L).onSuccess(all -> {
        all.forEach(engine::putSilence);
        emit(engine.tick(ctx.clock.millis()));
      }).onFailure(e -> LOG.warn("alerts: silences changed elsewhere could not be read: {}", e.toString()));
    }
  }

  /** Tells the other instances that silences changed (cluster mode). */
  private void silencesChanged() {
    if (ctx.cluster != null) {
      ctx.cluster.export(new JsonObject().put("kind", "silences"))
          .onFailure(e -> LOG.warn("kafka: a silence change did not reach the other instances: {}", e.toString()));
    }
  }

  /** The cluster-wide answer of a list or get: this instance's alerts and the others' (cluster mode). */
  private JsonObject withRemote(JsonObject req, JsonObject answer) {
    if (ctx.cluster == null || !"list".equals(req.getString("op"))) {
      return answer;
    }
    String tenant = req.getString("tenant");
    String state = req.getString("state");
    String stream = req.getString("stream");
    io.vertx.core.json.JsonArray list = answer.getJsonArray("alerts");
    int added = 0;
    for (JsonObject t : remote.values()) {
      if (tenant.equals(t.getString("tenant")) && (state == null || state.equals(t.getString("state")))
          && (stream == null || stream.equals(t.getString("stream")))) {
        if (list.size() < io.pulse.alert.AlertDesk.MAX_LIST) {
          list.add(remoteJson(t));
        }
        added++;
      }
    }
    return answer.put("total", answer.getInteger("total", 0) + added);
  }

  private static JsonObject remoteJson(JsonObject t) {
    JsonObject a = t.copy();
    for (String k : List.of("type", "tenant", "previous", "notify", "reason")) {
      a.remove(k);
    }
    return a;
  }

  /**
   * A single node's start: the alerts the last run left active are taken up where their rule still
   * exists (state and acknowledgement kept), the others closed. (Not in cluster mode: there the stored
   * active alerts are other instances' too.)
   */
  private Future<Void> restore(List<AlertStore.Active> all, long now) {
    List<String> kept = new ArrayList<>();
    for (AlertStore.Active a : all) {
      if (restore(a, now)) {
        kept.add(a.tenant() + "/" + a.id());
      }
    }
    return store.closeActive(now, kept).onSuccess(n -> LOG.info("alerts: {} active alert(s) taken up, {} closed "
        + "(their rule is gone)", kept.size(), n)).mapEmpty();
  }

  /** Takes up one stored active alert in the engine (its id, state and acknowledgement); false when it cannot. */
  private boolean restore(AlertStore.Active a, long now) {
    return engine.restore(a.tenant(), a.ruleId(), a.series(), a.id(), io.pulse.alert.Alert.State.of(a.state()),
        a.value() == null ? Double.NaN : a.value(), a.message(), a.startedAt(), a.firedAt(), a.ack(), now);
  }

  private void onRollups(RollupBatch batch) {
    if (ctx.draining.get()) {
      return; // a stop closes every open window early: their partial figures must not raise or clear alerts
    }
    long now = ctx.clock.millis();
    ClusterLink cluster = ctx.cluster;
    for (Rollup r : batch.rollups()) {
      // cluster mode: a series' alerts are raised by the owner of its partition, a total's or
      // group-by's by the owner of its stream's home partition: once in the cluster
      if (cluster != null && (r.view().allDims() ? batch.remote() : !cluster.ownsHome(r.view().stream()))) {
        continue;
      }
      List<Transition> ts = engine.onRollup(r, now); // running ones: early firing only (Rule.firesEarly)
      if (!ts.isEmpty()) {
        emit(ts);
      }
    }
  }

  private void onRule(JsonObject change) {
    long now = ctx.clock.millis();
    String tenant = change.getString("tenant");
    String id = change.getString("id");
    JsonObject doc = change.getJsonObject("doc");
    if (doc == null) {
      emit(engine.removeRule(tenant, id, now));
    } else {
      put(tenant, id, doc, now);
    }
    syncViews();
  }

  private void put(String tenant, String id, JsonObject doc, long now) {
    try {
      emit(engine.putRule(Rule.parse(tenant, id, doc), now));
    } catch (IllegalArgumentException e) {
      // stored before validation existed, or under other rules: it cannot be evaluated
      LOG.warn("alerts: rule {} of tenant {} is not evaluated: {}", id, tenant, e.getMessage());
      emit(engine.removeRule(tenant, id, now));
    }
  }

  private void onRequest(Message<JsonObject> m) {
    JsonObject req = m.body();
    long now = ctx.clock.millis();
    try {
      if ("silence.put".equals(req.getString("op"))) {
        Silence s = AlertDesk.silence(req, now);
        engine.checkSilenceRoom(s.tenant()); // refused at the tenant's cap before anything is stored
        (store == null ? Future.<Void>succeededFuture() : store.save(s)).onComplete(ar -> {
          if (ar.failed()) {
            m.fail(503, "storage: the silence could not be stored: " + ar.cause().getMessage());
            return;
          }
          engine.putSilence(s);
          emit(engine.tick(ctx.clock.millis())); // takes effect at once
          silencesChanged();
          m.reply(s.toJson(ctx.clock.millis()));
        });
        return;
      }
      List<Transition> out = new ArrayList<>(1);
      String op = req.getString("op", "");
      if (ctx.cluster != null && List.of("get", "ack", "unack").contains(op)
          && engine.alert(req.getString("tenant"), req.getString("id")) == null) {
        JsonObject r = remote.get(req.getString("tenant") + '\0' + req.getString("id"));
        if (r != null) {
          if (!"get".equals(op)) { // the instance that raised it applies it; its transition comes back here
            ctx.cluster.export(new JsonObject().put("kind", "alert-op").put("request", req))
                .onFailure(e -> LOG.warn("kafka: an acknowledgement did not reach the other instances: {}", e.toString()));
          }
          m.reply(remoteJson(r).put("raisedElsewhere", true));
          return;
        }
      }
      JsonObject answer = withRemote(req, desk.handle(req, now, out));
      emit(out);
      if ("silence.expire".equals(req.getString("op"))) {
        if (store != null) {
          store.save(engine.silence(req.getString("tenant"), req.getString("id")))
              .onFailure(e -> LOG.warn("alerts: an expired silence could not be stored: {}", e.toString()));
        }
        emit(engine.tick(now));
        silencesChanged();
      }
      m.reply(answer);
    } catch (AlertEngine.Refused r) {
      m.fail(r.status(), r.getMessage());
    }
  }

  /** Publishes transitions and queues them for the store. */
  private void emit(List<Transition> ts) {
    for (Transition t : ts) {
      JsonObject json = t.toJson();
      vertx.eventBus().publish(Addresses.ALERTS, json);
      if (ctx.cluster != null) { // the other instances' subscribers see it too
        ctx.cluster.export(new JsonObject().put("kind", "alert").put("transition", json))
            .onFailure(e -> LOG.warn("kafka: an alert transition did not reach the output topic: {}", e.toString()));
      }
      transitions.get(t.state().wire()).increment();
      if (store != null) {
        unstored.add(t);
      }
    }
    if (unstored.size() > MAX_UNSTORED) {
      int n = unstored.size() - MAX_UNSTORED;
      unstored.subList(0, n).clear();
      dropped += n;
      LOG.warn("alerts: the database is behind; {} transition(s) not stored so far (published all the same)", dropped);
    }
  }

  /** Writes what waits, one batch at a time; a failed batch is retried on a later tick. */
  private void flush() {
    if (writing || unstored.isEmpty() || store == null) {
      return;
    }
    List<Transition> batch = new ArrayList<>(unstored.subList(0, Math.min(unstored.size(), 500)));
    writing = true;
    store.write(batch).onComplete(ar -> {
      writing = false;
      if (ar.succeeded()) {
        unstored.subList(0, batch.size()).clear();
        if (unstored.isEmpty()) {
          storedWaiters.forEach(io.vertx.core.Promise::tryComplete);
          storedWaiters.clear();
        } else if (!storedWaiters.isEmpty()) {
          flush(); // somebody waits: the next batch now, not at the next tick
        }
      } else {
        LOG.warn("alerts: storing {} transition(s) failed, will retry: {}", batch.size(), ar.cause().toString());
      }
    });
  }

  /** Acquires the views rules read and releases those no rule reads any more. */
  private void syncViews() {
    Set<String> needed = new HashSet<>();
    Map<String, Rule> bySpec = new HashMap<>();
    for (String tenant : tenantsWithRules()) {
      for (Rule r : engine.rules(tenant)) {
        if (!permanent(r)) {
          needed.add(r.viewSpec());
          bySpec.put(r.viewSpec(), r);
        }
      }
    }
    for (Map.Entry<String, Integer> e : new ArrayList<>(acquired.entrySet())) {
      if (!needed.contains(e.getKey()) && e.getValue() >= 0) {
        acquired.remove(e.getKey());
        vertx.eventBus().send(Addresses.LIVE_RELEASE, e.getValue());
      }
    }
    for (String spec : needed) {
      if (acquired.containsKey(spec)) {
        continue;
      }
      Rule r = bySpec.get(spec);
      acquired.put(spec, -1);
      vertx.eventBus().<SubscribeReply>request(Addresses.LIVE_SUBSCRIBE,
          new SubscribeRequest(r.stream(), r.filter(), r.groupBy(), null)).onComplete(ar -> {
            SubscribeReply reply = ar.succeeded() ? ar.result().body() : null;
            if (reply == null || reply.error() != null) {
              acquired.remove(spec);
              LOG.warn("alerts: the view of rule {} ({}) cannot be kept: {}; retried when rules change", r.id(), spec,
                  reply == null ? ar.cause().getMessage() : reply.error());
            } else if (acquired.get(spec) != null) {
              acquired.put(spec, reply.viewId());
            } else {
              vertx.eventBus().send(Addresses.LIVE_RELEASE, reply.viewId()); // no longer needed meanwhile
            }
          });
    }
  }

  private Set<String> tenantsWithRules() {
    Set<String> out = new HashSet<>();
    engine.viewSpecs().forEach(spec -> out.add(spec.substring(0, spec.indexOf('/'))));
    return out;
  }

  /**
   * The stream total and the configured group-bys always exist; a rule that fires early needs its
   * view's running updates, which shards send only for a view somebody holds, so it holds it too.
   */
  private boolean permanent(Rule r) {
    return !r.firesEarly() && r.filter().isEmpty()
        && (r.groupBy().isEmpty() || ctx.config.stream(r.stream().name()).groupBy().contains(r.groupBy()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    flush();
    return Future.succeededFuture();
  }
}

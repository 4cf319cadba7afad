package io.pulse.verticles;

import io.pulse.core.Clock;
import io.pulse.demo.Demo;
import io.pulse.demo.DemoStream;
import io.pulse.demo.Incident;
import io.pulse.event.Event;
import io.pulse.event.EventSink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the demo streams into Pulse: every tick it asks each generator for the events of
 * {@code (last, now]} and hands them to the sink as one batch. The generators are plain Java
 * ({@link Demo}); this verticle only drives them by the clock.
 */
public final class DemoVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DemoVerticle.class);

  /** How often events are generated, ms. */
  static final long TICK_MS = 250;
  /**
   * The longest stretch generated in one tick. After a stall (a laptop waking from sleep) the
   * generator skips ahead instead of replaying hours of backlog far past any allowed lateness.
   */
  static final long MAX_CATCH_UP_MS = 5_000;

  private final EventSink sink;
  private final Clock clock;
  private final long seed;
  private List<DemoStream> streams;
  private long last;
  private long timerId = -1;

  /** Where the ready rules are stored (null: storage off, they are announced to the alert engine only). */
  private final io.vertx.sqlclient.Pool rulesPool;

  public DemoVerticle(EventSink sink, Clock clock, long seed) {
    this(sink, clock, seed, null);
  }

  public DemoVerticle(EventSink sink, Clock clock, long seed, io.vertx.sqlclient.Pool rulesPool) {
    this.sink = sink;
    this.clock = clock;
    this.seed = seed;
    this.rulesPool = rulesPool;
  }

  @Override
  public Future<?> start() {
    streams = Demo.all(seed);
    last = clock.millis();
    timerId = vertx.setPeriodic(TICK_MS, id -> tick());
    LOG.info("Demo data on (seed {}): generating streams {}", seed,
        streams.stream().map(DemoStream::stream).collect(Collectors.joining(", ")));
    return readyRules().recover(e -> {
      LOG.warn("Demo: the ready rules could not be created ({}); the demo runs without them", e.toString());
      return Future.succeededFuture();
    }).compose(v -> readyDashboards().recover(e -> {
      LOG.warn("Demo: the ready dashboards could not be created ({}); the demo runs without them", e.toString());
      return Future.succeededFuture();
    }));
  }

  /**
   * The ready dashboards of the six cases ({@code dashboards/*.json}, ids {@code ready-<name>}) for
   * the tenant {@code default}, with storage only: each one whose id no current dashboard has is
   * created (a ready dashboard deleted by hand comes back on the next start; one changed is left as
   * it is). Read from the jar on a worker thread, stored through the asynchronous store.
   */
  private Future<Void> readyDashboards() {
    if (rulesPool == null) {
      return Future.succeededFuture();
    }
    String tenant = io.pulse.core.StreamId.DEFAULT_TENANT;
    io.pulse.store.DefinitionStore store = new io.pulse.store.DefinitionStore(rulesPool);
    io.pulse.store.DefinitionStore.Kind kind = io.pulse.store.DefinitionStore.Kind.DASHBOARD;
    return vertx.executeBlocking(io.pulse.dash.ReadyDashboards::all, false)
        .compose(ready -> store.list(tenant, kind).compose(existing -> {
          java.util.Set<String> ids = existing.stream().map(io.pulse.store.DefinitionStore.Definition::id)
              .collect(Collectors.toSet());
          Future<Void> chain = Future.succeededFuture();
          int made = 0;
          for (io.vertx.core.json.JsonObject doc : ready) {
            if (!ids.contains(doc.getString("id"))) {
              made++;
              // another process starting at the same time may have made it: a 409 is as good as made
              chain = chain.compose(v -> store.create(tenant, kind, doc, "pulse-demo", clock.millis()).<Void>mapEmpty()
                  .recover(e -> e instanceof io.pulse.store.DefinitionStore.Refused r && r.status() == 409
                      ? Future.succeededFuture() : Future.failedFuture(e)));
            }
          }
          int n = made;
          return chain.onSuccess(v -> LOG.info("Demo: {} ready dashboards created ({} were there)", n,
              ready.size() - n));
        }));
  }

  /**
   * The ready rules of the demo streams ({@code demo/rules.json}), for the tenant {@code default}:
   * with storage, each one no stored rule has the name of is created (so a rule a user changed or
   * deleted and made again under its name is left alone) and announced; without, they are announced
   * to the alert engine only, for this run.
   */
  private Future<Void> readyRules() {
    io.vertx.core.json.JsonArray ready = io.pulse.demo.DemoReport.readyRules();
    String tenant = io.pulse.core.StreamId.DEFAULT_TENANT;
    if (rulesPool == null) {
      for (int i = 0; i < ready.size(); i++) {
        announce(tenant, "demo-" + i, ready.getJsonObject(i));
      }
      return Future.succeededFuture();
    }
    io.pulse.store.DefinitionStore store = new io.pulse.store.DefinitionStore(rulesPool);
    io.pulse.store.DefinitionStore.Kind kind = io.pulse.store.DefinitionStore.Kind.RULE;
    return store.list(tenant, kind).compose(existing -> {
      java.util.Set<String> names = existing.stream().map(d -> d.doc().getString("name")).collect(Collectors.toSet());
      Future<Void> chain = Future.succeededFuture();
      int made = 0;
      for (int i = 0; i < ready.size(); i++) {
        io.vertx.core.json.JsonObject doc = ready.getJsonObject(i);
        if (!names.contains(doc.getString("name"))) {
          made++;
          chain = chain.compose(v -> store.create(tenant, kind, doc, "pulse-demo", clock.millis())
              .map(d -> {
                announce(tenant, d.id(), d.doc());
                return (Void) null;
              }));
        }
      }
      int n = made;
      return chain.onSuccess(v -> LOG.info("Demo: {} ready rules created ({} were there)", n, ready.size() - n));
    });
  }

  private void announce(String tenant, String id, io.vertx.core.json.JsonObject doc) {
    vertx.eventBus().publish(Addresses.RULES_CHANGED, new io.vertx.core.json.JsonObject().put("tenant", tenant)
        .put("id", id).put("doc", doc));
  }

  @Override
  public Future<?> stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    return Future.succeededFuture();
  }

  private void tick() {
    long now = clock.millis();
    if (now <= last) {
      return; // the clock stood still or stepped back: nothing new to generate
    }
    long from = last;
    if (now - from > MAX_CATCH_UP_MS) {
      LOG.warn("Demo generator fell {} ms behind; skipping to the last {} ms", now - from, MAX_CATCH_UP_MS);
      from = now - MAX_CATCH_UP_MS;
    }
    last = now;
    // Generators work on [from, to): ask for [from + 1, now + 1) to get (from, now].
    List<Event> batch = new ArrayList<>();
    for (DemoStream s : streams) {
      s.generate(from + 1, now + 1, batch::add);
      for (Incident i : s.incidents(from + 1, now + 1)) {
        if (i.start() > from) {
          LOG.info("Demo incident starts: {} on {}{} for {} s (magnitude {})", i.kind(), i.stream(),
              i.target(), i.durationMs() / 1000, String.format(Locale.ROOT, "%.3g", i.magnitude()));
        }
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      sink.accept(Collections.unmodifiableList(batch));
    } catch (RuntimeException e) {
      LOG.warn("Demo batch of {} events refused by the sink", batch.size(), e);
    }
  }
}

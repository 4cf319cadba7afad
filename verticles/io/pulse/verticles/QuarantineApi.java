package io.pulse.verticles;

import static io.pulse.verticles.Replies.json;

import io.pulse.core.Caller;
import io.pulse.core.Clock;
import io.pulse.http.QueryParams;
import io.pulse.ingest.Quarantine;
import io.pulse.store.AuditLog;
import io.pulse.store.DefinitionStore;
import io.pulse.store.QuarantineStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The quarantine (list, requeue, purge) and the audit log, in the caller's tenant; every change
 * is audited with the caller as the actor. Its routes are in {@link Routes}.
 */
final class QuarantineApi {

  private static final int MAX_LIST = 1000;
  private static final int MAX_REQUEUE = 1000;
  private static final int MAX_ACTION_CHARS = 200;
  /** 9999-12-31T23:59:59.999Z: the latest time a before= of a purge may name. */
  private static final long MAX_EPOCH_MS = 253_402_300_799_999L;

  /** Puts one stored event through ingest again; answers the reason if it is still refused, else null. */
  interface Requeue {
    /** Whether the payload would pass validation as one event: null if so, else why not. Ingests nothing. */
    String check(String tenant, String payload, String stream);

    /** Puts the payload through ingest: null when accepted, else why not (then ingest quarantined it anew). */
    String ingest(String tenant, String payload, String stream);
  }

  private final Clock clock;
  private final Quarantine memory;
  private final QuarantineStore quarantine;
  private final AuditLog audit;
  private final Requeue requeue;
  private final Supplier<Future<Void>> saveQuarantine;
  private final long timeoutMs;

  /**
   * @param pool the database, or null when storage is off (then only the in-memory quarantine is readable)
   * @param saveQuarantine has the events rejected a moment ago stored
   */
  QuarantineApi(Pool pool, long timeoutMs, Clock clock, Quarantine memory, Requeue requeue,
      Supplier<Future<Void>> saveQuarantine) {
    this.saveQuarantine = saveQuarantine;
    this.timeoutMs = timeoutMs;
    this.clock = clock;
    this.memory = memory;
    this.requeue = requeue;
    this.quarantine = pool == null ? null : new QuarantineStore(pool);
    this.audit = pool == null ? null : new AuditLog(pool);
  }

  void list(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    QueryParams q = Replies.params(rc);
    String stream = q.textParam("stream", QuarantineStore.MAX_STREAM_CHARS);
    int limit = q.intParam("limit", 100, 1, MAX_LIST);
    Long before = q.longParam("before");
    if (quarantine == null) {
      // storage off: the in-memory ring is all there is
      JsonArray items = new JsonArray();
      List<Quarantine.Entry> held = memory.list(caller.tenant(), stream, Integer.MAX_VALUE);
      for (Quarantine.Entry e : held.subList(0, Math.min(limit, held.size()))) {
        items.add(new JsonObject().put("at", e.at()).put("stream", e.stream()).put("source", e.source())
            .put("reason", e.reason()).put("payload", e.payload()).put("count", 1));
      }
      json(rc, 200, Callers.visible(rc, new JsonObject().put("items", items).put("total", held.size())
          .put("quarantinedSinceStart", memory.total()).put("capacity", memory.capacity()).put("stored", false),
          "items", "total", "quarantinedSinceStart"));
      return;
    }
    reply(rc, saved().compose(v -> quarantine.list(caller.tenant(), stream, limit, before)).map(page -> {
      JsonArray items = new JsonArray();
      page.items().forEach(i -> items.add(i.toJson()));
      JsonObject out = new JsonObject().put("items", items).put("total", page.rows()).put("events", page.events())
          .put("stored", true);
      if (page.items().size() == limit) {
        out.put("next", "/api/v1/quarantine?limit=" + limit
            + (stream == null ? "" : "&stream=" + QueryParams.encoded(stream))
            + "&before=" + page.items().get(limit - 1).id());
      }
      return Callers.visible(rc, out, "items", "total", "events");
    }));
  }

  /**
   * Requeues one item: refused at once (422, the item stays) when it still fails validation;
   * otherwise claimed (taken out of the quarantine, audited) and only then ingested, so a second
   * requeue of the same item finds nothing (404) instead of counting it twice.
   */
  void requeueOne(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    long id = quarantineId(rc);
    reply(rc, saved().compose(v -> quarantine.get(caller.tenant(), id)).compose(item -> {
      if (item == null) {
        return Future.failedFuture(noSuchEvent(rc));
      }
      String invalid = requeue.check(caller.tenant(), item.originalPayload(), item.originalStream());
      if (invalid != null) {
        return Future.failedFuture(new DefinitionStore.Refused(422, "still rejected: " + invalid));
      }
      return quarantine.claim(caller.tenant(), List.of(id), caller.actor(), clock.millis()).compose(claimed -> {
        if (claimed.isEmpty()) {
          return Future.failedFuture(noSuchEvent(rc)); // requeued or deleted by somebody else meanwhile
        }
        String still = requeue.ingest(caller.tenant(), item.originalPayload(), item.originalStream());
        return still != null
            ? Future.failedFuture(new DefinitionStore.Refused(422, "still rejected: " + still + " (quarantined anew)"))
            : Future.succeededFuture(new JsonObject().put("requeued", 1).put("id", id));
      });
    }));
  }

  /**
   * Requeues up to {@code limit} items of a stream (or all streams), oldest first in each page: those
   * that still fail validation stay; the others are claimed in one transaction and then ingested.
   */
  void requeueMany(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    QueryParams q = Replies.params(rc);
    String stream = q.textParam("stream", QuarantineStore.MAX_STREAM_CHARS);
    int limit = q.intParam("limit", 100, 1, MAX_REQUEUE);
    reply(rc, saved().compose(v -> quarantine.list(caller.tenant(), stream, limit, null)).compose(page -> {
      List<Long> valid = new ArrayList<>();
      JsonArray still = new JsonArray();
      for (QuarantineStore.Item item : page.items()) {
        String reason = requeue.check(caller.tenant(), item.originalPayload(), item.originalStream());
        if (reason == null) {
          valid.add(item.id());
        } else {
          still.add(new JsonObject().put("id", item.id()).put("error", reason));
        }
      }
      return quarantine.claim(caller.tenant(), valid, caller.actor(), clock.millis()).map(claimed -> {
        int requeued = 0;
        for (QuarantineStore.Item item : claimed) {
          String reason = requeue.ingest(caller.tenant(), item.originalPayload(), item.originalStream());
          if (reason == null) {
            requeued++;
          } else {
            still.add(new JsonObject().put("id", item.id()).put("error", reason + " (quarantined anew)"));
          }
        }
        return new JsonObject().put("requeued", requeued).put("stillRejected", still.size()).put("errors", still);
      });
    }));
  }

  void delete(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    long id = quarantineId(rc);
    reply(rc, saved().compose(v -> quarantine.purge(caller.tenant(), id, null, null, caller.actor(), clock.millis(),
            "quarantine.delete"))
        .compose(n -> n == 0 ? Future.failedFuture(noSuchEvent(rc)) : Future.succeededFuture(n))
        .map(n -> new JsonObject().put("deleted", n)));
  }

  /** Deletes by stream and/or age; deleting everything takes an explicit all=true. */
  void purge(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    QueryParams q = Replies.params(rc);
    String stream = q.textParam("stream", QuarantineStore.MAX_STREAM_CHARS);
    Long before = q.longParam("before");
    if (before != null && (before < 0 || before > MAX_EPOCH_MS)) {
      throw new IllegalArgumentException("before: epoch milliseconds from 0 to " + MAX_EPOCH_MS + " (year 9999)");
    }
    if (stream == null && before == null && !"true".equals(q.raw("all"))) {
      throw new IllegalArgumentException(
          "say what to purge: stream=, before= (epoch ms, by last seen), or all=true for everything");
    }
    reply(rc, saved().compose(v -> quarantine.purge(caller.tenant(), null, stream, before, caller.actor(),
        clock.millis(), "quarantine.purge"))
        .map(n -> new JsonObject().put("deleted", n)));
  }

  /** The {id} of a quarantine path; a 404 when it cannot be one. */
  private static long quarantineId(RoutingContext rc) {
    try {
      return Long.parseLong(rc.pathParam("id"));
    } catch (NumberFormatException e) {
      throw noSuchEvent(rc);
    }
  }

  private static DefinitionStore.Refused noSuchEvent(RoutingContext rc) {
    return new DefinitionStore.Refused(404, "no quarantined event " + QueryParams.shown(rc.pathParam("id")));
  }

  // ---- audit ----

  void auditList(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    QueryParams q = Replies.params(rc);
    int limit = q.intParam("limit", 100, 1, MAX_LIST);
    Long before = q.longParam("before");
    String action = q.textParam("action", MAX_ACTION_CHARS);
    String family = action == null || action.isBlank() ? null : action;
    reply(rc, audit.recent(caller.tenant(), limit, before, family).map(all -> {
      JsonArray items = new JsonArray();
      all.forEach(e -> items.add(e.toJson()));
      JsonObject out = new JsonObject().put("entries", items);
      if (all.size() == limit) {
        out.put("next", "/api/v1/audit?limit=" + limit + (family == null ? "" : "&action=" + QueryParams.encoded(family))
            + "&before=" + all.get(limit - 1).id());
      }
      return out;
    }));
  }

  // ---- helpers ----

  /** Has the events rejected a moment ago stored first; goes on regardless (the database may be away). */
  private Future<Void> saved() {
    return saveQuarantine.get().otherwiseEmpty();
  }

  private void needsStorage() {
    if (quarantine == null) {
      throw new DefinitionStore.Refused(503,
          "storage is off (storage.enabled=false, PULSE_STORAGE=false): this endpoint needs the database");
    }
  }

  private void reply(RoutingContext rc, Future<JsonObject> f) {
    Replies.reply(rc, f, 200, timeoutMs);
  }
}

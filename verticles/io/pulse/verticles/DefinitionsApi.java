package io.pulse.verticles;

import static io.pulse.verticles.HttpVerticle.error;
import static io.pulse.verticles.HttpVerticle.json;

import io.pulse.core.Clock;
import io.pulse.ingest.Quarantine;
import io.pulse.store.AuditLog;
import io.pulse.store.DefinitionStore;
import io.pulse.store.DefinitionStore.Kind;
import io.pulse.store.PgText;
import io.pulse.store.QuarantineStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stored-definitions part of the REST API: rules and dashboards (CRUD with versions), the
 * quarantine (list, requeue, purge) and the audit log. Mounted by {@link HttpVerticle}; its routes
 * are listed in {@link #mount} in the order of API.md.
 *
 * <p>Every request works on its caller's tenant ({@link HttpVerticle#caller}), and every change
 * names the caller's subject as the actor in the audit log ("anonymous" until JWT lands).
 */
final class DefinitionsApi {

  private static final Logger LOG = LoggerFactory.getLogger(DefinitionsApi.class);
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
  private final DefinitionStore definitions;
  private final QuarantineStore quarantine;
  private final AuditLog audit;
  private final Requeue requeue;
  private final Supplier<Future<Void>> saveQuarantine;
  private final long timeoutMs;

  /**
   * @param pool the database, or null when storage is off (then only the in-memory quarantine is readable)
   * @param timeoutMs how long a request may wait for the database before it answers 503 (storage.queryTimeoutMs)
   */
  DefinitionsApi(Pool pool, long timeoutMs, Clock clock, Quarantine memory, Requeue requeue,
      Supplier<Future<Void>> saveQuarantine) {
    this.saveQuarantine = saveQuarantine;
    this.timeoutMs = timeoutMs;
    this.clock = clock;
    this.memory = memory;
    this.requeue = requeue;
    this.definitions = pool == null ? null : new DefinitionStore(pool);
    this.quarantine = pool == null ? null : new QuarantineStore(pool);
    this.audit = pool == null ? null : new AuditLog(pool);
  }

  void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(DefinitionStore.MAX_DOC_BYTES + 4096);
    for (Kind kind : Kind.values()) {
      String base = "/api/v1/" + kind.plural();
      router.get(base).handler(guarded(rc -> list(rc, kind)));
      router.post(base).handler(body).handler(guarded(rc -> create(rc, kind)));
      router.get(base + "/:id").handler(guarded(rc -> get(rc, kind)));
      router.put(base + "/:id").handler(body).handler(guarded(rc -> update(rc, kind)));
      router.delete(base + "/:id").handler(guarded(rc -> delete(rc, kind)));
      router.get(base + "/:id/versions").handler(guarded(rc -> versions(rc, kind)));
      // a body past the limit: name this route's limit, not ingest's
      router.route(base).failureHandler(rc -> tooLarge(rc, kind));
      router.route(base + "/:id").failureHandler(rc -> tooLarge(rc, kind));
    }
    router.get("/api/v1/quarantine").handler(guarded(this::quarantineList));
    router.post("/api/v1/quarantine/requeue").handler(guarded(this::requeueMany));
    router.post("/api/v1/quarantine/:id/requeue").handler(guarded(this::requeueOne));
    router.delete("/api/v1/quarantine/:id").handler(guarded(this::quarantineDelete));
    router.delete("/api/v1/quarantine").handler(guarded(this::quarantinePurge));
    router.get("/api/v1/audit").handler(guarded(this::auditList));
  }

  /**
   * The one place a handler's refusal becomes an answer: a {@link DefinitionStore.Refused} thrown
   * before any database call answers its status, a bad parameter ({@link IllegalArgumentException})
   * answers 400. Handlers just check and throw.
   */
  private static Handler<RoutingContext> guarded(Handler<RoutingContext> h) {
    return rc -> {
      try {
        h.handle(rc);
      } catch (DefinitionStore.Refused r) {
        error(rc, r.status(), r.getMessage());
      } catch (IllegalArgumentException e) {
        error(rc, 400, e.getMessage());
      }
    };
  }

  private static void tooLarge(RoutingContext rc, Kind kind) {
    if (rc.statusCode() == 413) {
      error(rc, 413, "the body is larger than a " + kind.singular() + " document may be: at most "
          + DefinitionStore.MAX_DOC_BYTES + " bytes (" + DefinitionStore.MAX_DOC_BYTES / 1024 + " KiB) of JSON");
    } else {
      rc.next();
    }
  }

  // ---- rules and dashboards ----

  private void list(RoutingContext rc, Kind kind) {
    needsStorage();
    reply(rc, definitions.list(tenant(rc), kind).map(all -> new JsonObject().put(kind.plural(), toJson(all))), 200);
  }

  private void get(RoutingContext rc, Kind kind) {
    needsStorage();
    definition(rc, definitions.get(tenant(rc), kind, definitionId(rc, kind)), 200, null);
  }

  private void create(RoutingContext rc, Kind kind) {
    needsStorage();
    JsonObject doc = bodyObject(rc);
    definition(rc, definitions.create(tenant(rc), kind, doc, actor(rc), clock.millis()), 201, kind);
  }

  private void update(RoutingContext rc, Kind kind) {
    needsStorage();
    JsonObject doc = bodyObject(rc);
    Integer expected = expectedVersion(rc, doc);
    definition(rc, definitions.update(tenant(rc), kind, definitionId(rc, kind), doc, expected, actor(rc), clock.millis()),
        200, null);
  }

  private void delete(RoutingContext rc, Kind kind) {
    needsStorage();
    Integer expected = expectedVersion(rc, null);
    reply(rc, definitions.delete(tenant(rc), kind, definitionId(rc, kind), expected, actor(rc), clock.millis())
        .map(d -> new JsonObject().put("deleted", d.id()).put("version", d.version())), 200);
  }

  private void versions(RoutingContext rc, Kind kind) {
    needsStorage();
    reply(rc, definitions.history(tenant(rc), kind, definitionId(rc, kind))
        .map(all -> new JsonObject().put("versions", toJson(all))), 200);
  }

  private static JsonArray toJson(List<DefinitionStore.Definition> all) {
    JsonArray items = new JsonArray();
    all.forEach(d -> items.add(d.toJson()));
    return items;
  }

  /** The {id} of a definition path; a 404 when no definition can have it. */
  private static String definitionId(RoutingContext rc, Kind kind) {
    String id = rc.pathParam("id");
    if (!DefinitionStore.validId(id)) {
      throw new DefinitionStore.Refused(404, "no " + kind.singular() + " " + shown(id) + " (ids match "
          + DefinitionStore.ID_PATTERN + ")");
    }
    return id;
  }

  /** Answers with a definition and its ETag (and, for a creation, its Location), or the refusal. */
  private void definition(RoutingContext rc, Future<DefinitionStore.Definition> f, int status, Kind created) {
    StoreErrors.bounded(f, timeoutMs).onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().putHeader(HttpHeaders.ETAG, etag(ar.result().version()));
        if (created != null) {
          rc.response().putHeader(HttpHeaders.LOCATION, "/api/v1/" + created.plural() + "/" + ar.result().id());
        }
      }
      answer(rc, ar.map(DefinitionStore.Definition::toJson), status);
    });
  }

  /** The version a write is based on: If-Match ("3" or W/"3") or the body's "version"; null when not given. */
  private static Integer expectedVersion(RoutingContext rc, JsonObject doc) {
    String ifMatch = rc.request().getHeader(HttpHeaders.IF_MATCH);
    if (ifMatch != null && !ifMatch.trim().equals("*")) {
      String v = ifMatch.trim().replaceFirst("^W/", "").replace("\"", "");
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("If-Match: give the version you read, as the ETag showed it (\"3\")");
      }
    }
    Object v = doc == null ? null : doc.getValue("version");
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer i)) {
      throw new IllegalArgumentException("version: must be the whole number you read");
    }
    return i;
  }

  private static String etag(int version) {
    return "\"" + version + "\"";
  }

  // ---- quarantine ----

  private void quarantineList(RoutingContext rc) {
    String stream = textParam(rc, "stream", QuarantineStore.MAX_STREAM_CHARS);
    int limit = intParam(rc, "limit", 100, 1, MAX_LIST);
    Long before = longParam(rc, "before");
    if (quarantine == null) {
      // storage off: the in-memory ring is all there is
      JsonArray items = new JsonArray();
      List<Quarantine.Entry> held = memory.list(tenant(rc), stream, Integer.MAX_VALUE);
      for (Quarantine.Entry e : held.subList(0, Math.min(limit, held.size()))) {
        items.add(new JsonObject().put("at", e.at()).put("stream", e.stream()).put("source", e.source())
            .put("reason", e.reason()).put("payload", e.payload()).put("count", 1));
      }
      json(rc, 200, new JsonObject().put("items", items).put("total", held.size())
          .put("quarantinedSinceStart", memory.total()).put("capacity", memory.capacity()).put("stored", false));
      return;
    }
    reply(rc, saved().compose(v -> quarantine.list(tenant(rc), stream, limit, before)).map(page -> {
      JsonArray items = new JsonArray();
      page.items().forEach(i -> items.add(i.toJson()));
      JsonObject out = new JsonObject().put("items", items).put("total", page.rows()).put("events", page.events())
          .put("stored", true);
      if (page.items().size() == limit) {
        out.put("next", "/api/v1/quarantine?limit=" + limit + (stream == null ? "" : "&stream=" + encoded(stream))
            + "&before=" + page.items().get(limit - 1).id());
      }
      return out;
    }), 200);
  }

  /**
   * Requeues one item: refused at once (422, the item stays) when it still fails validation;
   * otherwise claimed (taken out of the quarantine, audited) and only then ingested, so a second
   * requeue of the same item finds nothing (404) instead of counting it twice.
   */
  private void requeueOne(RoutingContext rc) {
    needsStorage();
    long id = quarantineId(rc);
    reply(rc, saved().compose(v -> quarantine.get(tenant(rc), id)).compose(item -> {
      if (item == null) {
        return Future.failedFuture(noSuchEvent(rc));
      }
      String invalid = requeue.check(tenant(rc), item.originalPayload(), item.originalStream());
      if (invalid != null) {
        return Future.failedFuture(new DefinitionStore.Refused(422, "still rejected: " + invalid));
      }
      return quarantine.claim(tenant(rc), List.of(id), actor(rc), clock.millis()).compose(claimed -> {
        if (claimed.isEmpty()) {
          return Future.failedFuture(noSuchEvent(rc)); // requeued or deleted by somebody else meanwhile
        }
        String still = requeue.ingest(tenant(rc), item.originalPayload(), item.originalStream());
        return still != null
            ? Future.failedFuture(new DefinitionStore.Refused(422, "still rejected: " + still + " (quarantined anew)"))
            : Future.succeededFuture(new JsonObject().put("requeued", 1).put("id", id));
      });
    }), 200);
  }

  /**
   * Requeues up to {@code limit} items of a stream (or all streams), oldest first in each page: those
   * that still fail validation stay; the others are claimed in one transaction and then ingested.
   */
  private void requeueMany(RoutingContext rc) {
    needsStorage();
    String stream = textParam(rc, "stream", QuarantineStore.MAX_STREAM_CHARS);
    int limit = intParam(rc, "limit", 100, 1, MAX_REQUEUE);
    reply(rc, saved().compose(v -> quarantine.list(tenant(rc), stream, limit, null)).compose(page -> {
      List<Long> valid = new ArrayList<>();
      JsonArray still = new JsonArray();
      for (QuarantineStore.Item item : page.items()) {
        String reason = requeue.check(tenant(rc), item.originalPayload(), item.originalStream());
        if (reason == null) {
          valid.add(item.id());
        } else {
          still.add(new JsonObject().put("id", item.id()).put("error", reason));
        }
      }
      return quarantine.claim(tenant(rc), valid, actor(rc), clock.millis()).map(claimed -> {
        int requeued = 0;
        for (QuarantineStore.Item item : claimed) {
          String reason = requeue.ingest(tenant(rc), item.originalPayload(), item.originalStream());
          if (reason == null) {
            requeued++;
          } else {
            still.add(new JsonObject().put("id", item.id()).put("error", reason + " (quarantined anew)"));
          }
        }
        return new JsonObject().put("requeued", requeued).put("stillRejected", still.size()).put("errors", still);
      });
    }), 200);
  }

  private void quarantineDelete(RoutingContext rc) {
    needsStorage();
    long id = quarantineId(rc);
    reply(rc, saved().compose(v -> quarantine.purge(tenant(rc), id, null, null, actor(rc), clock.millis(),
            "quarantine.delete"))
        .compose(n -> n == 0 ? Future.failedFuture(noSuchEvent(rc)) : Future.succeededFuture(n))
        .map(n -> new JsonObject().put("deleted", n)), 200);
  }

  /** Deletes by stream and/or age; deleting everything takes an explicit all=true. */
  private void quarantinePurge(RoutingContext rc) {
    needsStorage();
    String stream = textParam(rc, "stream", QuarantineStore.MAX_STREAM_CHARS);
    Long before = longParam(rc, "before");
    if (before != null && (before < 0 || before > MAX_EPOCH_MS)) {
      throw new IllegalArgumentException("before: epoch milliseconds from 0 to " + MAX_EPOCH_MS + " (year 9999)");
    }
    if (stream == null && before == null && !"true".equals(rc.queryParams().get("all"))) {
      throw new IllegalArgumentException(
          "say what to purge: stream=, before= (epoch ms, by last seen), or all=true for everything");
    }
    reply(rc, saved().compose(v -> quarantine.purge(tenant(rc), null, stream, before, actor(rc), clock.millis(),
        "quarantine.purge"))
        .map(n -> new JsonObject().put("deleted", n)), 200);
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
    return new DefinitionStore.Refused(404, "no quarantined event " + shown(rc.pathParam("id")));
  }

  // ---- audit ----

  private void auditList(RoutingContext rc) {
    needsStorage();
    int limit = intParam(rc, "limit", 100, 1, MAX_LIST);
    Long before = longParam(rc, "before");
    String action = textParam(rc, "action", MAX_ACTION_CHARS);
    String family = action == null || action.isBlank() ? null : action;
    reply(rc, audit.recent(tenant(rc), limit, before, family).map(all -> {
      JsonArray items = new JsonArray();
      all.forEach(e -> items.add(e.toJson()));
      JsonObject out = new JsonObject().put("entries", items);
      if (all.size() == limit) {
        out.put("next", "/api/v1/audit?limit=" + limit + (family == null ? "" : "&action=" + encoded(family))
            + "&before="
            + all.get(limit - 1).id());
      }
      return out;
    }), 200);
  }

  // ---- helpers ----

  private static String tenant(RoutingContext rc) {
    return HttpVerticle.caller(rc).tenant();
  }

  private static String actor(RoutingContext rc) {
    return HttpVerticle.caller(rc).subject();
  }

  /** Has the events rejected a moment ago stored first; goes on regardless (the database may be away). */
  private Future<Void> saved() {
    return saveQuarantine.get().otherwiseEmpty();
  }

  private void needsStorage() {
    if (definitions == null) {
      throw new DefinitionStore.Refused(503,
          "storage is off (storage.enabled=false, PULSE_STORAGE=false): this endpoint needs the database");
    }
  }

  /** The body as a JSON object; a 400 when it is not one. */
  private static JsonObject bodyObject(RoutingContext rc) {
    JsonObject o;
    try {
      o = rc.body().asJsonObject();
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("the body must be a JSON object, not an array or a value");
    } catch (DecodeException e) {
      throw new IllegalArgumentException("the body is not valid JSON" + where(e));
    }
    if (o == null) {
      throw new IllegalArgumentException("the body must be a JSON object");
    }
    return o;
  }

  /** Where Jackson stopped reading, without the rest of its message. */
  private static String where(DecodeException e) {
    Throwable c = e.getCause();
    if (c instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null) {
      return " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")";
    }
    return "";
  }

  private static int intParam(RoutingContext rc, String name, int dflt, int min, int max) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return dflt;
    }
    try {
      int i = Integer.parseInt(v);
      if (i >= min && i <= max) {
        return i;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new IllegalArgumentException(name + ": must be a whole number from " + min + " to " + max);
  }

  /**
   * A text parameter the database can hold: 400 when it has a NUL or an unpaired surrogate, or more
   * than {@code max} characters (nothing stored is longer, so it could match nothing anyway).
   */
  private static String textParam(RoutingContext rc, String name, int max) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return null;
    }
    String problem = PgText.problem(v);
    if (problem != null) {
      throw new IllegalArgumentException(name + ": " + problem);
    }
    if (v.length() > max) {
      throw new IllegalArgumentException(name + ": at most " + max + " characters, got " + v.length());
    }
    return v;
  }

  /** A query parameter value for a {@code next} link. */
  private static String encoded(String v) {
    return java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A caller's value quoted in a message: escaped (NUL, unpaired surrogates) and cut to 100 characters. */
  private static String shown(String v) {
    return "\"" + PgText.cap(PgText.escape(v), 100) + "\"";
  }

  private static Long longParam(RoutingContext rc, String name) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": must be a whole number from " + Long.MIN_VALUE + " to "
          + Long.MAX_VALUE);
    }
  }

  private void reply(RoutingContext rc, Future<JsonObject> f, int status) {
    StoreErrors.bounded(f, timeoutMs).onComplete(ar -> answer(rc, ar, status));
  }

  /**
   * The answer, a refusal with its status, a 400 when the database refused the caller's data, or
   * a 503 when the database did not answer (down, or no answer within storage.queryTimeoutMs: a
   * change may still be applied when it comes back; read it before retrying).
   */
  private static void answer(RoutingContext rc, AsyncResult<JsonObject> ar, int status) {
    if (ar.succeeded()) {
      json(rc, status, ar.result());
    } else if (ar.cause() instanceof DefinitionStore.Refused r) {
      error(rc, r.status(), r.getMessage());
    } else if (StoreErrors.dataException(ar.cause())) {
      error(rc, 400, "the request holds what the database cannot take: " + StoreErrors.describe(ar.cause()));
    } else {
      LOG.warn("{} {}: {}", rc.request().method(), rc.request().path(), ar.cause().toString());
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      String write = rc.request().method() == io.vertx.core.http.HttpMethod.GET ? ""
          : "; the change may still be applied when it answers: read it back before retrying";
      error(rc, 503, "storage: the database does not answer: " + StoreErrors.describe(ar.cause()) + write);
    }
  }
}

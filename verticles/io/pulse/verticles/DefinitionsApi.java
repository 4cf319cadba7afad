package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;

import io.pulse.core.Caller;
import io.pulse.core.Clock;
import io.pulse.dash.DashboardDocs;
import io.pulse.dash.DisplayScopes;
import io.pulse.dash.ReadyDashboards;
import io.pulse.http.QueryParams;
import io.pulse.store.DefinitionStore;
import io.pulse.store.DefinitionStore.Kind;
import io.pulse.store.StoreErrors;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.List;

/**
 * Stored definitions of one kind (rules, dashboards or playlists): CRUD with versions, ETags and an
 * audit entry for every change, in the caller's tenant and with the caller as the actor. Each kind's
 * documents are checked before they are stored (a rule by {@link io.pulse.alert.Rule#parse}, a
 * dashboard or a playlist by {@link DashboardDocs}, a playlist's dashboards must exist). Its routes
 * are in {@link Routes}.
 */
final class DefinitionsApi {

  private final Kind kind;
  private final Clock clock;
  private final DefinitionStore definitions;
  private final long timeoutMs;
  /** What display tokens may read: told when a dashboard or a playlist changes. */
  private final DisplayScopes scopes;

  /**
   * @param pool the database, or null when storage is off (then every route answers 503)
   * @param timeoutMs how long a request may wait for the database before it answers 503 (storage.queryTimeoutMs)
   */
  DefinitionsApi(Kind kind, Pool pool, long timeoutMs, Clock clock, DisplayScopes scopes) {
    this.kind = kind;
    this.scopes = scopes;
    this.timeoutMs = timeoutMs;
    this.clock = clock;
    this.definitions = pool == null ? null : new DefinitionStore(pool);
  }

  void list(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    reply(rc, shown(caller).compose(shown -> definitions.list(caller.tenant(), kind)
        .map(all -> new JsonObject().put(kind.plural(), toJson(ordered(all.stream()
            .filter(d -> shown == null || shown.contains(d.id())).filter(d -> readable(rc, d)).toList()))))));
  }

  /**
   * Whether the caller may read the definition's stream: a rule of a stream outside a token's read
   * patterns ({@code read:checkout*}) is left out of listings and answers 404, as the stream does.
   */
  private boolean readable(RoutingContext rc, DefinitionStore.Definition d) {
    return kind != Kind.RULE || !(d.doc().getValue("stream") instanceof String s) || Callers.mayRead(rc, s);
  }

  /** Dashboards: the ready ones ({@code ready-<name>}) first, in the cases' order, then the others by id. */
  private List<DefinitionStore.Definition> ordered(List<DefinitionStore.Definition> all) {
    if (kind != Kind.DASHBOARD) {
      return all;
    }
    List<DefinitionStore.Definition> out = new java.util.ArrayList<>(all.size());
    all.stream().filter(d -> ReadyDashboards.isReady(d.id()))
        .sorted(java.util.Comparator.comparingInt(d -> ReadyDashboards.NAMES.indexOf(d.id().substring(
            ReadyDashboards.PREFIX.length()))))
        .forEach(out::add);
    all.stream().filter(d -> !ReadyDashboards.isReady(d.id())).forEach(out::add);
    return out;
  }

  void get(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    String id = definitionId(rc);
    definition(rc, shownId(caller, id).compose(v -> definitions.get(caller.tenant(), kind, id)).compose(d -> readable(rc, d)
        ? Future.succeededFuture(d) : Future.failedFuture(new DefinitionStore.Refused(404, "no " + kind.singular() + " " + id))),
        200, false);
  }

  /**
   * The ids of this kind the caller sees, or null for all of its tenant's: a display token sees
   * only the dashboard it is bound to (a playlist binding: the playlist and its dashboards).
   */
  private Future<java.util.Set<String>> shown(Caller caller) {
    if (caller.display() == null || kind == Kind.RULE) {
      return Future.succeededFuture(null);
    }
    DisplayScopes.Scope s = DisplayScoping.scope(scopes, caller);
    return Future.succeededFuture(s == null ? java.util.Set.<String>of()
        : kind == Kind.DASHBOARD ? s.dashboards() : s.playlists());
  }

  /** Succeeds when the caller may see definition {@code id}; else a 404, as if it did not exist. */
  private Future<Void> shownId(Caller caller, String id) {
    return shown(caller).compose(shown -> shown == null || shown.contains(id) ? Future.succeededFuture()
        : Future.failedFuture(new DefinitionStore.Refused(404, "no " + kind.singular() + " " + id)));
  }

  /** A display token only reads (the route's scope says so too, where scopes are checked). */
  private static void writable(Caller caller) {
    if (caller.display() != null) {
      throw new DefinitionStore.Refused(403, "a display token is read-only");
    }
  }

  void create(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    writable(caller);
    needsStorage();
    JsonObject doc = bodyObject(rc);
    checkDocument(caller, doc);
    definition(rc, announced(rc, caller, dashboardsExist(caller, doc).compose(v -> definitions.create(caller.tenant(),
        kind, doc, caller.actor(), clock.millis()))), 201, true);
  }

  void update(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    writable(caller);
    needsStorage();
    JsonObject doc = bodyObject(rc);
    Integer expected = QueryParams.expectedVersion(rc.request().getHeader(HttpHeaders.IF_MATCH), doc.getValue("version"));
    String id = definitionId(rc);
    checkDocument(caller, doc);
    definition(rc, announced(rc, caller, dashboardsExist(caller, doc).compose(v -> definitions.update(caller.tenant(),
        kind, id, doc, expected, caller.actor(), clock.millis()))), 200, false);
  }

  void delete(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    writable(caller);
    needsStorage();
    Integer expected = QueryParams.expectedVersion(rc.request().getHeader(HttpHeaders.IF_MATCH), null);
    reply(rc, announced(rc, caller, definitions.delete(caller.tenant(), kind, definitionId(rc), expected,
        caller.actor(), clock.millis()))
        .map(d -> new JsonObject().put("deleted", d.id()).put("version", d.version())));
  }

  void versions(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    String id = definitionId(rc);
    reply(rc, shownId(caller, id).compose(v -> definitions.history(caller.tenant(), kind, id))
        .map(all -> new JsonObject().put("versions", toJson(all))));
  }

  /**
   * A rule Pulse cannot evaluate, a dashboard or a playlist not in the document's shape, is refused
   * (400 with the reason and its path) before anything is stored.
   */
  private void checkDocument(Caller caller, JsonObject doc) {
    // a document past the size limit is the store's to refuse (413), whatever it holds
    if (doc.toBuffer().length() > DefinitionStore.MAX_DOC_BYTES) {
      return;
    }
    switch (kind) {
      case RULE -> io.pulse.alert.Rule.parse(caller.tenant(), null, doc);
      case DASHBOARD -> DashboardDocs.check(doc);
      case PLAYLIST -> DashboardDocs.checkPlaylist(doc);
      default -> throw new IllegalStateException("unknown kind " + kind);
    }
  }

  /** A playlist's dashboards are dashboards of the tenant: a 400 naming the first that is not. */
  private Future<Void> dashboardsExist(Caller caller, JsonObject doc) {
    if (kind != Kind.PLAYLIST || doc.toBuffer().length() > DefinitionStore.MAX_DOC_BYTES) {
      return Future.succeededFuture();
    }
    return definitions.list(caller.tenant(), Kind.DASHBOARD).compose(all -> {
      java.util.Set<String> ids = new java.util.HashSet<>();
      all.forEach(d -> ids.add(d.id()));
      io.vertx.core.json.JsonArray wanted = doc.getJsonArray("dashboards");
      for (int i = 0; i < wanted.size(); i++) {
        if (!ids.contains(wanted.getString(i))) {
          return Future.failedFuture(new DefinitionStore.Refused(400, "dashboards[" + i + "]: no dashboard "
              + wanted.getString(i)));
        }
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Tells the alert verticle about a stored rule change (the document, or null when deleted); a
   * dashboard or playlist change makes the tenant's displays read their scope again.
   */
  private Future<DefinitionStore.Definition> announced(RoutingContext rc, Caller caller,
      Future<DefinitionStore.Definition> f) {
    if (kind != Kind.RULE) {
      return f.onComplete(ar -> scopes.changed(caller.tenant()));
    }
    return f.onSuccess(d -> rc.vertx().eventBus().publish(Addresses.RULES_CHANGED, new JsonObject()
        .put("tenant", caller.tenant()).put("id", d.id()).put("doc", d.deleted() ? null : d.doc())));
  }

  /** A body past the limit: names this route's limit, not ingest's. */
  void tooLarge(RoutingContext rc) {
    if (rc.statusCode() == 413) {
      error(rc, 413, "the body is larger than a " + kind.singular() + " document may be: at most "
          + DefinitionStore.MAX_DOC_BYTES + " bytes (" + DefinitionStore.MAX_DOC_BYTES / 1024 + " KiB) of JSON");
    } else {
      rc.next();
    }
  }

  private static JsonArray toJson(List<DefinitionStore.Definition> all) {
    JsonArray items = new JsonArray();
    all.forEach(d -> items.add(d.toJson()));
    return items;
  }

  /** The {id} of a definition path; a 404 when no definition can have it. */
  private String definitionId(RoutingContext rc) {
    String id = rc.pathParam("id");
    if (!DefinitionStore.validId(id)) {
      throw new DefinitionStore.Refused(404, "no " + kind.singular() + " " + QueryParams.shown(id) + " (ids match "
          + DefinitionStore.ID_PATTERN + ")");
    }
    return id;
  }

  /** Answers with a definition and its ETag (and, for a creation, its Location), or the refusal. */
  private void definition(RoutingContext rc, Future<DefinitionStore.Definition> f, int status, boolean created) {
    StoreErrors.bounded(f, timeoutMs).onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().putHeader(HttpHeaders.ETAG, "\"" + ar.result().version() + "\"");
        if (created) {
          rc.response().putHeader(HttpHeaders.LOCATION, "/api/v1/" + kind.plural() + "/" + ar.result().id());
        }
      }
      Replies.answer(rc, ar.map(DefinitionStore.Definition::toJson), status);
    });
  }

  private void reply(RoutingContext rc, Future<JsonObject> f) {
    Replies.reply(rc, f, 200, timeoutMs);
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
}

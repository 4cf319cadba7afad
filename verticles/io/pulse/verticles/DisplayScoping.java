package io.pulse.verticles;

import io.pulse.auth.Authenticator;
import io.pulse.auth.Identity;
import io.pulse.core.Caller;
import io.pulse.core.DisplayBinding;
import io.pulse.dash.DashboardDocs;
import io.pulse.dash.DisplayScopes;
import io.pulse.store.DefinitionStore;
import io.pulse.store.DefinitionStore.Kind;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.HashSet;
import java.util.Set;

/**
 * Display tokens read only what their wallboard shows: the caller of a display token gets grants
 * narrowed to the streams its dashboard's panels name (a playlist binding: the union over the
 * playlist's dashboards), so that every check of a stream against the caller's grants (the
 * {@code :stream} of a route, stream listings, the alerts list, live subscriptions, the query API
 * through {@link Callers#mayRead}) refuses the others as if they did not exist. The scopes come
 * from storage through {@link DisplayScopes} (cached for {@link #TTL_MS}).
 */
final class DisplayScoping {

  /** How long a display's scope is used before it is read again: a dashboard edited elsewhere takes effect within it. */
  static final long TTL_MS = 5_000;
  /** Bindings whose scope is held at most (each a few sets of names). */
  static final int MAX_ENTRIES = 10_000;
  /**
   * How long a request waits for a stale scope's reload before it goes on with the scope it had
   * (storage slow or down): an edit takes effect on the first request after it when storage answers
   * in time, on a later one otherwise.
   */
  static final long STALE_WAIT_MS = 250;

  private DisplayScoping() {
  }

  /** The scopes of {@code pool}'s displays; without storage a display reads nothing. */
  static DisplayScopes scopes(Pool pool, io.pulse.core.Clock clock, long timeoutMs) {
    DefinitionStore store = pool == null ? null : new DefinitionStore(pool);
    return new DisplayScopes((tenant, binding) -> store == null ? Future.succeededFuture(DisplayScopes.Scope.NOTHING)
        : io.pulse.store.StoreErrors.bounded(load(store, tenant, binding), timeoutMs), clock, TTL_MS, MAX_ENTRIES);
  }

  /** A binding's scope from storage: a dashboard or playlist that is gone gives nothing. */
  static Future<DisplayScopes.Scope> load(DefinitionStore store, String tenant, DisplayBinding binding) {
    if (binding.kind().equals("dashboard")) {
      return store.get(tenant, Kind.DASHBOARD, binding.id())
          .map(d -> new DisplayScopes.Scope(Set.of(d.id()), Set.of(), DashboardDocs.streams(d.doc())))
          .recover(DisplayScoping::gone);
    }
    return store.get(tenant, Kind.PLAYLIST, binding.id())
        .compose(p -> {
          Set<String> ids = DashboardDocs.playlistDashboards(p.doc());
          return store.list(tenant, Kind.DASHBOARD).map(all -> {
            Set<String> dashboards = new HashSet<>();
            Set<String> streams = new HashSet<>();
            for (DefinitionStore.Definition d : all) {
              if (ids.contains(d.id())) {
                dashboards.add(d.id());
                streams.addAll(DashboardDocs.streams(d.doc()));
              }
            }
            return new DisplayScopes.Scope(dashboards, Set.of(p.id()), streams);
          });
        })
        .recover(DisplayScoping::gone);
  }

  private static Future<DisplayScopes.Scope> gone(Throwable t) {
    if (t instanceof DefinitionStore.Refused r && r.status() == 404) {
      return Future.succeededFuture(DisplayScopes.Scope.NOTHING);
    }
    return Future.failedFuture(t);
  }

  /**
   * {@code auth}, with a display token's caller narrowed to its scope. Any other caller is passed
   * through as it is; a scope read within {@link #TTL_MS} costs no wait (the future is complete), a
   * stale one at most {@link #STALE_WAIT_MS}.
   */
  static Authenticator narrowing(io.vertx.core.Vertx vertx, Authenticator auth, DisplayScopes scopes) {
    return (header, param) -> {
      Future<Identity> f = auth.authenticate(header, param);
      if (f.isComplete()) {
        return f.failed() || f.result() == null || f.result().caller().display() == null ? f
            : scoped(vertx, f.result(), scopes);
      }
      return f.compose(id -> id == null || id.caller().display() == null ? Future.succeededFuture(id)
          : scoped(vertx, id, scopes));
    };
  }

  private static Future<Identity> scoped(io.vertx.core.Vertx vertx, Identity id, DisplayScopes scopes) {
    Caller c = id.caller();
    DisplayScopes.Entry had = scopes.loaded(c.tenant(), c.display());
    Future<DisplayScopes.Entry> e = scopes.entry(c.tenant(), c.display());
    if (e.isComplete() && e.succeeded()) {
      return Future.succeededFuture(narrowed(id, e.result()));
    }
    // a load shared with other requests completes on the thread of the one that began it: the answer is
    // handed back on this request's own context
    io.vertx.core.Context here = io.vertx.core.Vertx.currentContext();
    io.vertx.core.Promise<Identity> out = io.vertx.core.Promise.promise();
    java.util.function.Consumer<io.vertx.core.AsyncResult<DisplayScopes.Entry>> finish = ar -> {
      Runnable r = () -> {
        if (ar.succeeded()) {
          out.tryComplete(narrowed(id, ar.result()));
        } else {
          out.tryFail(new DefinitionStore.Refused(503, "the display's dashboard could not be read from storage: "
              + io.pulse.store.StoreErrors.describe(ar.cause())));
        }
      };
      if (here == null) {
        r.run();
      } else {
        here.runOnContext(v -> r.run());
      }
    };
    if (had != null && here != null) { // stale: its reload, or what it had if the reload is slow
      long timer = vertx.setTimer(STALE_WAIT_MS, t -> out.tryComplete(narrowed(id, had)));
      e.onComplete(ar -> {
        vertx.cancelTimer(timer);
        finish.accept(ar.succeeded() ? ar : Future.succeededFuture(had));
      });
    } else {
      e.onComplete(finish::accept);
    }
    return out.future();
  }


  private static Identity narrowed(Identity id, DisplayScopes.Entry entry) {
    Caller c = id.caller();
    return new Identity(new Caller(c.tenant(), c.subject(), c.tokenId(), c.grants().only(entry::stream), c.display(),
        c.expiresAtMs()), id.ignoredScopes(), id.mode());
  }

  /**
   * The display's scope as the request's caller resolution loaded it (never loads: no wait, no
   * thread hop); null for a caller without a display, nothing when it is not held.
   */
  static DisplayScopes.Scope scope(DisplayScopes scopes, Caller caller) {
    if (caller.display() == null) {
      return null;
    }
    DisplayScopes.Entry e = scopes.loaded(caller.tenant(), caller.display());
    return e == null ? DisplayScopes.Scope.NOTHING : e.scope();
  }

}

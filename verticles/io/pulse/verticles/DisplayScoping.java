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
   * through as it is; a scope read within {@link #TTL_MS} costs no wait (the future is complete).
   */
  static Authenticator narrowing(Authenticator auth, DisplayScopes scopes) {
    return (header, param) -> {
      Future<Identity> f = auth.authenticate(header, param);
      if (f.isComplete()) {
        return f.failed() || f.result() == null || f.result().caller().display() == null ? f : scoped(f.result(), scopes);
      }
      return f.compose(id -> id == null || id.caller().display() == null ? Future.succeededFuture(id)
          : scoped(id, scopes));
    };
  }

  private static Future<Identity> scoped(Identity id, DisplayScopes scopes) {
    Caller c = id.caller();
    Future<DisplayScopes.Entry> e = scopes.entry(c.tenant(), c.display());
    if (e.isComplete() && e.succeeded()) {
      return Future.succeededFuture(narrowed(id, e.result()));
    }
    return e.transform(ar -> ar.succeeded() ? Future.succeededFuture(narrowed(id, ar.result()))
        : Future.failedFuture(new DefinitionStore.Refused(503, "the display's dashboard could not be read from "
            + "storage: " + io.pulse.store.StoreErrors.describe(ar.cause()))));
  }

  private static Identity narrowed(Identity id, DisplayScopes.Entry entry) {
    Caller c = id.caller();
    return new Identity(new Caller(c.tenant(), c.subject(), c.tokenId(), c.grants().only(entry::stream), c.display(),
        c.expiresAtMs()), id.ignoredScopes(), id.mode());
  }

  /** The display's scope as last loaded, from the request's caller (null for a caller without a display). */
  static Future<DisplayScopes.Scope> scope(DisplayScopes scopes, Caller caller) {
    if (caller.display() == null) {
      return Future.succeededFuture(null);
    }
    return scopes.entry(caller.tenant(), caller.display()).map(DisplayScopes.Entry::scope);
  }
}

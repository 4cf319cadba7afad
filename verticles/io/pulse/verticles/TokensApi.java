package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;

import io.pulse.auth.RevocationList;
import io.pulse.config.Durations;
import io.pulse.core.Caller;
import io.pulse.core.DisplayBinding;
import io.pulse.store.DefinitionStore;
import io.pulse.store.PgText;
import io.pulse.store.TokenStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token revocation and display tokens (API.md "Tokens"). A revocation is stored (with storage on),
 * put in the in-memory revocation list every request is checked against, and published to every
 * live hub, which closes the token's connections. A display token is signed with the server's key
 * ({@link PulseContext#signer}), returned once and never stored; its display's row is.
 */
final class TokensApi {

  private static final Logger LOG = LoggerFactory.getLogger(TokensApi.class);
  /** Longest token id taken (JWT ids are usually UUIDs). */
  static final int MAX_TOKEN_ID = 200;
  private static final Set<String> DISPLAY_FIELDS = Set.of("name", "dashboard", "playlist", "ttl");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final PulseContext ctx;

  TokensApi(Vertx vertx, PulseContext ctx) {
    this.vertx = vertx;
    this.ctx = ctx;
  }

  // ---- revocation ----

  /**
   * POST /api/v1/tokens/{id}/revoke, optional body {"reason": "..."}: idempotent. The revocation is
   * the caller's tenant's: it refuses only that tenant's token of that id. An id that is no token of
   * the tenant (unknown, or another tenant's jti: the server cannot tell them apart, and must not
   * say which) is recorded for this tenant all the same and answered 200: it refuses nothing.
   */
  void revoke(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    String id = rc.pathParam("id");
    if (id == null || id.isEmpty() || id.length() > MAX_TOKEN_ID || !PgText.storable(id)) {
      throw new IllegalArgumentException("a token id is 1 to " + MAX_TOKEN_ID + " characters (the token's jti)");
    }
    String reason = reason(rc);
    long now = ctx.clock.millis();
    // the expiry is known for the caller's own token; other tokens are kept until removed by hand
    long expires = id.equals(caller.tokenId()) && caller.expiresAtMs() != Long.MAX_VALUE ? caller.expiresAtMs() : 0;
    RevocationList.Entry e = new RevocationList.Entry(id, caller.tenant(), now, expires, caller.actor(), reason);
    // a display's token (its id is the display's): the display is marked revoked too, its expiry known
    Future<Revoking> stored = ctx.tokens == null ? Future.succeededFuture(new Revoking(e, true))
        : !DefinitionStore.validId(id) ? ctx.tokens.revoke(e).map(in -> new Revoking(in, in == e))
        : ctx.tokens.get(caller.tenant(), id)
            .compose(d -> ctx.tokens.revokeDisplay(caller.tenant(), id, caller.actor(), now, reason))
            .map(d -> d.revokedAt() == now
                ? new Revoking(new RevocationList.Entry(id, caller.tenant(), now, d.expiresAt(), caller.actor(), reason),
                    true)
                : new Revoking(displayEntry(d, caller), false))
            .recover(x -> x instanceof DefinitionStore.Refused r && r.status() == 404
                ? ctx.tokens.revoke(e).map(in -> new Revoking(in, in == e)) : Future.failedFuture(x));
    Replies.reply(rc, stored.map(r -> {
      RevocationList.Entry held = revokeHere(r.entry());
      if (ctx.tokens == null) {
        LOG.info("token {} revoked by {} (tenant {}){}; storage is off: kept in memory only", id, caller.actor(),
            caller.tenant(), reason == null ? "" : ": " + reason);
      }
      return revocationJson(held).put("alreadyRevoked", !(r.fresh() && held == r.entry()));
    }), 200, ctx.config.storage().queryTimeoutMs());
  }

  /** The revocation in force after a request, and whether that request made it. */
  private record Revoking(RevocationList.Entry entry, boolean fresh) {
  }

  /** The body's optional reason (the body itself is optional). */
  private static String reason(RoutingContext rc) {
    if (rc.body() == null || rc.body().isEmpty()) {
      return null;
    }
    JsonObject body = Replies.bodyObject(rc);
    for (String k : body.fieldNames()) {
      if (!"reason".equals(k)) {
        throw new IllegalArgumentException("unknown field \"" + io.pulse.http.EdgeAnswer.clip(k, 64)
            + "\": the body may hold only {\"reason\": \"...\"}");
      }
    }
    Object r = body.getValue("reason");
    if (r != null && !(r instanceof String)) {
      throw new IllegalArgumentException("reason: must be a string");
    }
    checkText("reason", (String) r, false);
    return (String) r;
  }

  /** Puts a revocation in force in this process: the list every request is checked against, and every live hub. */
  private RevocationList.Entry revokeHere(RevocationList.Entry e) {
    RevocationList.Entry held = ctx.revocationList.revoke(e);
    vertx.eventBus().publish(Addresses.TOKENS_REVOKED, TokensVerticle.revokedMessage(e));
    return held;
  }

  /** GET /api/v1/tokens/revoked: the tenant's revocations in force, newest first. */
  void revoked(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    JsonArray out = new JsonArray();
    for (RevocationList.Entry e : ctx.revocationList.list(caller.tenant())) {
      out.add(revocationJson(e));
    }
    Replies.json(rc, 200, new JsonObject().put("revoked", out).put("stored", ctx.tokens != null));
  }

  /** A revocation as the API shows it (always one of the caller's tenant: the list is keyed by tenant). */
  private static JsonObject revocationJson(RevocationList.Entry e) {
    return new JsonObject().put("tokenId", e.tokenId()).put("revoked", true)
        .put("revokedAt", e.revokedAt()).put("by", e.by()).put("reason", e.reason())
        .put("expiresAt", e.expiresAt() > 0 ? e.expiresAt() : null);
  }

  // ---- displays ----

  /**
   * POST /api/v1/displays {"name", "dashboard": id | "playlist": id, "ttl": "365d"}: 201 with the
   * display and its token (shown this once), and the wallboard's URL.
   */
  void createDisplay(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    JsonObject body = Replies.bodyObject(rc);
    for (String k : body.fieldNames()) {
      if (!DISPLAY_FIELDS.contains(k)) {
        throw new IllegalArgumentException("unknown field \"" + io.pulse.http.EdgeAnswer.clip(k, 64)
            + "\": a display takes name, dashboard or playlist, and ttl");
      }
    }
    Object nameV = body.getValue("name");
    if (!(nameV instanceof String name)) {
      throw new IllegalArgumentException("name: required, a string of 1 to " + DefinitionStore.MAX_NAME_LENGTH
          + " characters");
    }
    checkText("name", name, true);
    if (name.length() > DefinitionStore.MAX_NAME_LENGTH) {
      throw new IllegalArgumentException("name: at most " + DefinitionStore.MAX_NAME_LENGTH + " characters");
    }
    boolean dash = body.containsKey("dashboard");
    boolean play = body.containsKey("playlist");
    if (dash == play) {
      throw new IllegalArgumentException("a display is bound to exactly one of \"dashboard\" or \"playlist\" (an id)");
    }
    String kind = dash ? "dashboard" : "playlist";
    Object target = body.getValue(kind);
    if (!(target instanceof String t) || !DefinitionStore.validId(t)) {
      throw new IllegalArgumentException(kind + ": must be an id (" + DefinitionStore.ID_PATTERN + ")");
    }
    DisplayBinding binding = new DisplayBinding(kind, t);
    long ttl = ttl(body.getValue("ttl"));
    if (ctx.tokens == null) {
      throw new DefinitionStore.Refused(503,
          "storage is off (storage.enabled=false, PULSE_STORAGE=false): displays are stored in the database");
    }
    io.pulse.auth.TokenSigner signer = ctx.signer;
    if (signer == null) {
      throw new DefinitionStore.Refused(503, "display tokens need authentication on (PULSE_AUTH=true) and the "
          + "server's signing key: with authentication off every request is let in without a token");
    }
    long now = ctx.clock.millis();
    String id = newId();
    TokenStore.Display d = new TokenStore.Display(caller.tenant(), id, name, binding, now, caller.actor(), now + ttl,
        null);
    Future<TokenStore.Display> created = boundTo(caller.tenant(), binding)
        .compose(v -> ctx.tokens.create(d));
    Replies.reply(rc, created.compose(stored -> vertx.executeBlocking(() -> signer.sign(claims(stored), ttl), false)
        .map(token -> {
          rc.response().putHeader(HttpHeaders.LOCATION, "/api/v1/displays/" + id);
          // kiosk=1: the wallboard page's kiosk mode (wallboard contract, section 7); the binding for
          // the page to open, and the token it sends on every call and on the live socket
          return stored.toJson().put("token", token).put("url", "/?kiosk=1&" + binding.kind() + "="
              + binding.id() + "&access_token=" + java.net.URLEncoder.encode(token, java.nio.charset.StandardCharsets.UTF_8));
        })), 201, ctx.config.storage().queryTimeoutMs());
  }

  /** The display's token claims: read-only, its tenant, its binding; its jti is the display's id. */
  static JsonObject claims(TokenStore.Display d) {
    return new JsonObject().put("sub", "display:" + d.id()).put("tenant", d.tenant()).put("scope", "read")
        .put("display", new JsonObject().put(d.binding().kind(), d.binding().id())).put("jti", d.id());
  }

  /** The binding's target exists: a dashboard or a playlist of the tenant (404 when not). */
  private Future<Void> boundTo(String tenant, DisplayBinding binding) {
    DefinitionStore.Kind kind = binding.kind().equals("playlist") ? DefinitionStore.Kind.PLAYLIST
        : DefinitionStore.Kind.DASHBOARD;
    return new DefinitionStore(ctx.db.pool()).get(tenant, kind, binding.id()).mapEmpty();
  }

  /** The revocation of a revoked display's token (as stored: its time, its expiry). */
  private static RevocationList.Entry displayEntry(TokenStore.Display d, Caller caller) {
    return new RevocationList.Entry(d.id(), d.tenant(), d.revokedAt(), d.expiresAt(), caller.actor(), "display revoked");
  }

  /** GET /api/v1/displays: the tenant's displays, newest first, never their tokens. */
  void listDisplays(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    Replies.reply(rc, ctx.tokens.list(caller.tenant()).map(all -> {
      JsonArray out = new JsonArray();
      all.forEach(d -> out.add(d.toJson()));
      return new JsonObject().put("displays", out);
    }), 200, ctx.config.storage().queryTimeoutMs());
  }

  /** GET /api/v1/displays/{id}. */
  void getDisplay(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    Replies.reply(rc, ctx.tokens.get(caller.tenant(), displayId(rc)).map(TokenStore.Display::toJson), 200,
        ctx.config.storage().queryTimeoutMs());
  }

  /** DELETE /api/v1/displays/{id}: revokes its token (stored, in force at once, its live connections closed). */
  void deleteDisplay(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    needsStorage();
    String id = displayId(rc);
    Replies.reply(rc, ctx.tokens.revokeDisplay(caller.tenant(), id, caller.actor(), ctx.clock.millis(), null).map(d -> {
      revokeHere(displayEntry(d, caller));
      return d.toJson();
    }), 200, ctx.config.storage().queryTimeoutMs());
  }

  private static String displayId(RoutingContext rc) {
    String id = rc.pathParam("id");
    if (!DefinitionStore.validId(id)) {
      throw new DefinitionStore.Refused(404, "no display " + io.pulse.http.QueryParams.shown(id));
    }
    return id;
  }

  private void needsStorage() {
    if (ctx.tokens == null) {
      throw new DefinitionStore.Refused(503,
          "storage is off (storage.enabled=false, PULSE_STORAGE=false): displays are stored in the database");
    }
  }

  /** The ttl asked for: a duration ("30d") or milliseconds; the default when absent; within displays.maxTtl. */
  private long ttl(Object v) {
    io.pulse.config.PulseConfig.Displays limits = ctx.config.displays();
    if (v == null) {
      return limits.defaultTtlMs();
    }
    long ms;
    if (v instanceof String s) {
      ms = Durations.parse(s);
    } else if (v instanceof Integer || v instanceof Long) {
      ms = ((Number) v).longValue();
    } else {
      ms = -1;
    }
    if (ms < 60_000L || ms > limits.maxTtlMs()) {
      throw new IllegalArgumentException("ttl: a duration from 1m to " + Durations.format(limits.maxTtlMs())
          + " (displays.maxTtl) such as \"365d\", or milliseconds; got " + io.pulse.http.EdgeAnswer.clip(
              String.valueOf(v), 64));
    }
    return ms;
  }

  /** A display's id (and its token's jti): random, not guessable. */
  private static String newId() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    StringBuilder sb = new StringBuilder("dsp-");
    for (byte x : b) {
      sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }

  private static void checkText(String field, String s, boolean required) {
    if (s == null) {
      return;
    }
    if (required && s.isBlank()) {
      throw new IllegalArgumentException(field + ": must not be empty");
    }
    if (s.length() > TokenStore.MAX_TEXT_CHARS) {
      throw new IllegalArgumentException(field + ": at most " + TokenStore.MAX_TEXT_CHARS + " characters");
    }
    String problem = PgText.problem(s);
    if (problem != null) {
      throw new IllegalArgumentException(field + ": " + problem);
    }
  }

  /** A body past the document limit. */
  void tooLarge(RoutingContext rc) {
    if (rc.statusCode() == 413) {
      error(rc, 413, "the body is larger than " + (DefinitionStore.MAX_DOC_BYTES / 1024) + " KiB");
    } else {
      rc.next();
    }
  }
}

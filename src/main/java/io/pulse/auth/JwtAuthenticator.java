package io.pulse.auth;

import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.NoSuchKeyIdException;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a request's JWT ({@code Authorization: Bearer}, or {@code access_token} in the query for
 * browsers' EventSource and WebSocket) and makes its caller. The signature is checked by Vert.x's
 * {@link JWTAuth} with the configured keys and those of the JWKS URLs; everything the answer's
 * reason names is checked here first, so that each refusal says why: missing, malformed, unsigned
 * ({@code alg: none}, always refused), an algorithm not accepted, unknown key id, bad signature,
 * expired, not yet valid, wrong issuer or audience, no tenant, revoked.
 *
 * <p>Thread-safe: every HTTP instance's event loop calls it. The key set is replaced whole when the
 * JWKS URLs are fetched again (on a schedule, and on an unknown key id at most every
 * {@code auth.jwksMinRefreshMs}). Verified signatures are remembered for a few thousand tokens, so
 * a client sending many requests with one token pays for the signature once; the times, the
 * tenant and revocation are checked on every request.
 */
public final class JwtAuthenticator implements Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);
  private static final int MAX_TOKEN_CHARS = 16 * 1024;
  private static final int CACHE = 4096;

  private final Vertx vertx;
  private final PulseConfig.Auth cfg;
  private final AuthKeys keys;
  private final Clock clock;
  private final Supplier<Revocations> revocations;
  private final Set<String> algorithms;
  private final Jwks jwks;
  /** The key set now: the configured keys and the last JWKS fetched, replaced whole. */
  private volatile Verifier verifier;
  /** Signature checks already passed, by token, with their claims; cleared when full or when the keys change. */
  private final Map<String, JsonObject> verified = new ConcurrentHashMap<>();
  private volatile long lastFetchMs = Long.MIN_VALUE / 2;
  private Future<Void> fetching;
  private long timer = -1;

  private record Verifier(JWTAuth auth, int keyCount) {
  }

  public JwtAuthenticator(Vertx vertx, PulseConfig.Auth cfg, AuthKeys keys, Clock clock,
      Supplier<Revocations> revocations) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.keys = keys;
    this.clock = clock;
    this.revocations = revocations;
    this.algorithms = cfg.hs256Secret().isEmpty() ? Set.of("RS256", "ES256") : Set.of("RS256", "ES256", "HS256");
    this.jwks = cfg.jwksUrls().isEmpty() ? null : new Jwks(vertx, cfg.jwksUrls());
    this.verifier = build(List.of());
  }

  /** Fetches the JWKS URLs once (a failure is logged; tokens are then refused until a fetch works) and schedules refreshes. */
  public Future<Void> start() {
    if (jwks == null) {
      return Future.succeededFuture();
    }
    timer = vertx.setPeriodic(cfg.jwksRefreshMs(), t -> refresh("scheduled"));
    return refresh("start").recover(e -> Future.succeededFuture());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (jwks != null) {
      jwks.close();
    }
  }

  private Verifier build(List<JsonObject> fetched) {
    JWTAuthOptions o = new JWTAuthOptions().setJWTOptions(new JWTOptions().setIgnoreExpiration(true));
    keys.verify().forEach(o::addPubSecKey);
    fetched.forEach(o::addJwk);
    return new Verifier(JWTAuth.create(vertx, o), keys.verify().size() + fetched.size());
  }

  /** Fetches the key sets again; concurrent callers share one fetch. */
  private synchronized Future<Void> refresh(String why) {
    if (fetching != null) {
      return fetching;
    }
    lastFetchMs = clock.millis();
    Promise<Void> done = Promise.promise();
    fetching = done.future();
    jwks.fetch().onComplete(ar -> {
      synchronized (this) {
        fetching = null;
      }
      if (ar.succeeded()) {
        try {
          verifier = build(ar.result());
          verified.clear();
          LOG.info("auth: {} key(s) from {} ({})", ar.result().size(), cfg.jwksUrls(), why);
          done.complete();
        } catch (RuntimeException e) {
          LOG.warn("auth: the key set from {} could not be used ({}): keeping the keys held", cfg.jwksUrls(),
              e.toString());
          done.fail(e);
        }
      } else {
        LOG.warn("auth: fetching the key set from {} failed ({}): keeping the keys held", cfg.jwksUrls(),
            ar.cause().getMessage());
        done.fail(ar.cause());
      }
    });
    return done.future();
  }

  @Override
  public Future<Identity> authenticate(Function<String, String> header, Function<String, String> param) {
    String token;
    try {
      token = token(header, param);
      JsonObject h = parts(token);
      JsonObject cached = verified.get(token);
      if (cached != null) {
        return Future.succeededFuture(accept(cached));
      }
      String kid = h.getValue("kid") instanceof String k ? k : null;
      return verify(token, kid, true).map(this::accept);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  /** The credential of an Authorization header of the Bearer scheme (trimmed); null for another scheme. */
  public static String bearer(String authorization) {
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return authorization.substring(7).trim();
  }

  /** The token of the request; the Authorization header wins over the query parameter. */
  static String token(Function<String, String> header, Function<String, String> param) {
    String a = header.apply("Authorization");
    String token;
    if (a != null) {
      token = bearer(a);
      if (token == null) {
        throw new AuthFailure("malformed Authorization header: Pulse takes \"Bearer <JWT>\"");
      }
    } else {
      token = param.apply("access_token");
    }
    if (token == null || token.isEmpty()) {
      throw AuthFailure.missing();
    }
    if (token.length() > MAX_TOKEN_CHARS) {
      throw new AuthFailure("malformed token: longer than " + MAX_TOKEN_CHARS + " characters");
    }
    return token;
  }

  /** The header, after the checks that need no key: the token's shape and its algorithm. */
  private JsonObject parts(String token) {
    String[] seg = token.split("\\.", -1);
    if (seg.length < 2 || seg.length > 3) {
      throw new AuthFailure("malformed token: a JWT is header.payload.signature");
    }
    JsonObject header = json(seg[0], "header");
    json(seg[1], "payload");
    Object alg = header.getValue("alg");
    if (alg == null || "none".equalsIgnoreCase(String.valueOf(alg)) || seg.length == 2 || seg[2].isEmpty()) {
      throw new AuthFailure("unsigned token (alg none): refused");
    }
    if (!algorithms.contains(String.valueOf(alg))) {
      throw new AuthFailure("token signed with " + clip(String.valueOf(alg)) + ": Pulse accepts " + String.join(", ", algorithms.stream()
          .sorted().toList()));
    }
    return header;
  }

  private static JsonObject json(String segment, String what) {
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(segment), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new AuthFailure("malformed token: its " + what + " is not base64url JSON");
    }
  }

  /** The signature checked; an unknown key id fetches the JWKS again (rate-limited) and tries once more. */
  private Future<JsonObject> verify(String token, String kid, boolean mayFetch) {
    Verifier v = verifier;
    if (v.keyCount() == 0) {
      // never ask JWTAuth without keys: it would take unsigned tokens
      if (jwks != null && mayFetch && fetchAllowed()) {
        return refresh("no keys yet").transform(x -> verify(token, kid, false));
      }
      return Future.failedFuture(new AuthFailure("no keys to check tokens with yet (the JWKS URL did not answer)"));
    }
    Future<JsonObject> checked = v.auth().authenticate(new TokenCredentials(token))
        .map(user -> user.attributes().getJsonObject("accessToken"));
    return checked.recover(e -> {
      if (e instanceof NoSuchKeyIdException) {
        if (jwks != null && mayFetch && fetchAllowed()) {
          return refresh("unknown key id " + kid).transform(x -> verify(token, kid, false));
        }
        return Future.failedFuture(new AuthFailure(kid == null ? "no key for the token's algorithm"
            : "unknown key id (kid " + clip(kid) + ")"));
      }
      if (e instanceof java.security.SignatureException) {
        return Future.failedFuture(new AuthFailure(kid == null
            ? "bad signature: not signed by a key this server trusts (the token names no kid)"
            : "bad signature"));
      }
      return Future.failedFuture(new AuthFailure("the token could not be verified: " + clip(String.valueOf(
          e.getMessage()))));
    }).onSuccess(claims -> {
      if (verified.size() >= CACHE) {
        verified.clear();
      }
      verified.put(token, claims);
    });
  }

  private boolean fetchAllowed() {
    return clock.millis() - lastFetchMs >= cfg.jwksMinRefreshMs();
  }

  /** The checks on a verified token's claims, then its caller. */
  private Identity accept(JsonObject claims) {
    long now = clock.millis();
    Object exp = claims.getValue("exp");
    if (exp != null && !(exp instanceof Number)) {
      throw new AuthFailure("malformed token: exp is not a number");
    }
    if (exp == null && cfg.requireExp()) {
      throw new AuthFailure("the token has no expiry (exp): this server takes only tokens that expire "
          + "(auth.requireExp)");
    }
    if (exp instanceof Number n && now > n.doubleValue() * 1000 + cfg.leewayMs()) {
      throw new AuthFailure("token expired");
    }
    Object nbf = claims.getValue("nbf");
    if (nbf != null && !(nbf instanceof Number)) {
      throw new AuthFailure("malformed token: nbf is not a number");
    }
    if (nbf instanceof Number n && now + cfg.leewayMs() < n.doubleValue() * 1000) {
      throw new AuthFailure("token not yet valid (nbf)");
    }
    if (!cfg.issuer().isEmpty() && !cfg.issuer().equals(claims.getValue("iss"))) {
      throw new AuthFailure("wrong issuer: this server takes tokens of " + cfg.issuer());
    }
    if (!cfg.audience().isEmpty() && !audience(claims.getValue("aud"))) {
      throw new AuthFailure("wrong audience: this server is " + cfg.audience());
    }
    Identity id = Claims.read(claims, cfg.tenantClaim(), cfg.requireJti());
    String jti = id.caller().tokenId();
    if (jti != null && revocations.get().revoked(id.caller().tenant(), jti)) {
      throw new AuthFailure("token revoked");
    }
    return id;
  }

  private boolean audience(Object aud) {
    if (aud instanceof String s) {
      return s.equals(cfg.audience());
    }
    if (aud instanceof JsonArray a) {
      return a.contains(cfg.audience());
    }
    return false;
  }

  private static String clip(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}

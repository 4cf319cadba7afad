package io.pulse.testing;

import io.pulse.auth.Revocations;
import io.pulse.auth.TokenSigner;
import io.pulse.core.Caller;
import io.pulse.core.CallerResolver;
import io.pulse.core.DisplayBinding;
import io.pulse.core.Grants;
import io.pulse.core.Scope;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Callers with token ids, grants and display bindings for tests of revocation and display tokens,
 * installed in-process ({@code Pulse.callers}); a stand-in for the JWT verification of the auth
 * work, which is not what these tests are about. The token (the {@code Authorization: Bearer}
 * header or the {@code access_token} parameter) is either
 * <ul>
 *   <li>{@code t:<tenant>:<jti>:<scopes>[:<expiresAt epoch ms>]}, scopes comma-separated
 *       ("admin", "read,ingest"), or</li>
 *   <li>a JWT, whose claims are read without checking its signature (sub, tenant, jti, scope,
 *       display, exp);</li>
 * </ul>
 * a revoked token id is refused with 401 "token revoked", as the real resolver does. No token: anonymous.
 */
public final class TestTokens {

  /** The test signer's shared secret (HS256), for tests that check a display token's signature. */
  public static final String SECRET = "pulse-test-secret-not-for-production";

  private TestTokens() {
  }

  /** The resolver; {@code revocations} is asked on every request (the server's slot). */
  public static CallerResolver resolver(Supplier<Revocations> revocations) {
    return (header, param) -> {
      String token = null;
      String auth = header.apply("Authorization");
      if (auth != null && auth.startsWith("Bearer ")) {
        token = auth.substring(7).trim();
      } else if (param.apply("access_token") != null) {
        token = param.apply("access_token");
      }
      if (token == null) {
        return Caller.ANONYMOUS;
      }
      Caller c = token.startsWith("t:") ? plain(token) : jwt(token);
      if (revocations.get().revoked(c.tenant(), c.tokenId())) {
        throw new IllegalArgumentException("token revoked");
      }
      return c;
    };
  }

  private static Caller plain(String token) {
    String[] p = token.split(":");
    if (p.length < 4) {
      throw new IllegalArgumentException("malformed test token");
    }
    long exp = p.length > 4 ? Long.parseLong(p[4]) : Long.MAX_VALUE;
    return new Caller(p[1], "user-" + p[2], p[2], grants(p[3]), null, exp);
  }

  private static Caller jwt(String token) {
    String[] parts = token.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("malformed token");
    }
    JsonObject claims;
    try {
      claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed token");
    }
    DisplayBinding display = null;
    JsonObject d = claims.getJsonObject("display");
    if (d != null) {
      Map.Entry<String, Object> e = d.iterator().next();
      display = new DisplayBinding(e.getKey(), String.valueOf(e.getValue()));
    }
    Long exp = claims.getLong("exp");
    return new Caller(claims.getString("tenant"), claims.getString("sub"), claims.getString("jti"),
        grants(claims.getString("scope", "")), display, exp == null ? Long.MAX_VALUE : exp * 1000);
  }

  /** "admin", "read,ingest" or "read ingest" as grants on every stream. */
  public static Grants grants(String scopes) {
    List<Grants.Grant> list = new ArrayList<>();
    for (String s : scopes.split("[ ,]+")) {
      if (!s.isEmpty()) {
        list.add(new Grants.Grant(Scope.valueOf(s.toUpperCase(Locale.ROOT)), null));
      }
    }
    return new Grants(list);
  }

  /** The request header of a test token. */
  public static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  /** {@code t:<tenant>:<jti>:<scopes>}. */
  public static String token(String tenant, String jti, String scopes) {
    return "t:" + tenant + ":" + jti + ":" + scopes;
  }

  /** An HS256 JWTAuth over {@link #SECRET}: signs for {@link #signer}, and verifies in tests. */
  public static JWTAuth jwtAuth(Vertx vertx) {
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(SECRET)));
  }

  /** A test-only TokenSigner (HS256 over {@link #SECRET}) adding iat, exp and a jti when the claims have none. */
  public static TokenSigner signer(Vertx vertx) {
    JWTAuth auth = jwtAuth(vertx);
    return (claims, ttlMs) -> {
      JsonObject c = claims.copy();
      if (!c.containsKey("jti")) {
        c.put("jti", UUID.randomUUID().toString());
      }
      return auth.generateToken(c, new JWTOptions().setAlgorithm("HS256")
          .setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, ttlMs / 1000)));
    };
  }
}

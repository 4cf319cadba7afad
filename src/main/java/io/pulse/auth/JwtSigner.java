package io.pulse.auth;

import io.pulse.core.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.UUID;

/**
 * Signs tokens with the server's private key (the generated pair, the configured private key, or
 * the HS256 secret when that is the only key): what the {@code token} command prints and display
 * tokens are. Adds {@code iat}, {@code exp}, {@code iss} and a random {@code jti} (unless the claims
 * carry one). Thread-safe.
 */
public final class JwtSigner implements TokenSigner {

  private final JWTAuth auth;
  private final String algorithm;
  private final String issuer;
  private final Clock clock;

  /**
   * @param vertx any Vert.x instance (JWTAuth wants one; nothing is read from files here)
   * @param keys the loaded keys; {@link #of} answers null when they cannot sign
   */
  private JwtSigner(Vertx vertx, AuthKeys keys, String issuer, Clock clock) {
    this.auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(keys.sign()));
    this.algorithm = keys.signAlgorithm();
    this.issuer = issuer;
    this.clock = clock;
  }

  /** A signer with {@code keys}' private key, or null when only public keys (or JWKS) are configured. */
  public static JwtSigner of(Vertx vertx, AuthKeys keys, String issuer, Clock clock) {
    return keys.sign() == null ? null : new JwtSigner(vertx, keys, issuer, clock);
  }

  @Override
  public String sign(JsonObject claims, long ttlMs) {
    if (ttlMs <= 0) {
      throw new IllegalArgumentException("a token's time to live must be positive");
    }
    long now = clock.millis() / 1000;
    JsonObject c = claims.copy();
    c.put("iat", now);
    c.put("exp", now + Math.max(1, ttlMs / 1000));
    if (!c.containsKey("iss") && issuer != null && !issuer.isEmpty()) {
      c.put("iss", issuer);
    }
    if (!c.containsKey("jti")) {
      c.put("jti", UUID.randomUUID().toString());
    }
    return auth.generateToken(c, new JWTOptions().setAlgorithm(algorithm).setNoTimestamp(true));
  }
}

package io.pulse.auth;

import io.pulse.config.PulseConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Tokens exactly as a test wants them (any exp, nbf, claims, key): signed with a server's own
 * generated key (read from its data folder, as the token command does) or with a key of the test's.
 */
public final class Minter {

  private final JWTAuth auth;
  private final String alg;

  private Minter(Vertx vertx, PubSecKeyOptions key) {
    this.auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(key));
    this.alg = key.getAlgorithm();
  }

  /** Signs with the key a server of {@code config} signs with. */
  public static Minter of(Vertx vertx, PulseConfig config) {
    return new Minter(vertx, AuthKeys.load(config.auth(), Path.of(config.dataDir())).sign());
  }

  /** Signs with a key of its own (ES256, id {@code kid} when not null): what a stranger's token is. */
  public static Minter stranger(Vertx vertx, String kid) {
    KeyPair pair = es256();
    return new Minter(vertx, new PubSecKeyOptions().setAlgorithm("ES256").setId(kid)
        .setBuffer(AuthKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded())));
  }

  /** Signs with {@code pair}'s private key, its id {@code kid}. */
  public static Minter of(Vertx vertx, KeyPair pair, String kid) {
    String alg = pair.getPrivate().getAlgorithm().equals("RSA") ? "RS256" : "ES256";
    return new Minter(vertx, new PubSecKeyOptions().setAlgorithm(alg).setId(kid)
        .setBuffer(AuthKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded())));
  }

  /** HS256 with {@code secret}. */
  public static Minter hs256(Vertx vertx, String secret) {
    return new Minter(vertx, new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret));
  }

  public static KeyPair es256() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** These claims, exactly (nothing added). */
  public String sign(JsonObject claims) {
    return auth.generateToken(claims, new JWTOptions().setAlgorithm(alg).setNoTimestamp(true));
  }

  /** Claims valid for an hour: sub, tenant, scope, jti, exp. */
  public static JsonObject claims(String tenant, String scope) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", "alice").put("tenant", tenant).put("scope", scope)
        .put("jti", java.util.UUID.randomUUID().toString()).put("iat", now).put("exp", now + 3600);
  }

  /** An unsigned token ({@code alg: none}) of these claims. */
  public static String unsigned(JsonObject claims) {
    Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
    return b.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8)) + ".";
  }
}

package io.pulse.auth;

import io.vertx.core.json.JsonObject;

/**
 * Signs tokens with the server's key: the {@code token} command and the display-token API use
 * it. The signer adds {@code iat}, {@code exp} (from {@code ttlMs}), {@code iss} when configured,
 * and a fresh {@code jti} unless {@code claims} has one.
 */
public interface TokenSigner {

  /**
   * @param claims the token's claims: at least {@code sub}, the tenant claim and the scope claim
   * @param ttlMs how long the token is valid, from now
   * @return the signed compact JWT
   */
  String sign(JsonObject claims, long ttlMs);
}

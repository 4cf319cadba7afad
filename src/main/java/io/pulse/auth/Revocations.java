package io.pulse.auth;

/**
 * Which token ids are revoked, per tenant: a revocation belongs to the tenant whose admin made it and
 * only ever refuses tokens of that tenant (an admin cannot revoke another tenant's token, even by
 * naming its id). The request's caller resolution asks it for every request and every live
 * connection's token; answers come from memory (no I/O on the event loop).
 */
@FunctionalInterface
public interface Revocations {

  /** Nothing is revoked (authentication off, or before the revocation list is loaded). */
  Revocations NONE = (tenant, tokenId) -> false;

  /** Whether the token of {@code tenant} with id {@code tokenId} (a {@code jti}) has been revoked by that tenant. */
  boolean revoked(String tenant, String tokenId);
}

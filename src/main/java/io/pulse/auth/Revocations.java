package io.pulse.auth;

/**
 * Which token ids are revoked. The request's caller resolution asks it for every request and every
 * live connection's token; answers come from memory (no I/O on the event loop).
 */
@FunctionalInterface
public interface Revocations {

  /** Nothing is revoked (authentication off, or before the revocation list is loaded). */
  Revocations NONE = tokenId -> false;

  /** Whether the token with id {@code tokenId} (a {@code jti}) has been revoked. */
  boolean revoked(String tokenId);
}

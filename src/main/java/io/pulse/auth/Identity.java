package io.pulse.auth;

import io.pulse.core.Caller;
import java.util.List;

/**
 * A request's resolved caller and how it was established: {@code mode} "jwt" (a verified token) or
 * "off" (authentication off, or a resolver installed in-process); {@code ignoredScopes} are the
 * scope claim's entries Pulse does not know, reported by whoami.
 */
public record Identity(Caller caller, List<String> ignoredScopes, String mode) {

  public Identity {
    ignoredScopes = List.copyOf(ignoredScopes);
  }

  /** A caller without a token (authentication off). */
  public static Identity off(Caller caller) {
    return new Identity(caller, List.of(), "off");
  }
}

package io.pulse.core;

/**
 * What a request needs its token to allow, declared by every route in the route table
 * ({@code io.pulse.verticles.Routes}). A request whose caller lacks the route's scope is refused
 * (403), and a route without one is a test failure.
 */
public enum Scope {
  /** Needs no token: health, metrics, the UI's static files, and the API's 404/405 answers. */
  PUBLIC,
  /** Any valid token, whatever its scopes (whoami). */
  AUTHENTICATED,
  /** Sends events. */
  INGEST,
  /** Reads streams, history, the live feed, definitions and the quarantine. */
  READ,
  /** Changes rules and acknowledges alerts. */
  ALERTS,
  /** Changes dashboards, the quarantine and stored history; reads the audit log. */
  ADMIN
}

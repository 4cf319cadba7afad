package io.pulse.http;

/** What a request is charged to: the ingest limits, the query limits, or none. */
public enum RateClass {
  /** Event ingest (the two POST .../events routes): {@code limits.ingestPerToken}, {@code limits.ingestPerAddress}. */
  INGEST("ingest"),
  /** Reads: history, streams, definitions, the opening of a live connection: {@code limits.query*}. */
  QUERY("query"),
  /** Not rate-limited (changes of definitions, admin actions: rare, and bounded by their scopes). */
  NONE("none");

  private final String label;

  RateClass(String label) {
    this.label = label;
  }

  /** Its name in settings, messages and metric tags. */
  public String label() {
    return label;
  }
}

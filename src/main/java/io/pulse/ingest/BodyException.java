package io.pulse.ingest;

/** The request body as a whole cannot be taken: the HTTP status and a reason for the client. */
public final class BodyException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public BodyException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}

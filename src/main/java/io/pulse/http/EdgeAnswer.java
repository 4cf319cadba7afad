package io.pulse.http;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * An answer the HTTP edge gives by itself, before or instead of a route: its status, the text of
 * its JSON {@code {"error": ...}} body and its {@code Retry-After} (null for none). The factories
 * say which failure gets which answer; the edge writes it and closes the connection. They are
 * called only when something fails, never on the path of a request that is served.
 */
public record EdgeAnswer(int status, String message, String retryAfter) {

  /** A connection past {@code http.maxConnections}: its first request (or its silence) gets this. */
  public static EdgeAnswer connectionCap(int maxConnections) {
    return new EdgeAnswer(503, "the server has its maximum of " + maxConnections
        + " connections open (http.maxConnections); retry shortly", "1");
  }

  /** A request whose body would pass {@code ingest.maxBufferedBodyBytes} held at once. */
  public static EdgeAnswer bodyBudget(long capacity) {
    return new EdgeAnswer(503, "the server holds as many request bodies as it may (ingest.maxBufferedBodyBytes = "
        + capacity + " bytes); retry in a second", "1");
  }

  public static EdgeAnswer headerTimeout(long headerTimeoutMs) {
    return new EdgeAnswer(408, "the request's headers did not arrive within " + headerTimeoutMs
        + " ms (http.headerTimeoutMs)", null);
  }

  public static EdgeAnswer bodyTimeout(long bodyTimeoutMs) {
    return new EdgeAnswer(408, "the request body stopped arriving: nothing for " + bodyTimeoutMs
        + " ms (http.bodyTimeoutMs)", null);
  }

  /** A chunk the decoder could not read (bad chunk size, ...). */
  public static EdgeAnswer unreadableBody(Throwable cause) {
    return new EdgeAnswer(400, "the request body could not be read: " + describe(cause), null);
  }

  /** The decoder or decompressor failed while a body was arriving (or just after). */
  public static EdgeAnswer undecodableBody(Throwable cause) {
    return new EdgeAnswer(400, "the request body could not be decoded (Content-Encoding or chunks): "
        + describe(cause), null);
  }

  /**
   * Why a request whose head decoded is refused before any route sees it (505 for an HTTP version
   * other than 1.0/1.1, 417 for an expectation other than 100-continue), or null: Vert.x answers
   * other HTTP versions with an empty 501, and unknown expectations with a plain-text 417.
   *
   * @param version the version as the request wrote it; {@code expect} its Expect header or null
   */
  public static EdgeAnswer refusal(int major, int minor, String version, String expect) {
    if (major != 1 || minor > 1) {
      return new EdgeAnswer(505, "HTTP version " + clip(version, 40) + " is not supported; send HTTP/1.1", null);
    }
    if (expect != null && !"100-continue".equalsIgnoreCase(expect.trim())) {
      return new EdgeAnswer(417, "Expect: " + clip(expect, 80) + " is not supported; only Expect: 100-continue is",
          null);
    }
    return null;
  }

  /** What replaces an error Vert.x or Netty answered by itself without a body type: the same status, said in JSON. */
  public static EdgeAnswer bare(int status, String reasonPhrase) {
    return new EdgeAnswer(status, status + " " + reasonPhrase, null);
  }

  /** An interim response (100 Continue, ...; not 101): the request's body and its real answer are still to come. */
  public static boolean interim(int status) {
    return status >= 100 && status < 200 && status != 101;
  }

  /** The body: {@code {"error": message}} in UTF-8. */
  public byte[] json() {
    return new JsonObject().put("error", message).encode().getBytes(StandardCharsets.UTF_8);
  }

  /** The reason of the close frame for a WebSocket frame refused by the decoder (a close frame allows 123 bytes). */
  public static String wsCloseReason(String failure, String statusReason) {
    return clip(failure != null ? failure : statusReason, 120);
  }

  /** The error message sent just before that close frame. */
  public static String wsError(String reason) {
    return new JsonObject().put("type", "error").put("error", reason).encode();
  }

  /** The innermost message of a failure, clipped: what a caller is told of a decoder's failure. */
  public static String describe(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return clip(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName(), 200);
  }

  /** {@code s} cut to {@code max} characters, the last one an ellipsis when cut. */
  public static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}

package io.pulse.ingest;

import java.util.Locale;

/** The body formats ingest understands, chosen by Content-Type. */
public enum BodyFormat {
  /** One JSON object, or a JSON array of objects. */
  JSON,
  /** Newline-delimited JSON: one object a line. */
  NDJSON;

  /**
   * The format for a Content-Type header value; a missing header means JSON.
   *
   * @throws BodyException 415 for anything else
   */
  public static BodyFormat of(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return JSON;
    }
    String ct = contentType.toLowerCase(Locale.ROOT);
    int semi = ct.indexOf(';');
    String mime = (semi >= 0 ? ct.substring(0, semi) : ct).trim();
    if (semi >= 0) {
      String params = ct.substring(semi + 1);
      int cs = params.indexOf("charset=");
      if (cs >= 0) {
        String charset = params.substring(cs + 8).split(";")[0].trim().replace("\"", "");
        if (!charset.equals("utf-8") && !charset.equals("utf8") && !charset.equals("us-ascii")) {
          throw new BodyException(415, "charset " + charset + " is not supported; send UTF-8");
        }
      }
    }
    switch (mime) {
      case "application/json":
        return JSON;
      case "application/x-ndjson":
      case "application/ndjson":
      case "application/jsonl":
      case "application/x-jsonlines":
      case "application/jsonlines":
        return NDJSON;
      default:
        if (mime.startsWith("application/") && mime.endsWith("+json")) {
          return JSON;
        }
        throw new BodyException(415, "Content-Type " + mime
            + " is not supported; send application/json (an object or an array) or application/x-ndjson");
    }
  }
}

package io.pulse.ingest;

/**
 * One event that did not pass validation: its position in the request, why, the stream it named
 * (if any could be read) and its raw text for quarantine.
 */
public record Rejection(int index, String error, String stream, String payload) {
}

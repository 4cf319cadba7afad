package io.pulse.ingest;

import io.pulse.event.Event;
import java.util.List;

/**
 * What one request body held: the valid events in order with their positions in the request,
 * and the rejected ones with reasons.
 */
public record ParseResult(List<Event> events, int[] indices, List<Rejection> rejections) {

  public int total() {
    return events.size() + rejections.size();
  }
}

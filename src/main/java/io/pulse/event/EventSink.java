package io.pulse.event;

import java.util.List;

/** Where in-process producers (the demo generators, Kafka later) hand validated events to. */
@FunctionalInterface
public interface EventSink {
  void accept(List<Event> events);
}

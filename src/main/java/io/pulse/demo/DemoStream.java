package io.pulse.demo;

import io.pulse.event.Event;
import java.util.List;
import java.util.function.Consumer;

/**
 * One demo data generator: a product case's stream with a daily and weekly rhythm, noise,
 * short bursts and injected incidents.
 *
 * <p>A generator is a pure function of its seed and the time range asked for: it reads no
 * clock, and the events of a time range do not depend on how the range was cut into calls
 * (generating {@code [a, b)} then {@code [b, c)} yields exactly the events of {@code [a, c)}).
 * Instances keep a small cache and are not thread-safe; give each thread its own.
 */
public interface DemoStream {

  /** The stream name the events carry. */
  String stream();

  /** Emits the events whose event time lies in {@code [fromMs, toMs)}, in time order. */
  void generate(long fromMs, long toMs, Consumer<Event> out);

  /** The incidents that overlap {@code [fromMs, toMs)}, by start time. */
  List<Incident> incidents(long fromMs, long toMs);

  /**
   * Whether the generator's background noise holds one of its short unlabelled bursts at
   * {@code t} (the whole stream at 1.5 to 3 times its rate for 10 to 40 s, a few times an hour):
   * realism, not an incident.
   */
  default boolean burstAt(long t) {
    return false;
  }
}

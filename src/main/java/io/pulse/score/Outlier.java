package io.pulse.score;

import io.pulse.event.Event;

/**
 * An event a stream's model scored as an outlier, as the shard saw it: the event (immutable, held
 * by reference), its decision value and the model that scored it. The score and the explanation
 * are worked out from these off the hot path ({@link #score}, {@link EventModel#reasons}).
 */
public record Outlier(Event event, double decision, EventModel model) {

  public double score() {
    return model.score(decision);
  }
}

package io.pulse.catalog;

import io.pulse.agg.ViewRegistry;
import io.pulse.core.StreamId;

/**
 * Forgets one stream now, whatever its idle time (for deleting it): its catalogue entry, series
 * and meters, and its views unless a live subscriber holds one (then they stay and the subscriber
 * sees the stream start afresh). Uses the same retire-then-remove path as the idle sweep, so an
 * event being routed at that moment is never lost or miscounted: it lands in the old entry
 * before it goes, or in a fresh one after.
 */
public final class StreamForgetter {

  /** How often to try while ingest threads keep holding the entry (each hold lasts one request's routing). */
  private static final int TRIES = 1000;

  /** What forgetting found. */
  public enum Outcome {
    /** The stream had a catalogue entry; it is gone. */
    FORGOTTEN,
    /** The stream had no catalogue entry (views of it, if unsubscribed, are gone). */
    UNKNOWN,
    /** Ingest kept holding the entry on every try: nothing was forgotten; try again shortly. */
    BUSY
  }

  private StreamForgetter() {
  }

  public static Outcome forget(StreamCatalog catalog, ViewRegistry views, StreamId stream, long now) {
    for (int i = 0; i < TRIES; i++) {
      StreamCatalog.StreamInfo info = catalog.get(stream);
      if (info == null) {
        catalog.whileAbsent(stream, () -> views.forgetStream(stream, now, 0));
        return Outcome.UNKNOWN;
      }
      // idle "since ever": an idle time of 1 ms at the end of time makes every entry idle enough
      if (!catalog.forgetIdleStreams(Long.MAX_VALUE, name -> name.equals(stream) ? 1 : 0, s -> {
        views.forgetStream(stream, now, 0); // refuses, keeping them, while a subscriber holds a view
        return true;
      }).isEmpty()) {
        return Outcome.FORGOTTEN;
      }
      Thread.onSpinWait();
    }
    return Outcome.BUSY;
  }
}

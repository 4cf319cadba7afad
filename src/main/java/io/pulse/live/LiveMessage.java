package io.pulse.live;

import io.pulse.agg.Rollup;

/**
 * One message of the live feed, encoded once and shared by every subscriber of its view.
 *
 * @param seq for a final rollup (or alert), its place in the view's sequence; for a running update,
 *     the sequence number of the view's last final before it (what a client resumes after)
 * @param seriesKey identifies the series within the view, for coalescing
 * @param json the message without the {@code sub} field
 * @param at the start of the window the message is about, or {@link #NO_WINDOW}: SSE ids carry it,
 *     so a client can resume from storage after a server restart
 */
public record LiveMessage(int viewId, String seriesKey, boolean fin, long seq, String type, String json,
    Rollup rollup, long at) {

  /** No window: {@link #at} is {@link Long#MIN_VALUE}. */
  public static final long NO_WINDOW = Long.MIN_VALUE;

  /** A message about its rollup's window (or none when {@code rollup} is null). */
  public LiveMessage(int viewId, String seriesKey, boolean fin, long seq, String type, String json, Rollup rollup) {
    this(viewId, seriesKey, fin, seq, type, json, rollup, rollup == null ? NO_WINDOW : rollup.start());
  }
}

package io.pulse.live;

import io.pulse.agg.Rollup;

/**
 * One message of the live feed, encoded once and shared by every subscriber of its view.
 *
 * @param seq for a final rollup (or alert), its place in the view's sequence; for a running update,
 *     the sequence number of the view's last final before it (what a client resumes after)
 * @param seriesKey identifies the series within the view, for coalescing
 * @param json the message without the {@code sub} field
 */
public record LiveMessage(int viewId, String seriesKey, boolean fin, long seq, String type, String json,
    Rollup rollup) {
}

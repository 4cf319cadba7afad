package io.pulse.agg;

import io.pulse.event.Dims;

/**
 * The figures of one series of one view for one window: a running update while the window is
 * open ({@code fin} false), or the closing figures once ({@code fin} true). Immutable; it crosses
 * the event bus by reference and many subscribers share it.
 *
 * @param latest newest event time folded in so far
 * @param latestArrival when the newest event arrived, for the push-latency metric
 */
public record Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
    long latestArrival, String[] names, ValueStats.Summary[] stats) {
}

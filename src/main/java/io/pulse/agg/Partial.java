package io.pulse.agg;

/**
 * One shard's share of one window of a coarser view (a total, a group-by, a filtered view): the
 * merge of the windows of the series it owns that roll up into that group. {@code fin} marks the
 * shard's closing figures for the window; otherwise it is the shard's running state so far
 * (cumulative, not a delta). Immutable once handed over.
 */
public record Partial(ViewKey key, WindowAgg window, boolean fin) {
}

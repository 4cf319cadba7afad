package io.pulse.agg;

import java.util.List;

/**
 * What one shard produced in one flush: complete rollups of its own series, partial windows of
 * coarser views, and its watermark — every window ending at or before {@code closedBefore} is
 * closed at this shard and has been reported.
 */
public record ShardOutput(int shard, List<Rollup> rollups, List<Partial> partials, long closedBefore) {
}

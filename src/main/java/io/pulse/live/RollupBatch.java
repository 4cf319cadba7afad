package io.pulse.live;

import io.pulse.agg.Rollup;
import java.util.List;

/** What one aggregate shard produced in one flush: final rollups of closed windows, then running updates. */
public record RollupBatch(int shard, List<Rollup> rollups) {
}

package io.pulse.live;

import io.pulse.agg.Rollup;
import java.util.List;

/** Complete rollups from the combiner: finals of closed windows, then running updates. */
public record RollupBatch(List<Rollup> rollups) {
}

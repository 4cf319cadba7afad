package io.pulse.live;

import io.pulse.agg.Rollup;
import java.util.List;

/**
 * Complete rollups from the combiner: finals of closed windows, then running updates.
 *
 * @param remote in cluster mode: the series rollups in it come from a partition another instance
 *     owns (that instance stores them and raises their alerts); here they only feed the live feed
 */
public record RollupBatch(List<Rollup> rollups, boolean remote) {

  public RollupBatch(List<Rollup> rollups) {
    this(rollups, false);
  }
}

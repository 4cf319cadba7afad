package io.pulse.agg;

import io.pulse.event.Dims;

/** One series of one view: the unit an aggregate shard owns. */
public record ViewKey(View view, Dims series) {

  @Override
  public boolean equals(Object o) {
    return o instanceof ViewKey && ((ViewKey) o).view == view && ((ViewKey) o).series.equals(series);
  }

  @Override
  public int hashCode() {
    return series.hashCode() * 31 + view.id();
  }

  /** Shard that owns this key; stable for the life of the process. */
  public int shard(int shards) {
    int h = view.id() * 31 + series.hashCode();
    h ^= (h >>> 16);
    return Math.floorMod(h, shards);
  }
}

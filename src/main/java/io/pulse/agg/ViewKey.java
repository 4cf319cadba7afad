package io.pulse.agg;

import io.pulse.event.Dims;

/**
 * One series of one view: the unit an aggregate shard owns. Immutable; the catalog keeps one
 * instance per series and view, so the hot path compares keys mostly by identity.
 */
public final class ViewKey {

  private final View view;
  private final Dims series;
  private final int hash;
  /**
   * The owning shard's state for this key, so the hot path skips a map look-up per event. Only
   * the thread of the shard that owns the key (see {@link #shard}) reads or writes it.
   */
  private Object shardState;

  public ViewKey(View view, Dims series) {
    this.view = view;
    this.series = series;
    this.hash = series.hashCode() * 31 + view.id();
  }

  public View view() {
    return view;
  }

  public Dims series() {
    return series;
  }

  Object shardState() {
    return shardState;
  }

  void shardState(Object state) {
    shardState = state;
  }

  /** Shard that owns this key; stable for the life of the process. */
  public int shard(int shards) {
    int h = hash ^ (hash >>> 16);
    return Math.floorMod(h, shards);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof ViewKey && ((ViewKey) o).view == view && ((ViewKey) o).hash == hash
        && ((ViewKey) o).series.equals(series);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return view + series.toString();
  }
}

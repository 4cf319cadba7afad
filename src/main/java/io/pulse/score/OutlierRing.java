package io.pulse.score;

import java.util.ArrayList;
import java.util.List;

/** The newest outliers of one stream, at most {@code capacity}, oldest overwritten first. Single-threaded. */
public final class OutlierRing {

  private final OutlierRecord[] items;
  private int next;
  private long total;

  public OutlierRing(int capacity) {
    this.items = new OutlierRecord[capacity];
  }

  public void add(OutlierRecord r) {
    items[next] = r;
    next = (next + 1) % items.length;
    total++;
  }

  /** Outliers with event time in [from, to), newest first, at most {@code limit}. */
  public List<OutlierRecord> between(long from, long to, int limit) {
    List<OutlierRecord> out = new ArrayList<>();
    int held = (int) Math.min(total, items.length);
    for (int k = 1; k <= held && out.size() < limit; k++) {
      OutlierRecord r = items[Math.floorMod(next - k, items.length)];
      if (r.ts() >= from && r.ts() < to) {
        out.add(r);
      }
    }
    return out;
  }

  /** Outliers ever added (the ring holds the newest {@code capacity}). */
  public long total() {
    return total;
  }
}

package io.pulse.score;

import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Joins the shards' samples of one stream into one training sample of at most {@code max} events.
 * Each shard's share is in proportion to the events it saw since the last take (its series may be
 * busier), or to what it holds when none came since; within a share, a seeded shuffle picks.
 */
public final class SampleMerge {

  private SampleMerge() {
  }

  public static List<Event> merge(List<Reservoir.Slice> slices, int max, long seed) {
    long held = 0;
    long seen = 0;
    for (Reservoir.Slice s : slices) {
      held += s.events().size();
      seen += s.seen();
    }
    List<Event> out = new ArrayList<>();
    if (held <= max) {
      slices.forEach(s -> out.addAll(s.events()));
      return out;
    }
    Random r = new Random(seed);
    for (Reservoir.Slice s : slices) {
      double weight = seen > 0 ? (double) s.seen() / seen : (double) s.events().size() / held;
      int take = (int) Math.min(s.events().size(), Math.round(weight * max));
      List<Event> mine = new ArrayList<>(s.events());
      Collections.shuffle(mine, r);
      out.addAll(mine.subList(0, take));
    }
    return out.size() > max ? out.subList(0, max) : out;
  }
}

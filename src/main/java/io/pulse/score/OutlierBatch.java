package io.pulse.score;

import java.util.List;

/** A shard's outliers since its last flush, for the model verticle (immutable: crosses the event bus by reference). */
public record OutlierBatch(List<Outlier> outliers) {

  public OutlierBatch {
    outliers = List.copyOf(outliers);
  }
}

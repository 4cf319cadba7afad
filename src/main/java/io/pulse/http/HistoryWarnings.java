package io.pulse.http;

import io.pulse.store.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a history request asks of a stream that the stream has never had (group-by dims, filter
 * dims, metrics), said as warnings the way the live feed says them.
 */
public final class HistoryWarnings {

  private HistoryWarnings() {
  }

  /**
   * @param dims the dim names the stream has had (live and stored)
   * @param values the value names the stream has had
   */
  public static List<String> of(String stream, Set<String> dims, Set<String> values, History.Request req) {
    List<String> warnings = new ArrayList<>();
    for (String g : req.groupBy()) {
      if (!dims.contains(g)) {
        warnings.add("groupBy: stream " + stream + " has no dim \"" + g + "\" (it has " + dims + ")");
      }
    }
    for (String f : req.filter().keySet()) {
      if (!dims.contains(f)) {
        warnings.add("filter: stream " + stream + " has no dim \"" + f + "\" (it has " + dims + ")");
      }
    }
    if (req.metrics() != null) {
      for (String m : req.metrics()) {
        if (!values.contains(m)) {
          warnings.add("metric: stream " + stream + " has no value \"" + m + "\" (it has " + values + ")");
        }
      }
    }
    return warnings;
  }
}

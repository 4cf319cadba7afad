package io.pulse.http;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.store.History;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HistoryWarningsTest {

  @Test
  @DisplayName("warns of group-by dims, filter dims and metrics the stream never had; nothing when it had them")
  void warnings() {
    Set<String> dims = new TreeSet<>(Set.of("region"));
    Set<String> values = new TreeSet<>(Set.of("amount"));
    History.Request asksTooMuch = History.parse(StreamId.of("checkout"), Map.of("groupBy", List.of("store"),
        "filter", List.of("country:de"), "metric", List.of("items")), 3_600_000L);
    assertEquals(List.of(
        "groupBy: stream checkout has no dim \"store\" (it has [region])",
        "filter: stream checkout has no dim \"country\" (it has [region])",
        "metric: stream checkout has no value \"items\" (it has [amount])"),
        HistoryWarnings.of("checkout", dims, values, asksTooMuch));
    History.Request fits = History.parse(StreamId.of("checkout"), Map.of("groupBy", List.of("region"),
        "metric", List.of("amount")), 3_600_000L);
    assertEquals(List.of(), HistoryWarnings.of("checkout", dims, values, fits));
  }
}

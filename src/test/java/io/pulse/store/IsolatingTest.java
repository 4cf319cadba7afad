package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IsolatingTest {

  private static List<Integer> rows(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  @Test
  @DisplayName("rows refused for their content are given up alone, each once; every other row is written once")
  void refusedRowsIsolated() {
    Set<Integer> poison = Set.of(3, 17, 18, 63);
    List<Integer> written = new ArrayList<>();
    Isolating.Outcome<Integer> o = Isolating.write(rows(64), batch -> {
      if (batch.stream().anyMatch(poison::contains)) {
        return Future.failedFuture(new IllegalArgumentException("refused"));
      }
      written.addAll(batch);
      return Future.succeededFuture();
    }).result();
    assertEquals(60, o.written());
    assertEquals(60, written.size());
    assertEquals(poison, Set.copyOf(o.refused().stream().map(Isolating.Refusal::row).toList()));
    assertEquals(4, o.refused().size());
    assertTrue(o.remaining().isEmpty());
    assertNull(o.transientCause());
  }

  @Test
  @DisplayName("the database going away midway: the rows not written yet are remaining, those written are not")
  void transientFailureLeavesTheRest() {
    List<Integer> written = new ArrayList<>();
    int[] calls = {0};
    Isolating.Outcome<Integer> o = Isolating.write(rows(16), batch -> {
      calls[0]++;
      if (batch.contains(5)) {
        return Future.failedFuture(new IllegalArgumentException("refused")); // halves down to 5
      }
      if (batch.contains(12)) {
        return Future.failedFuture(new IOException("connection reset")); // the database goes away
      }
      written.addAll(batch);
      return Future.succeededFuture();
    }).result();
    assertNotNull(o.transientCause());
    assertEquals(List.of(5), o.refused().stream().map(Isolating.Refusal::row).toList());
    List<Integer> all = new ArrayList<>(written);
    all.addAll(o.remaining());
    all.add(5);
    assertEquals(rows(16), all.stream().sorted().toList(), "every row exactly once: written, refused or remaining");
    assertTrue(o.remaining().contains(12));
    assertEquals(written.size(), o.written());
  }
}

package io.pulse.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.core.StreamId;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StreamMetersTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double accepted(String tenant, String stream) {
    Counter c = registry.find("pulse.events.accepted").tag("tenant", tenant).tag("stream", stream).counter();
    return c == null ? Double.NaN : c.count();
  }

  private Set<String> labelledStreams() {
    Set<String> s = new HashSet<>();
    registry.find("pulse.events.accepted").counters().forEach(c -> s.add(c.getId().getTag("tenant") + "/"
        + c.getId().getTag("stream")));
    return s;
  }

  private double acceptedSum() {
    return registry.find("pulse.events.accepted").counters().stream().mapToDouble(Counter::count).sum();
  }

  @Test
  @DisplayName("a thousand invented stream names make one _other series, not a thousand; the sum stays exact")
  void boundedLabels() {
    StreamMeters m = new StreamMeters(registry, Set.of("checkout"), 3);
    m.open(StreamId.of("checkout")).count(5, 0, 0, 0);
    for (int i = 0; i < 1000; i++) {
      m.open(StreamId.of("junk-" + i)).count(1, 0, 0, 0);
    }
    assertEquals(Set.of("default/checkout", "default/junk-0", "default/junk-1", "default/junk-2", "default/_other"),
        labelledStreams(), "configured, the first 3 others while there is room, and _other");
    assertEquals(5, accepted("default", "checkout"));
    assertEquals(997, accepted("default", "_other"));
    m.rebalance();
    assertEquals(5, labelledStreams().size(), "configured + 3 + _other");
    assertEquals(1005, acceptedSum(), "nothing counted twice or lost");
  }

  @Test
  @DisplayName("a place freed by a forgotten stream goes to the busiest waiting one, which counts from then on")
  void busiestPromoted() {
    StreamMeters m = new StreamMeters(registry, Set.of(), 2);
    StreamMeters.Handle a = m.open(StreamId.of("a"));
    StreamMeters.Handle b = m.open(StreamId.of("b"));
    StreamMeters.Handle c = m.open(StreamId.of("c"));
    StreamMeters.Handle d = m.open(StreamId.of("d"));
    assertTrue(a.own() && b.own() && !c.own() && !d.own(), "first come while there is room");
    c.count(10, 0, 0, 0);
    d.count(30, 0, 0, 0);
    a.count(1, 0, 0, 0);
    b.count(1, 0, 0, 0);
    m.forget(a);
    m.rebalance();
    assertTrue(d.own() && !c.own(), "the busier waiting stream takes the free place");
    assertEquals(40, accepted("default", "_other"));
    d.count(1, 0, 0, 0);
    c.count(1, 0, 0, 0);
    assertEquals(1, accepted("default", "d"), "its own series counts from promotion");
    assertEquals(41, accepted("default", "_other"), "_other never goes down");
  }

  @Test
  @DisplayName("a promoted stream that went quiet gives its place to a busier one waiting")
  void idleDemoted() {
    StreamMeters m = new StreamMeters(registry, Set.of(), 1);
    StreamMeters.Handle a = m.open(StreamId.of("a"));
    StreamMeters.Handle b = m.open(StreamId.of("b"));
    a.count(5, 0, 0, 0);
    m.rebalance();
    assertTrue(a.own());
    assertFalse(b.own());
    b.count(1, 0, 0, 0);
    a.count(1, 0, 0, 0);
    m.rebalance();
    assertTrue(a.own(), "still active: keeps its place");
    assertFalse(b.own());
    b.count(1, 0, 0, 0);
    m.rebalance();
    assertTrue(b.own());
    assertFalse(a.own());
    assertNull(registry.find("pulse.events.accepted").tag("stream", "a").counter(), "its series is removed");
  }

  @Test
  @DisplayName("configured streams are labelled in every tenant and never demoted; tenants do not share _other")
  void tenants() {
    StreamMeters m = new StreamMeters(registry, Set.of("checkout"), 0);
    StreamMeters.Handle x = m.open(StreamId.of("acme", "checkout"));
    StreamMeters.Handle y = m.open(StreamId.of("globex", "checkout"));
    m.open(StreamId.of("acme", "misc")).count(2, 0, 0, 0);
    x.count(3, 0, 0, 0);
    y.count(4, 0, 0, 0);
    m.rebalance();
    m.rebalance();
    assertEquals(3, accepted("acme", "checkout"));
    assertEquals(4, accepted("globex", "checkout"));
    assertEquals(2, accepted("acme", "_other"));
    assertTrue(Double.isNaN(accepted("globex", "_other")));
  }

  @Test
  @DisplayName("forgetting a stream removes its own series; rejected, late and overflowed follow the same labels")
  void forget() {
    StreamMeters m = new StreamMeters(registry, Set.of("s"), 0);
    StreamMeters.Handle s = m.open(StreamId.of("s"));
    s.count(1, 2, 3, 4);
    s.rejected(5);
    assertEquals(2, registry.find("pulse.events.late").tag("stream", "s").counter().count());
    assertEquals(3, registry.find("pulse.events.late.quarantined").tag("stream", "s").counter().count());
    assertEquals(4, registry.find("pulse.events.overflowed").tag("stream", "s").counter().count());
    assertEquals(5, registry.find("pulse.events.rejected").tag("stream", "s").counter().count());
    m.forget(s);
    assertNull(registry.find("pulse.events.accepted").tag("stream", "s").counter());
  }
}

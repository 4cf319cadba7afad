package io.pulse.dash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.DisplayBinding;
import io.pulse.core.ManualClock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The display scope cache: fresh answers without storage, stale ones reloaded, bounded, told of changes. */
class DisplayScopesTest {

  private final ManualClock clock = new ManualClock(1_000_000);
  /** The loads asked for, completed by the test. */
  private final List<Promise<DisplayScopes.Scope>> loads = new ArrayList<>();
  private final DisplayScopes scopes = new DisplayScopes((tenant, b) -> {
    Promise<DisplayScopes.Scope> p = Promise.promise();
    loads.add(p);
    return p.future();
  }, clock, 5_000, 3);

  private static DisplayScopes.Scope streams(String... names) {
    return new DisplayScopes.Scope(Set.of("d"), Set.of(), Set.of(names));
  }

  private static final DisplayBinding D = new DisplayBinding("dashboard", "d");

  @Test
  @DisplayName("the first use loads; within the TTL no load and an answer at once; after it one reload")
  void ttl() {
    Future<DisplayScopes.Entry> first = scopes.entry("acme", D);
    assertFalse(first.isComplete(), "waits for the first load");
    assertEquals(1, loads.size());
    Future<DisplayScopes.Entry> again = scopes.entry("acme", D);
    assertEquals(1, loads.size(), "one load for concurrent users");
    loads.get(0).complete(streams("payments"));
    assertTrue(first.succeeded() && again.succeeded());
    assertTrue(first.result().stream("payments"));
    assertFalse(first.result().stream("sales"));
    assertFalse(first.result().stream(null));

    clock.advance(4_999);
    Future<DisplayScopes.Entry> cached = scopes.entry("acme", D);
    assertTrue(cached.succeeded(), "answered at once");
    assertEquals(1, loads.size());

    clock.advance(1);
    Future<DisplayScopes.Entry> stale = scopes.entry("acme", D);
    assertFalse(stale.isComplete(), "a stale scope is read again");
    assertEquals(2, loads.size());
    loads.get(1).complete(streams("sales"));
    assertTrue(stale.result().stream("sales"));
    assertFalse(stale.result().stream("payments"), "the edit took effect");
  }

  @Test
  @DisplayName("storage failing: the first load fails; later, the scope it had is kept")
  void failures() {
    Future<DisplayScopes.Entry> first = scopes.entry("acme", D);
    loads.get(0).fail(new RuntimeException("db down"));
    assertTrue(first.failed());
    Future<DisplayScopes.Entry> retry = scopes.entry("acme", D);
    loads.get(1).complete(streams("payments"));
    assertTrue(retry.succeeded());
    clock.advance(10_000);
    Future<DisplayScopes.Entry> kept = scopes.entry("acme", D);
    loads.get(2).fail(new RuntimeException("db down"));
    assertTrue(kept.succeeded());
    assertTrue(kept.result().stream("payments"));
  }

  @Test
  @DisplayName("a live connection's check on a stale entry answers from what it holds and reloads in the background")
  void backgroundReload() {
    Future<DisplayScopes.Entry> f = scopes.entry("acme", D);
    loads.get(0).complete(streams("payments"));
    DisplayScopes.Entry e = f.result();
    clock.advance(6_000);
    assertTrue(e.stream("payments"), "the scope it holds");
    assertEquals(2, loads.size(), "and one reload");
    assertTrue(e.stream("payments"));
    assertEquals(2, loads.size(), "not one per check");
    loads.get(1).complete(streams("sales"));
    assertFalse(e.stream("payments"));
    assertTrue(e.stream("sales"));
  }

  @Test
  @DisplayName("changed(tenant) makes that tenant's scopes stale at once, even with a load under way; others stay")
  void changed() {
    Future<DisplayScopes.Entry> a = scopes.entry("acme", D);
    loads.get(0).complete(streams("payments"));
    Future<DisplayScopes.Entry> b = scopes.entry("beta", D);
    loads.get(1).complete(streams("payments"));
    scopes.changed("acme");
    assertFalse(scopes.entry("acme", D).isComplete(), "reloaded");
    assertTrue(scopes.entry("beta", D).succeeded(), "another tenant's is still fresh");
    assertEquals(3, loads.size());
    scopes.changed("acme"); // while that load is under way: its answer may predate the change
    loads.get(2).complete(streams("old"));
    assertFalse(scopes.entry("acme", D).isComplete(), "a load begun before the change does not make it fresh");
    loads.get(3).complete(streams("new"));
    assertTrue(a.result().stream("new"));
    assertTrue(b.result().stream("payments"));
  }

  @Test
  @DisplayName("bounded: the least recently used binding goes first")
  void bounded() {
    for (int i = 0; i < 5; i++) {
      scopes.entry("acme", new DisplayBinding("dashboard", "d" + i));
    }
    assertEquals(3, scopes.size());
  }
}

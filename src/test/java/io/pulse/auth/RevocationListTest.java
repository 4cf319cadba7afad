package io.pulse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RevocationListTest {

  private static final long T0 = 1_763_805_600_000L;

  private static RevocationList.Entry entry(String id, String tenant, long at, long expires) {
    return new RevocationList.Entry(id, tenant, at, expires, "admin (token a1)", "lost laptop");
  }

  @Test
  @DisplayName("a revoked id is revoked at once; others and null are not")
  void revokedAtOnce() {
    RevocationList list = new RevocationList(new ManualClock(T0));
    assertFalse(list.revoked("acme", "t1"));
    list.revoke(entry("t1", "acme", T0, T0 + 3_600_000));
    assertTrue(list.revoked("acme", "t1"));
    assertFalse(list.revoked("acme", "t2"));
    assertFalse(list.revoked("acme", null));
    assertEquals(1, list.size());
  }

  @Test
  @DisplayName("a revocation refuses only its own tenant's token of that id; another tenant's revocation of it is its own")
  void perTenant() {
    RevocationList list = new RevocationList(new ManualClock(T0));
    list.revoke(entry("shared", "acme", T0, 0));
    assertTrue(list.revoked("acme", "shared"));
    assertFalse(list.revoked("beta", "shared"), "acme's revocation does not touch beta's token of the same id");
    assertFalse(list.revoked(null, "shared"));
    assertNull(list.get("beta", "shared"));
    assertTrue(list.list("beta").isEmpty(), "beta sees nothing of acme's revocation");

    RevocationList.Entry beta = entry("shared", "beta", T0 + 1, 0);
    assertSame(beta, list.revoke(beta), "beta's own revocation is new, not acme's earlier one");
    assertTrue(list.revoked("beta", "shared"));
    assertEquals(2, list.size());
    assertEquals("beta", list.get("beta", "shared").tenant());
    assertEquals("acme", list.get("acme", "shared").tenant());
    assertEquals(List.of("shared"), list.list("beta").stream().map(RevocationList.Entry::tokenId).toList());

    List<RevocationList.Entry> added = list.addAll(List.of(entry("x", "acme", T0, 0), entry("x", "gamma", T0, 0)));
    assertEquals(List.of("acme", "gamma"), added.stream().map(RevocationList.Entry::tenant).toList(),
        "loading keys by tenant too: both are new");
    assertFalse(list.revoked("beta", "x"));
  }

  @Test
  @DisplayName("revoking twice keeps the first revocation (idempotent)")
  void idempotent() {
    RevocationList list = new RevocationList(new ManualClock(T0));
    RevocationList.Entry first = entry("t1", "acme", T0, 0);
    assertSame(first, list.revoke(first));
    RevocationList.Entry again = new RevocationList.Entry("t1", "acme", T0 + 5, 0, "bob", "again");
    assertSame(first, list.revoke(again), "the earlier revocation stays in force");
    assertEquals("lost laptop", list.get("acme", "t1").reason());
    assertEquals(1, list.size());
  }

  @Test
  @DisplayName("a tenant lists only its own revocations, newest first")
  void perTenantListing() {
    RevocationList list = new RevocationList(new ManualClock(T0));
    list.revoke(entry("a1", "acme", T0, 0));
    list.revoke(entry("b1", "beta", T0 + 1, 0));
    list.revoke(entry("a2", "acme", T0 + 2, 0));
    assertEquals(List.of("a2", "a1"), list.list("acme").stream().map(RevocationList.Entry::tokenId).toList());
    assertEquals(List.of("b1"), list.list("beta").stream().map(RevocationList.Entry::tokenId).toList());
    assertTrue(list.list("gamma").isEmpty());
  }

  @Test
  @DisplayName("the sweep drops entries whose token expired more than the grace ago; unknown expiry stays")
  void sweep() {
    ManualClock clock = new ManualClock(T0);
    RevocationList list = new RevocationList(clock);
    list.revoke(entry("short", "acme", T0, T0 + 60_000)); // expires in 1 min
    list.revoke(entry("long", "acme", T0, T0 + 86_400_000L)); // in a day
    list.revoke(entry("unknown", "acme", T0, 0)); // expiry not known: kept for good
    assertEquals(0, list.sweep(), "nothing has expired");

    clock.advance(60_000); // "short" expired just now: still within the grace
    assertEquals(0, list.sweep());
    assertTrue(list.revoked("acme", "short"));

    clock.advance(RevocationList.SWEEP_GRACE_MS); // "short" expired a grace ago
    assertEquals(1, list.sweep());
    assertFalse(list.revoked("acme", "short"), "swept: the token is refused for its expiry anyway");
    assertNull(list.get("acme", "short"));
    assertTrue(list.revoked("acme", "long"));
    assertTrue(list.revoked("acme", "unknown"));

    clock.advance(2 * 86_400_000L);
    assertEquals(1, list.sweep());
    assertEquals(List.of("unknown"), list.list("acme").stream().map(RevocationList.Entry::tokenId).toList());
  }

  @Test
  @DisplayName("loading from storage adds only what is new and not long expired, and says which were new")
  void addAll() {
    ManualClock clock = new ManualClock(T0);
    RevocationList list = new RevocationList(clock);
    list.revoke(entry("t1", "acme", T0, 0));
    List<RevocationList.Entry> added = list.addAll(List.of(entry("t1", "acme", T0, 0), entry("t2", "acme", T0, 0),
        entry("old", "acme", T0 - 86_400_000L, T0 - RevocationList.SWEEP_GRACE_MS - 1)));
    assertEquals(List.of("t2"), added.stream().map(RevocationList.Entry::tokenId).toList());
    assertTrue(list.revoked("acme", "t2"));
    assertFalse(list.revoked("acme", "old"));
  }

  @Test
  @DisplayName("an entry needs a token id, a tenant and an actor")
  void entryChecks() {
    assertThrows(IllegalArgumentException.class, () -> new RevocationList.Entry("", "acme", T0, 0, "a", null));
    assertThrows(IllegalArgumentException.class, () -> new RevocationList.Entry("t", null, T0, 0, "a", null));
    assertThrows(IllegalArgumentException.class, () -> new RevocationList.Entry("t", "acme", T0, 0, null, null));
  }
}

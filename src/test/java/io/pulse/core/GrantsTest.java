package io.pulse.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Grants.Grant;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrantsTest {

  @Test
  void patternsNarrowAScopeToMatchingStreams() {
    Grants g = new Grants(List.of(new Grant(Scope.READ, "checkout*"), new Grant(Scope.INGEST, null)));
    assertTrue(g.allows(Scope.READ, "checkout"));
    assertTrue(g.allows(Scope.READ, "checkout-eu"));
    assertFalse(g.allows(Scope.READ, "payments"));
    assertFalse(g.allowsAll(Scope.READ));
    assertTrue(g.allows(Scope.READ));
    assertTrue(g.allowsAll(Scope.INGEST));
    assertFalse(g.allows(Scope.ALERTS));
    assertFalse(g.allows(Scope.ADMIN));
  }

  @Test
  void adminAllowsEverything() {
    assertTrue(Grants.ALL.allows(Scope.ALERTS, "x"));
    assertTrue(Grants.ALL.allowsAll(Scope.READ));
  }

  @Test
  void globMatchesRunsAndLiterals() {
    assertTrue(Grants.glob("*", ""));
    assertTrue(Grants.glob("a*b*c", "aXXbYc"));
    assertFalse(Grants.glob("a*b*c", "aXXbY"));
    assertTrue(Grants.glob("pay.*-eu", "pay.cards-eu"));
    assertFalse(Grants.glob("pay", "payments"));
  }

  @Test
  void onlyNarrowsToTheStreamsItAccepts() {
    Grants display = new Grants(List.of(new Grant(Scope.READ, null))).only(java.util.Set.of("checkout", "cart")::contains);
    assertTrue(display.allows(Scope.READ), "the route's scope still holds");
    assertTrue(display.allows(Scope.READ, "checkout"));
    assertFalse(display.allows(Scope.READ, "sales"), "a stream outside the display's dashboard");
    assertFalse(display.allowsAll(Scope.READ), "a listing is filtered");
    assertFalse(display.allows(Scope.INGEST, "checkout"), "never more than the grants gave");
    Grants both = new Grants(List.of(new Grant(Scope.READ, "check*"))).only(java.util.Set.of("checkout", "cart")::contains);
    assertTrue(both.allows(Scope.READ, "checkout"));
    assertFalse(both.allows(Scope.READ, "cart"), "the pattern and the narrowing both hold");
    assertFalse(both.only(s -> !s.equals("checkout")).allows(Scope.READ, "checkout"), "narrowing twice narrows both ways");
  }
}

package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** When a connection takes body bytes from the shared budget, and when it gives them back. */
class BodyHoldTest {

  private final BodyBudget budget = new BodyBudget(1_000);

  @Test
  @DisplayName("a declared length is taken at the head; chunks within it take nothing more, past it the excess")
  void declaredThenExcess() {
    BodyHold h = new BodyHold(budget, 800);
    assertTrue(h.begin(300));
    assertEquals(300, budget.held());
    assertTrue(h.arrived(200));
    assertTrue(h.arrived(100));
    assertEquals(300, budget.held(), "within the declared length");
    assertTrue(h.arrived(50), "a body that decompresses to more");
    assertEquals(350, budget.held());
    h.end();
    assertEquals(0, budget.held());
  }

  @Test
  @DisplayName("a body without a length (chunked) is taken as it arrives")
  void chunked() {
    BodyHold h = new BodyHold(budget, 800);
    assertTrue(h.begin(-1));
    assertEquals(0, budget.held());
    assertTrue(h.arrived(400));
    assertTrue(h.arrived(400));
    assertEquals(800, h.held());
    assertFalse(h.arrived(201), "past the budget");
    assertEquals(800, budget.held(), "a refusal takes nothing");
    h.end();
    assertEquals(0, budget.held());
  }

  @Test
  @DisplayName("a declared length that does not fit is refused whole; one over the route's limit is not taken (the route answers 413)")
  void refusedOrNotTaken() {
    BodyBudget full = new BodyBudget(100);
    assertTrue(full.tryReserve(60));
    BodyHold h = new BodyHold(full, 800);
    assertFalse(h.begin(41));
    assertEquals(60, full.held());
    assertEquals(0, h.held());

    BodyHold big = new BodyHold(budget, 800);
    assertTrue(big.begin(801));
    assertEquals(0, budget.held());
  }

  @Test
  @DisplayName("the next request's head gives back what the one before still held")
  void nextHeadGivesBack() {
    BodyHold h = new BodyHold(budget, 800);
    assertTrue(h.begin(300));
    assertTrue(h.begin(200));
    assertEquals(200, budget.held());
  }

  @Test
  @DisplayName("after the response ended, what still arrives of the body is held by no one")
  void notCountedAfterEnd() {
    BodyHold h = new BodyHold(budget, 800);
    assertTrue(h.begin(-1));
    assertTrue(h.arrived(100));
    h.end();
    assertTrue(h.arrived(5_000), "not counted, so never refused");
    assertEquals(0, budget.held());
    h.end();
    assertEquals(0, budget.held(), "ending twice gives back nothing twice");
  }
}

package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The shared edge limits: a budget of body bytes and a cap on connections, both exact under contention. */
class AdmissionTest {

  @Test
  @DisplayName("the body budget takes what fits, refuses what does not, and takes nothing on a refusal")
  void budget() {
    BodyBudget b = new BodyBudget(100);
    assertTrue(b.tryReserve(60));
    assertFalse(b.tryReserve(41), "60 + 41 passes 100");
    assertEquals(60, b.held(), "a refusal takes nothing");
    assertTrue(b.tryReserve(40));
    assertEquals(100, b.held());
    b.release(60);
    b.release(40);
    assertEquals(0, b.held());
    assertTrue(b.tryReserve(0), "nothing always fits");
  }

  @Test
  @DisplayName("threads racing for the budget never take more than it holds")
  void budgetUnderContention() throws Exception {
    BodyBudget b = new BodyBudget(1000);
    AtomicInteger taken = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          if (b.tryReserve(7)) {
            taken.addAndGet(7);
            assertTrue(b.held() <= 1000);
            b.release(7);
            taken.addAndGet(-7);
          }
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(0, b.held());
    assertEquals(0, taken.get());
  }

  @Test
  @DisplayName("connection slots: at most max open, a closed one is reused")
  void slots() {
    ConnectionSlots s = new ConnectionSlots(2);
    assertTrue(s.tryOpen());
    assertTrue(s.tryOpen());
    assertFalse(s.tryOpen());
    assertEquals(2, s.open());
    s.close();
    assertTrue(s.tryOpen());
    assertEquals(2, s.open());
  }
}

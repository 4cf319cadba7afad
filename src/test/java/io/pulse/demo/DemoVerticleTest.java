package io.pulse.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.core.Clock;
import io.pulse.event.Event;
import io.pulse.verticles.DemoVerticle;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.LocalDate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo verticle, deployed on a real Vert.x with a clock the test moves. */
@ExtendWith(VertxExtension.class)
class DemoVerticleTest {

  /** Wednesday 19 November 2025, 20:00 UTC: the evening peak. */
  private static final long T0 = LocalDate.of(2025, 11, 19).toEpochDay() * 86_400_000L + 20 * 3_600_000L;

  @Test
  @DisplayName("each tick hands the sink one batch with the events of (last, now] of all streams")
  void ticksIntoSink(Vertx vertx, VertxTestContext ctx) throws Throwable {
    AtomicLong now = new AtomicLong(T0);
    Clock clock = now::get;
    AtomicInteger batches = new AtomicInteger();
    DemoVerticle demo = new DemoVerticle(events -> {
      int n = batches.incrementAndGet();
      ctx.verify(() -> {
        if (n == 1) {
          assertInRange(events, T0, T0 + 4_000);
          Set<String> streams = events.stream().map(e -> e.stream().name()).collect(Collectors.toSet());
          assertTrue(streams.containsAll(Set.of("checkout", "cart", "payments", "vitals", "latency")),
              streams::toString);
          assertTrue(events.size() > 400 && events.size() < 1_600, "events in 4 s: " + events.size());
          now.set(T0 + 5_000);
        } else if (n == 2) {
          assertInRange(events, T0 + 4_000, T0 + 5_000);
          ctx.completeNow();
        }
      });
    }, clock, 42);
    vertx.deployVerticle(demo)
        .onSuccess(id -> now.set(T0 + 4_000))
        .onFailure(ctx::failNow);
    assertTrue(ctx.awaitCompletion(5, TimeUnit.SECONDS));
    if (ctx.failed()) {
      throw ctx.causeOfFailure();
    }
  }

  private static void assertInRange(List<Event> events, long after, long upTo) {
    for (Event e : events) {
      assertTrue(e.ts() > after && e.ts() <= upTo, e::toString);
      assertEquals(e.ts(), e.arrival());
    }
  }
}

package io.pulse.verticles;

import io.pulse.core.Clock;
import io.pulse.demo.Demo;
import io.pulse.demo.DemoStream;
import io.pulse.demo.Incident;
import io.pulse.event.Event;
import io.pulse.event.EventSink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the demo streams into Pulse: every tick it asks each generator for the events of
 * {@code (last, now]} and hands them to the sink as one batch. The generators are plain Java
 * ({@link Demo}); this verticle only drives them by the clock.
 */
public final class DemoVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DemoVerticle.class);

  /** How often events are generated, ms. */
  static final long TICK_MS = 250;
  /**
   * The longest stretch generated in one tick. After a stall (a laptop waking from sleep) the
   * generator skips ahead instead of replaying hours of backlog far past any allowed lateness.
   */
  static final long MAX_CATCH_UP_MS = 5_000;

  private final EventSink sink;
  private final Clock clock;
  private final long seed;
  private List<DemoStream> streams;
  private long last;
  private long timerId = -1;

  public DemoVerticle(EventSink sink, Clock clock, long seed) {
    this.sink = sink;
    this.clock = clock;
    this.seed = seed;
  }

  @Override
  public Future<?> start() {
    streams = Demo.all(seed);
    last = clock.millis();
    timerId = vertx.setPeriodic(TICK_MS, id -> tick());
    LOG.info("Demo data on (seed {}): generating streams {}", seed,
        streams.stream().map(DemoStream::stream).collect(Collectors.joining(", ")));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    return Future.succeededFuture();
  }

  private void tick() {
    long now = clock.millis();
    if (now <= last) {
      return; // the clock stood still or stepped back: nothing new to generate
    }
    long from = last;
    if (now - from > MAX_CATCH_UP_MS) {
      LOG.warn("Demo generator fell {} ms behind; skipping to the last {} ms", now - from, MAX_CATCH_UP_MS);
      from = now - MAX_CATCH_UP_MS;
    }
    last = now;
    // Generators work on [from, to): ask for [from + 1, now + 1) to get (from, now].
    List<Event> batch = new ArrayList<>();
    for (DemoStream s : streams) {
      s.generate(from + 1, now + 1, batch::add);
      for (Incident i : s.incidents(from + 1, now + 1)) {
        if (i.start() > from) {
          LOG.info("Demo incident starts: {} on {}{} for {} s (magnitude {})", i.kind(), i.stream(),
              i.target(), i.durationMs() / 1000, String.format(Locale.ROOT, "%.3g", i.magnitude()));
        }
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      sink.accept(Collections.unmodifiableList(batch));
    } catch (RuntimeException e) {
      LOG.warn("Demo batch of {} events refused by the sink", batch.size(), e);
    }
  }
}

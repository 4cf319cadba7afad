package io.pulse.core;

/**
 * The time source of the engine. Nothing in the engine reads the wall clock directly, so
 * window edges, lateness and idle closing are exact and repeatable in tests.
 */
@FunctionalInterface
public interface Clock {

  Clock SYSTEM = System::currentTimeMillis;

  /** Epoch milliseconds. */
  long millis();
}

package io.pulse.core;

/** A clock that moves only when told to; for tests and replays. Not thread-safe by design. */
public final class ManualClock implements Clock {

  private long now;

  public ManualClock(long start) {
    this.now = start;
  }

  @Override
  public long millis() {
    return now;
  }

  public void set(long millis) {
    this.now = millis;
  }

  public void advance(long millis) {
    this.now += millis;
  }
}

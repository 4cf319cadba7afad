package io.pulse.demo;

import io.pulse.event.Dims;
import java.util.Locale;

/**
 * An injected incident of a demo stream: what goes wrong ({@code kind}), when
 * ({@code [start, end)}, epoch ms), where ({@code target}: the dims it hits; empty for the whole
 * stream) and how badly ({@code magnitude}, whose meaning depends on the kind: a rate factor,
 * a probability, a target level; see each stream).
 */
public record Incident(String stream, String kind, long start, long end, Dims target, double magnitude) {

  public long durationMs() {
    return end - start;
  }

  public boolean activeAt(long ts) {
    return ts >= start && ts < end;
  }

  public boolean overlaps(long fromMs, long toMs) {
    return start < toMs && end > fromMs;
  }

  /** True when every dim of the target is present, with the same value, in {@code dims}. */
  public boolean appliesTo(Dims dims) {
    for (int i = 0; i < target.size(); i++) {
      if (!target.value(i).equals(dims.get(target.key(i)))) {
        return false;
      }
    }
    return true;
  }

  /**
   * How much of the incident is in force at {@code ts}: 0 outside, ramping linearly up over the
   * first {@code rampFraction} of its duration, 1 in the middle, and down again over the last.
   */
  public double envelope(long ts, double rampFraction) {
    if (!activeAt(ts)) {
      return 0;
    }
    double ramp = Math.max(1.0, durationMs() * rampFraction);
    double in = (ts - start + 1) / ramp;
    double out = (end - ts) / ramp;
    return Math.min(1.0, Math.min(in, out));
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s %s %s x%.3g for %ds from %d",
        stream, kind, target, magnitude, durationMs() / 1000, start);
  }
}

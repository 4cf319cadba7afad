package io.pulse.demo;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A stream of independent events (orders, requests, sessions): each cell (one combination of
 * dims, one series) is a Poisson process whose rate the subclass gives per second, held
 * constant over a one-second slot; event times are uniform inside the slot.
 */
abstract class PoissonStream extends SlottedStream {

  private final Dims[] cells;
  private final String[] names;

  PoissonStream(String stream, long seed, double incidentChance, Dims[] cells, String... names) {
    super(stream, seed, incidentChance);
    this.cells = cells.clone();
    this.names = names.clone();
  }

  /** Expected events per second of a cell at {@code t}. */
  protected abstract double rate(int cell, long t, List<Incident> incidents);

  /** The values of one event, in the order of the names given to the constructor. */
  protected abstract double[] values(int cell, long ts, SplittableRandom rnd, List<Incident> incidents);

  protected final Dims cell(int cell) {
    return cells[cell];
  }

  protected final int cellCount() {
    return cells.length;
  }

  protected final String[] names() {
    return names;
  }

  @Override
  protected void fill(long start, long end, SplittableRandom rnd, List<Incident> incidents, List<Event> out) {
    long mid = start + (end - start) / 2;
    double seconds = (end - start) / 1000.0;
    for (int c = 0; c < cells.length; c++) {
      int n = Poisson.sample(rnd, rate(c, mid, incidents) * seconds);
      for (int i = 0; i < n; i++) {
        long ts = start + rnd.nextLong(end - start);
        out.add(event(ts, cells[c], names, values(c, ts, rnd, incidents)));
      }
    }
  }

  /** All combinations of two dims, the first varying slowest: index = i * b.length + j. */
  static Dims[] grid(String keyA, String[] a, String keyB, String[] b) {
    Dims[] r = new Dims[a.length * b.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        r[i * b.length + j] = Dims.of(keyA, a[i], keyB, b[j]);
      }
    }
    return r;
  }
}

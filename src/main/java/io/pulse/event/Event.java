package io.pulse.event;

import io.pulse.core.StreamId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One validated event. Immutable: batches of events cross the event bus by reference.
 *
 * <p>Values are kept as two parallel arrays rather than a map: the aggregation hot path walks
 * them without boxing. The stream is a {@link StreamId} (tenant and name): events of one request
 * share one instance, so routing compares it by identity first.
 */
public final class Event {

  private final StreamId stream;
  private final long ts;
  private final String id;
  private final Dims dims;
  private final String[] names;
  private final double[] values;
  private final long arrival;

  public Event(StreamId stream, long ts, String id, Dims dims, String[] names, double[] values, long arrival) {
    if (names.length != values.length) {
      throw new IllegalArgumentException("names and values differ in length");
    }
    this.stream = stream;
    this.ts = ts;
    this.id = id;
    this.dims = dims;
    this.names = names;
    this.values = values;
    this.arrival = arrival;
  }

  /** Builds an event from a value map; for generators and tests, not the ingest hot path. */
  public static Event of(StreamId stream, long ts, Dims dims, Map<String, ? extends Number> values) {
    String[] n = new String[values.size()];
    double[] v = new double[values.size()];
    int i = 0;
    for (Map.Entry<String, ? extends Number> e : values.entrySet()) {
      n[i] = e.getKey();
      v[i++] = e.getValue().doubleValue();
    }
    return new Event(stream, ts, null, dims, n, v, ts);
  }

  /** The same event under other dims (the cardinality guard folds excess series this way). */
  public Event withDims(Dims other) {
    return new Event(stream, ts, id, other, names, values, arrival);
  }

  public StreamId stream() {
    return stream;
  }

  /** Event time, epoch milliseconds. */
  public long ts() {
    return ts;
  }

  /** Client-supplied dedup id, or null. */
  public String id() {
    return id;
  }

  public Dims dims() {
    return dims;
  }

  public int valueCount() {
    return names.length;
  }

  public String name(int i) {
    return names[i];
  }

  public double value(int i) {
    return values[i];
  }

  /** When Pulse received the event, epoch milliseconds (processing time). */
  public long arrival() {
    return arrival;
  }

  /** Whether this event's value names are exactly {@code names}, the same array (parsers share it between events). */
  public boolean hasNamesArray(String[] names) {
    return this.names == names;
  }

  /** The value names array itself, for identity caching; callers must not modify it. */
  public String[] namesArray() {
    return names;
  }

  public Map<String, Double> valueMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      m.put(names[i], values[i]);
    }
    return m;
  }

  @Override
  public String toString() {
    return "Event{" + stream + " " + ts + " " + dims + " " + valueMap() + "}";
  }
}

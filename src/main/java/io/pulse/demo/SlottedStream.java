package io.pulse.demo;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The common frame of the generators: time is cut into fixed one-second slots, and each slot's
 * events come from a generator seeded by (stream seed, slot), so a slot is the same whichever
 * call produces it. Incidents are planned per twenty-minute segment, seeded the same way: each
 * segment holds at most one incident, placed wholly inside it, so incidents of one stream never
 * overlap and never straddle an hour.
 */
abstract class SlottedStream implements DemoStream {

  static final long SLOT_MS = 1_000L;
  static final long MINUTE_MS = 60_000L;
  static final long HOUR_MS = 3_600_000L;
  static final long SEGMENT_MS = 20 * MINUTE_MS;
  private static final int SEGMENTS_PER_HOUR = (int) (HOUR_MS / SEGMENT_MS);

  private static final long SALT_SLOT = 0x510751L;
  private static final long SALT_INCIDENT = 0x1C1D3L;
  private static final long SALT_WOBBLE = 0x30BB1EL;
  private static final Comparator<Event> BY_TS = Comparator.comparingLong(Event::ts);

  private final String stream;
  /** The demo streams are the default tenant's. */
  private final StreamId id;
  /** This stream's own seed, derived from the demo seed and the stream name. */
  final long key;
  private final double incidentChance;

  // One-entry caches: a live tick (250 ms) asks for the same slot and hour several times.
  private long cachedSlot = Long.MIN_VALUE;
  private List<Event> cachedEvents = List.of();
  private long cachedHour = Long.MIN_VALUE;
  private List<Incident> cachedIncidents = List.of();

  /**
   * @param incidentChance the probability that a twenty-minute segment holds an incident
   *     (three segments an hour)
   */
  SlottedStream(String stream, long seed, double incidentChance) {
    this.stream = stream;
    this.id = StreamId.of(stream);
    this.key = Noise.mix(seed, stream.hashCode());
    this.incidentChance = incidentChance;
  }

  @Override
  public final String stream() {
    return stream;
  }

  @Override
  public final void generate(long fromMs, long toMs, Consumer<Event> out) {
    if (toMs <= fromMs) {
      return;
    }
    long last = Math.floorDiv(toMs - 1, SLOT_MS);
    for (long slot = Math.floorDiv(fromMs, SLOT_MS); slot <= last; slot++) {
      for (Event e : slotEvents(slot)) {
        if (e.ts() >= fromMs && e.ts() < toMs) {
          out.accept(e);
        }
      }
    }
  }

  @Override
  public final List<Incident> incidents(long fromMs, long toMs) {
    List<Incident> found = new ArrayList<>();
    if (toMs <= fromMs) {
      return found;
    }
    long last = Math.floorDiv(toMs - 1, HOUR_MS);
    for (long hour = Math.floorDiv(fromMs, HOUR_MS); hour <= last; hour++) {
      for (Incident i : planHour(hour)) {
        if (i.overlaps(fromMs, toMs)) {
          found.add(i);
        }
      }
    }
    return found;
  }

  /**
   * Adds the events of {@code [start, end)} to {@code out}, in any order.
   *
   * @param rnd this slot's own generator
   * @param incidents the incidents of the hour holding the slot (check {@link
   *     Incident#activeAt} per event)
   */
  protected abstract void fill(long start, long end, SplittableRandom rnd, List<Incident> incidents,
      List<Event> out);

  /**
   * Plans the incident of one segment that has drawn one: pick kind, target, magnitude and
   * duration, and hand them to {@link #place}.
   */
  protected abstract Incident plan(SplittableRandom rnd, long segmentStart, long segmentEnd);

  /** Places an incident of the given duration at a random start wholly inside the segment. */
  protected final Incident place(SplittableRandom rnd, long segmentStart, long segmentEnd, String kind,
      long durationMs, Dims target, double magnitude) {
    long duration = Math.max(SLOT_MS, Math.min(durationMs, segmentEnd - segmentStart - SLOT_MS));
    long start = segmentStart + (long) (rnd.nextDouble() * (segmentEnd - segmentStart - duration));
    start -= Math.floorMod(start, SLOT_MS); // whole seconds read better in logs and charts
    return new Incident(stream, kind, start, start + duration, target, magnitude);
  }

  /**
   * The traffic level of a stream at {@code t}: the rhythm, a slow wobble of about 12 % and short
   * bursts.
   */
  protected final double load(Rhythm rhythm, long t, double burstChancePerMinute) {
    double wobble = 1 + 0.12 * Noise.smooth(key ^ SALT_WOBBLE, t, 5 * MINUTE_MS);
    return rhythm.at(t) * wobble * Noise.burst(key, t, burstChancePerMinute);
  }

  /** The chance per minute of a background burst that this stream passes to {@link #load} (0: none). */
  protected double burstChancePerMinute() {
    return 0;
  }

  @Override
  public boolean burstAt(long t) {
    double c = burstChancePerMinute();
    return c > 0 && Noise.burst(key, t, c) > 1;
  }

  /** The first incident of {@code kind} in force at {@code ts} that hits {@code dims}, or null. */
  protected static Incident active(List<Incident> incidents, String kind, long ts, Dims dims) {
    for (Incident i : incidents) {
      if (i.activeAt(ts) && i.kind().equals(kind) && i.appliesTo(dims)) {
        return i;
      }
    }
    return null;
  }

  protected final Event event(long ts, Dims dims, String[] names, double... values) {
    return new Event(id, ts, null, dims, names, values, ts);
  }

  /** Receives the runs of a periodic schedule: run number and time. */
  @FunctionalInterface
  interface Tick {
    void at(long n, long ts);
  }

  /**
   * The runs of a periodic schedule that fall in {@code [start, end)}: run {@code n} happens at
   * {@code phase + n * period}, shifted by a jitter of up to {@code jitter * period} drawn from
   * (key, n), so it is the same whichever slot asks. A jitter under 0.5 keeps runs in order.
   */
  static void ticks(long start, long end, long period, long phase, double jitter, long key, Tick tick) {
    long maxJitter = (long) (period * jitter);
    long first = Math.floorDiv(start - phase - maxJitter, period);
    long last = Math.floorDiv(end - 1 - phase + maxJitter, period);
    for (long n = first; n <= last; n++) {
      long ts = phase + n * period + (long) ((Noise.unit(Noise.mix(key, n)) * 2 - 1) * maxJitter);
      if (ts >= start && ts < end) {
        tick.at(n, ts);
      }
    }
  }

  private List<Event> slotEvents(long slot) {
    if (slot != cachedSlot) {
      long start = slot * SLOT_MS;
      List<Event> events = new ArrayList<>();
      fill(start, start + SLOT_MS, new SplittableRandom(Noise.mix(key, SALT_SLOT, slot)),
          hourIncidents(Math.floorDiv(start, HOUR_MS)), events);
      events.sort(BY_TS);
      cachedSlot = slot;
      cachedEvents = events;
    }
    return cachedEvents;
  }

  private List<Incident> hourIncidents(long hour) {
    if (hour != cachedHour) {
      cachedIncidents = planHour(hour);
      cachedHour = hour;
    }
    return cachedIncidents;
  }

  private List<Incident> planHour(long hour) {
    List<Incident> planned = new ArrayList<>(SEGMENTS_PER_HOUR);
    for (int s = 0; s < SEGMENTS_PER_HOUR; s++) {
      long segment = hour * SEGMENTS_PER_HOUR + s;
      SplittableRandom rnd = new SplittableRandom(Noise.mix(key, SALT_INCIDENT, segment));
      if (rnd.nextDouble() < incidentChance) {
        long start = segment * SEGMENT_MS;
        Incident i = plan(rnd, start, start + SEGMENT_MS);
        if (i != null) {
          planned.add(i);
        }
      }
    }
    return List.copyOf(planned);
  }
}

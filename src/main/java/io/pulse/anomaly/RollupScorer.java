package io.pulse.anomaly;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.detect.DetectorSettings;
import io.pulse.detect.SeriesDetector;
import io.pulse.detect.Verdict;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToIntBiFunction;

/**
 * Scores rollups as they leave aggregation: one {@link SeriesDetector} per watched figure of each
 * series of each view, fed the view's final rollups in window order (it learns from them) and
 * asked about running ones (it does not). A rollup gets the {@link Anomaly} of its highest-scoring
 * watched figure, or none while every detector of it still warms up.
 *
 * <p>Single-threaded: one owner (the combiner) calls it. Time is the rollups' own window starts, so
 * it is tested with no clock at all. Memory is bounded: at most {@code maxDetectors} detectors of
 * at most {@link SeriesDetector#maxStateBytes()} each; past the cap the detector updated longest
 * ago is dropped (counted in {@link #evicted()}), and a series that comes back warms up again.
 */
public final class RollupScorer {

  /** What to watch on one stream: figures ({@code count}, {@code name.figure}; null: the default) and sensitivity. */
  public record Watch(List<String> figures, double sensitivity) {

    /** The default: the event count and every value's mean, at the default sensitivity. */
    public static final Watch DEFAULT = new Watch(null, DetectorSettings.DEFAULT_SENSITIVITY);

    public Watch {
      figures = figures == null ? null : List.copyOf(figures);
    }

    /** A stream's watch from its settings ({@code streams.<name>.watch, sensitivity}; else {@code detect.sensitivity}). */
    public static Watch of(PulseConfig config, StreamId stream) {
      PulseConfig.StreamSettings st = config.stream(stream.name());
      return new Watch(st.watch(), Double.isNaN(st.sensitivity()) ? config.detect().sensitivity() : st.sensitivity());
    }

    /** The figures watched on a rollup with these value names. */
    List<String> on(String[] names) {
      if (figures != null) {
        return figures;
      }
      List<String> out = new ArrayList<>(names.length + 1);
      out.add("count");
      for (String n : names) {
        out.add(n + ".mean");
      }
      return out;
    }
  }

  /** The figures a watch may name: {@code count} or a value's {@code sum, min, max, mean, p50, p95, p99}. */
  public static final Set<String> FIGURES = Set.of("count", "sum", "min", "max", "mean", "p50", "p95", "p99");

  /** A figure's text, checked: {@code count} or {@code value.figure}; null when fine, else why not. */
  public static String checkFigure(String f) {
    if ("count".equals(f)) {
      return null;
    }
    int dot = f == null ? -1 : f.lastIndexOf('.');
    if (dot <= 0 || dot == f.length() - 1) {
      return "a watched figure is \"count\" or \"value.figure\" such as \"amount.mean\" or \"ms.p99\", not "
          + io.pulse.core.Texts.clip(String.valueOf(f));
    }
    String fig = f.substring(dot + 1);
    if (!FIGURES.contains(fig) || "count".equals(fig)) {
      return "\"" + io.pulse.core.Texts.clip(f) + "\": the figure after the dot is one of sum, min, max, mean, p50, p95, p99";
    }
    return null;
  }

  /**
   * One detector's saved state: {@code id} is a digest of its key (view, series, figure), short
   * enough for a primary key whatever the dims; the state holds the key's parts themselves.
   */
  public record Saved(StreamId stream, String id, byte[] state, int partition) {
    /** A state of no partition (a single node, or a combined view's detector in cluster mode). */
    public Saved(StreamId stream, String id, byte[] state) {
      this(stream, id, state, NO_PARTITION);
    }
  }

  /** {@link Saved#partition} of a detector no events-topic partition holds alone. */
  public static final int NO_PARTITION = -1;

  /** The stored id of a detector key: hex SHA-256, 64 characters. */
  static String id(String key) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException x) {
      throw new IllegalStateException(x);
    }
  }

  /** Windows a detector flagged lately, remembered so that "not an anomaly" can name one by its start. */
  private static final int FLAGGED_KEPT = 8;

  private static final class Entry {
    final StreamId stream;
    final Dims series;
    final String view;
    final String figure;
    final SeriesDetector detector;
    long lastStart = Long.MIN_VALUE;
    double lastScore = Double.NaN;
    /** Events in the series' final windows, a moving average: how much a window usually holds. */
    double typicalEvents = Double.NaN;
    /** The figure in the last final window, and the smallest nonzero step between two: its resolution. */
    double lastValue = Double.NaN;
    double quantum = Double.NaN;
    boolean dirty;
    long savedAt = Long.MIN_VALUE;
    /** start, value pairs of flagged windows, oldest first. */
    final long[] flaggedStart = new long[FLAGGED_KEPT];
    final double[] flaggedValue = new double[FLAGGED_KEPT];
    int flagged;

    Entry(StreamId stream, Dims series, String view, String figure, SeriesDetector detector) {
      this.stream = stream;
      this.series = series;
      this.view = view;
      this.figure = figure;
      this.detector = detector;
    }

    void flag(long start, double value) {
      if (flagged == FLAGGED_KEPT) {
        System.arraycopy(flaggedStart, 1, flaggedStart, 0, FLAGGED_KEPT - 1);
        System.arraycopy(flaggedValue, 1, flaggedValue, 0, FLAGGED_KEPT - 1);
        flagged--;
      }
      flaggedStart[flagged] = start;
      flaggedValue[flagged++] = value;
    }
  }

  private final Function<StreamId, Watch> watches;
  private final double alertLevel;
  private final int maxDetectors;
  /** Every detector by key, least recently updated first (access order). */
  private final LinkedHashMap<String, Entry> detectors = new LinkedHashMap<>(1024, 0.75f, true);
  /**
   * Cluster mode: the events-topic partition of a series. A series view's detector lives on the owner of
   * its series' partition and moves with it (saved with its partition, {@link #handOver}); a combined
   * view's (a total, a group-by) is on every instance. Null on a single node.
   */
  private ToIntBiFunction<StreamId, Dims> partitionOf;
  private final Map<StreamId, Set<String>> byStream = new HashMap<>();
  private long evicted;
  private long scored;

  /**
   * @param watches what to watch on a stream (its figures and sensitivity)
   * @param alertLevel the score at which a window counts as flagged (for "not an anomaly")
   * @param maxDetectors the cap on detectors held
   */
  public RollupScorer(Function<StreamId, Watch> watches, double alertLevel, int maxDetectors) {
    this.watches = watches;
    this.alertLevel = alertLevel;
    this.maxDetectors = maxDetectors;
  }

  /** Cluster mode: how to find a series' partition (see {@link #partitionOf}). */
  public void partitioner(ToIntBiFunction<StreamId, Dims> partitionOf) {
    this.partitionOf = partitionOf;
  }

  /** The partition a detector moves with, or {@link #NO_PARTITION}. */
  private int partition(Entry e) {
    return partitionOf == null || !e.view.endsWith(SERIES_VIEW) ? NO_PARTITION : partitionOf.applyAsInt(e.stream, e.series);
  }

  /** How a series view's spec ends ({@link io.pulse.agg.View#spec} with every dim, no filter). */
  private static final String SERIES_VIEW = "|*|";

  /**
   * Cluster mode: the series of these partitions go to another instance. Their detectors are snapshotted
   * (learnt or not: the next owner reads exactly this) and dropped here; the caller saves the snapshots.
   */
  public List<Saved> handOver(java.util.Set<Integer> partitions, long now) {
    List<Saved> out = new ArrayList<>();
    if (partitionOf == null) {
      return out;
    }
    var it = detectors.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Entry> me = it.next();
      Entry e = me.getValue();
      int p = partition(e);
      if (p != NO_PARTITION && partitions.contains(p)) {
        out.add(new Saved(e.stream, id(me.getKey()), snapshot(e), p));
        it.remove();
        forgetKey(e.stream, me.getKey());
      }
    }
    return out;
  }

  /** The key of one detector: the view (its spec names tenant and stream), the series and the figure. */
  static String key(String viewSpec, Dims series, String figure) {
    return viewSpec + '#' + series + '#' + figure;
  }

  /**
   * The rollups with their anomalies attached, in the same order. Finals teach their detectors
   * (once per window: a window at or before the last one learnt is only scored); running updates
   * are scored without learning.
   */
  public List<Rollup> score(List<Rollup> rollups) {
    List<Rollup> out = new ArrayList<>(rollups.size());
    for (Rollup r : rollups) {
      out.add(score(r));
    }
    return out;
  }

  /** One rollup with its anomaly (see {@link #score(List)}). */
  public Rollup score(Rollup r) {
    Anomaly a = judge(r.view().stream(), r.view().spec(), r.series(), r.start(), r.fin(), r.count(), r.names(),
        r.stats());
    return a == null ? r : r.withAnomaly(a);
  }

  /**
   * The anomaly of one window of one series of a view, given as its event count and its values'
   * summaries (a rollup's, or a stored window's in a preview): the highest-scoring watched figure,
   * null while every detector of it warms up. A final window teaches its detectors once, in window
   * order; any other is only scored.
   */
  public Anomaly judge(StreamId stream, String viewSpec, Dims series, long start, boolean fin, long count,
      String[] names, ValueStats.Summary[] stats) {
    Watch w = watches.apply(stream);
    if (w == null) {
      return null;
    }
    Anomaly best = null;
    for (String figure : w.on(names)) {
      double value = value(count, names, stats, figure);
      if (!Double.isFinite(value)) {
        continue; // the window has no such value
      }
      Entry e = entry(stream, viewSpec, series, figure, w.sensitivity());
      Verdict v;
      if (fin && start > e.lastStart) {
        double step = Math.abs(value - e.lastValue);
        if (step > 0 && !(step >= e.quantum)) {
          e.quantum = step; // NaN compares false: the first step sets it
        }
        e.lastValue = value;
        v = e.detector.observe(start, value);
        e.lastStart = start;
        e.dirty = true;
        e.lastScore = v.score();
        e.typicalEvents = Double.isNaN(e.typicalEvents) ? count : 0.95 * e.typicalEvents + 0.05 * count;
        scored++;
        if (v.alerts(alertLevel)) {
          e.flag(start, value);
        }
      } else {
        v = e.detector.peek(start, value);
      }
      if (v.warm() && !Double.isNaN(v.score())) {
        double score = v.score() * evidence(names, stats, figure, value, v.expected(), e.typicalEvents);
        if (Math.abs(value - v.expected()) <= RESOLUTION_STEPS * e.quantum) {
          // a step or so of the series' own resolution (an integer reading one up, a job's first error):
          // a flat or whole-number series makes any step look huge to the tests, yet it is no anomaly
          score = Math.min(score, NOISE_FLOOR);
        }
        if (best == null || score > best.score()) {
          best = new Anomaly(score, figure, value, v.expected(), v.low(), v.high(), v.deviation(), v.method());
        }
      }
    }
    return best;
  }

  /**
   * How far a window's own sampling noise can explain its deviation, as a factor on the score:
   * 1 when the window holds enough events that the deviation is not chance, down to
   * {@link #NOISE_FLOOR} when it could well be. The detector judges a figure against the series'
   * history; a window of three events can be far from that history by chance alone (a count of 5
   * where 1.5 is usual, the mean of two values), and an operator should not be woken for it.
   * Counts are judged as Poisson (Anscombe's transform), means by their standard error (the
   * window's spread over the square root of its events), percentiles only with enough events to
   * have one beyond them. Past the floor the score still shows; it just stays below an alert level.
   */
  static double evidence(Rollup r, String figure, double value, double expected) {
    return evidence(r, figure, value, expected, Double.NaN);
  }

  /** Windows of a series that usually hold at most this many events count as single-event windows. */
  static final double SINGLE_EVENT_SERIES = 1.2;

  /** {@link #evidence(Rollup, String, double, double)}, knowing how many events the series' windows usually hold. */
  static double evidence(Rollup r, String figure, double value, double expected, double typicalEvents) {
    return evidence(r.names(), r.stats(), figure, value, expected, typicalEvents);
  }

  private static double evidence(String[] names, ValueStats.Summary[] stats, String figure, double value,
      double expected, double typicalEvents) {
    if (!Double.isFinite(expected)) {
      return 1;
    }
    double z;
    if ("count".equals(figure)) {
      double lambda = Math.max(expected, 0.5);
      z = 2 * Math.abs(Math.sqrt(value + 0.375) - Math.sqrt(lambda + 0.375));
    } else {
      int dot = figure.lastIndexOf('.');
      ValueStats.Summary s = summary(names, stats, figure.substring(0, dot));
      if (s == null) {
        return 1;
      }
      String fig = figure.substring(dot + 1);
      long n = s.count();
      switch (fig) {
        case "mean" -> {
          double spread = Math.max((s.p95() - s.p50()) / 1.645, (s.max() - s.min()) / 6);
          if (n < 2 || !(spread > 0)) {
            // one event: nothing to judge its noise by. Where the series' windows usually hold one
            // event (a job run, a reading a second), its history of single events is the yardstick;
            // elsewhere one event is too little to wake anyone for
            return n < 2 && typicalEvents <= SINGLE_EVENT_SERIES ? 1 : NOISE_FLOOR;
          }
          z = Math.abs(value - expected) / (spread / Math.sqrt(n));
        }
        case "p95" -> {
          return n >= 40 ? 1 : NOISE_FLOOR;
        }
        case "p99" -> {
          return n >= 200 ? 1 : NOISE_FLOOR;
        }
        case "p50" -> {
          return n >= 5 ? 1 : NOISE_FLOOR;
        }
        default -> {
          return 1;
        }
      }
    }
    double m = Math.max(0, Math.min(1, (z - Z_CHANCE) / (Z_SURE - Z_CHANCE)));
    return NOISE_FLOOR + (1 - NOISE_FLOOR) * m;
  }

  /** Deviations within this many of a series' smallest step are its resolution, not an anomaly. */
  static final double RESOLUTION_STEPS = 1.5;

  /** The factor on a score that chance explains: below any sensible alert level. */
  static final double NOISE_FLOOR = 0.6;
  /** Standard deviations of sampling noise that chance gives easily, and that it hardly ever gives. */
  static final double Z_CHANCE = 2.5;
  static final double Z_SURE = 4.5;

  private static ValueStats.Summary summary(String[] names, ValueStats.Summary[] stats, String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return stats[i];
      }
    }
    return null;
  }

  private Entry entry(StreamId stream, String view, Dims series, String figure, double sensitivity) {
    String key = key(view, series, figure);
    Entry e = detectors.get(key);
    if (e == null) {
      e = new Entry(stream, series, view, figure, new SeriesDetector(settings(sensitivity)));
      put(key, e);
    }
    return e;
  }

  private DetectorSettings settings(double sensitivity) {
    return new DetectorSettings(sensitivity, alertLevel);
  }

  private void put(String key, Entry e) {
    detectors.put(key, e);
    byStream.computeIfAbsent(e.stream, s -> new LinkedHashSet<>()).add(key);
    while (detectors.size() > maxDetectors) {
      Iterator<Map.Entry<String, Entry>> it = detectors.entrySet().iterator();
      Map.Entry<String, Entry> eldest = it.next();
      it.remove();
      forgetKey(eldest.getValue().stream, eldest.getKey());
      evicted++;
    }
  }

  private void forgetKey(StreamId stream, String key) {
    Set<String> keys = byStream.get(stream);
    if (keys != null) {
      keys.remove(key);
      if (keys.isEmpty()) {
        byStream.remove(stream);
      }
    }
  }

  /** A figure of a rollup: {@code count} or {@code name.figure}; NaN when the window has no such value. */
  static double value(long count, String[] names, ValueStats.Summary[] stats, String figure) {
    if ("count".equals(figure)) {
      return count;
    }
    int dot = figure.lastIndexOf('.');
    return Rollup.figure(count, names, stats, figure.substring(0, dot), figure.substring(dot + 1));
  }

  /**
   * "This was not an anomaly": every detector of the stream's series {@code series} (in any view
   * whose series it is; null: every series of the stream) that flagged the window starting at
   * {@code start} learns that such a value is normal. Returns how many detectors took it.
   */
  public int markNormal(StreamId stream, Dims series, long start) {
    return markNormal(stream, series, start, start);
  }

  /**
   * {@link #markNormal(StreamId, Dims, long)} for every flagged window starting from {@code from}
   * to {@code to} (an alert's time): returns how many detectors took at least one.
   */
  public int markNormal(StreamId stream, Dims series, long from, long to) {
    int n = 0;
    for (String key : byStream.getOrDefault(stream, Set.of())) {
      Entry e = detectors.get(key);
      if (e == null || (series != null && !e.series.equals(series))) {
        continue;
      }
      boolean took = false;
      for (int i = 0; i < e.flagged; i++) {
        if (e.flaggedStart[i] >= from && e.flaggedStart[i] <= to) {
          e.detector.markNormal(e.flaggedStart[i], e.flaggedValue[i]);
          e.dirty = true;
          took = true;
        }
      }
      n += took ? 1 : 0;
    }
    return n;
  }

  /** Drops the detectors of a stream (it was deleted). */
  public void forget(StreamId stream) {
    Set<String> keys = byStream.remove(stream);
    if (keys != null) {
      detectors.keySet().removeAll(keys);
    }
  }

  /**
   * The detectors of a stream and their warm-up: {@code {"detectors": n, "warm": n, "warmUp": 128,
   * "items": [{"view", "series", "figure", "warm", "seen", "score"}]}}, at most {@code limit} items.
   */
  public JsonObject status(StreamId stream, int limit) {
    JsonArray items = new JsonArray();
    int warm = 0;
    int total = 0;
    for (String key : byStream.getOrDefault(stream, Set.of())) {
      Entry e = detectors.get(key);
      if (e == null) {
        continue;
      }
      total++;
      if (e.detector.warm()) {
        warm++;
      }
      if (items.size() < limit) {
        JsonObject series = new JsonObject();
        for (int i = 0; i < e.series.size(); i++) {
          series.put(e.series.key(i), e.series.value(i));
        }
        items.add(new JsonObject().put("view", viewText(e.view)).put("series", series).put("figure", e.figure)
            .put("warm", e.detector.warm()).put("seen", e.detector.seen())
            .put("score", Double.isFinite(e.lastScore) ? Math.round(e.lastScore * 10_000d) / 10_000d : null));
      }
    }
    return new JsonObject().put("stream", stream.name()).put("detectors", total).put("warm", warm)
        .put("warmUp", SeriesDetector.WARM_UP).put("maxStateBytes", SeriesDetector.maxStateBytes())
        .put("items", items).put("truncated", total > items.size());
  }

  /** A view's spec without its tenant and stream: {@code *||} for the series view, {@code region||} for a group-by. */
  private static String viewText(String spec) {
    return spec.substring(spec.indexOf('|') + 1);
  }

  /**
   * Up to {@code max} detectors that learnt something since they were last saved and were not saved
   * within {@code everyMs} of {@code now} (0: all of them), snapshotted, and marked saved.
   */
  public List<Saved> dirty(long now, long everyMs, int max) {
    List<Saved> out = new ArrayList<>();
    for (Map.Entry<String, Entry> me : detectors.entrySet()) {
      if (out.size() >= max) {
        break;
      }
      Entry e = me.getValue();
      if (!e.dirty || (everyMs > 0 && e.savedAt != Long.MIN_VALUE && now - e.savedAt < everyMs)) {
        continue;
      }
      out.add(new Saved(e.stream, id(me.getKey()), snapshot(e), partition(e)));
      e.dirty = false;
      e.savedAt = now;
    }
    return out;
  }

  /**
   * Saves that failed: those detectors count as changed again, so the next pass saves them (their
   * state then, which holds what they learnt since).
   */
  public void unsaved(List<Saved> failed) {
    Map<StreamId, Set<String>> ids = new HashMap<>();
    for (Saved s : failed) {
      ids.computeIfAbsent(s.stream(), k -> new java.util.HashSet<>()).add(s.id());
    }
    ids.forEach((stream, wanted) -> {
      for (String key : byStream.getOrDefault(stream, Set.of())) {
        Entry e = detectors.get(key);
        if (e != null && wanted.contains(id(key))) {
          e.dirty = true;
          e.savedAt = Long.MIN_VALUE;
        }
      }
    });
  }

  /** Takes back saved detectors (at start, before any rollup), up to the cap; the unreadable ones are skipped. */
  public int restore(List<Saved> saved) {
    int n = 0;
    for (Saved s : saved) {
      Entry e = read(s);
      if (e != null) {
        put(key(e.view, e.series, e.figure), e);
        n++;
      }
    }
    return n;
  }

  private static byte[] snapshot(Entry e) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(1); // format
      out.writeUTF(e.view);
      out.writeByte(e.series.size());
      for (int i = 0; i < e.series.size(); i++) {
        out.writeUTF(e.series.key(i));
        out.writeUTF(e.series.value(i));
      }
      out.writeUTF(e.figure);
      out.writeLong(e.lastStart);
      out.writeDouble(e.detector.settings().sensitivity());
      out.writeByte(e.flagged);
      for (int i = 0; i < e.flagged; i++) {
        out.writeLong(e.flaggedStart[i]);
        out.writeDouble(e.flaggedValue[i]);
      }
      e.detector.writeTo(out);
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
    return bytes.toByteArray();
  }

  private Entry read(Saved s) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(s.state()))) {
      if (in.readByte() != 1) {
        return null;
      }
      String view = in.readUTF();
      int dims = in.readByte();
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < dims; i++) {
        m.put(in.readUTF(), in.readUTF());
      }
      String figure = in.readUTF();
      long lastStart = in.readLong();
      double sensitivity = in.readDouble();
      int flagged = in.readByte();
      long[] starts = new long[flagged];
      double[] values = new double[flagged];
      for (int i = 0; i < flagged; i++) {
        starts[i] = in.readLong();
        values[i] = in.readDouble();
      }
      SeriesDetector d = SeriesDetector.readFrom(in, settings(sensitivity));
      Entry e = new Entry(s.stream(), m.isEmpty() ? Dims.EMPTY : Dims.of(m), view, figure, d);
      e.lastStart = lastStart;
      for (int i = 0; i < flagged && i < FLAGGED_KEPT; i++) {
        e.flag(starts[i], values[i]);
      }
      return e;
    } catch (IOException | RuntimeException x) {
      return null; // a state this version cannot read: that series warms up again
    }
  }

  public int size() {
    return detectors.size();
  }

  public long evicted() {
    return evicted;
  }

  /** Final windows scored (and learnt) so far. */
  public long scored() {
    return scored;
  }
}

package io.pulse.score;

import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How one stream's events become the features of its event model: each feature is a
 * <em>closeness to normal</em> in [{@link #FAR}, {@link #K}], high for what the training sample
 * usually holds and low for what it rarely or never holds. The one-class SVM Pulse trains is
 * linear and separates the data from the origin (RECIPES.md section 6), so raw values would let
 * only one side of normal score; closeness makes a spike and a dip both fall towards the origin.
 *
 * <ul>
 *   <li><b>A value</b> (a name under {@code values}): {@code K - z²/2} with {@code z = |x - median| / scale}
 *       ({@link #closeness}), with the
 *       scale robust ({@code 1.4826 * MAD}, else the 10–90 % quantile spread, else a floor), on
 *       a log scale when the sample's values are all positive and spread over more than a factor
 *       of 4 between their 10th and 90th percentiles (amounts, latencies), so a normal large
 *       payment is not far. When one dim (of at most {@link #MAX_GROUPS} values) explains the
 *       value, its groups with {@link #MIN_GROUP} events or more have their own median and scale
 *       (a bank transfer's amount is judged against bank transfers). A value of at most
 *       {@link #MAX_LEVELS} whole numbers (a 0/1 flag, an item count) is discrete and scores by
 *       frequency, as a dim does. A missing value is as close as missing was common in the sample.</li>
 *   <li><b>A dim</b> (a key under {@code dims}): from the value's frequency in the sample,
 *       compared with the frequency of a typical value (one over the perplexity): as many
 *       "standard deviations" as a normal density that much lower would be,
 *       {@code z = sqrt(2 ln(typical / f))}, times {@link #DIM_SPREAD}, then {@code K - z²/2}. A value never seen (or in the
 *       long tail past {@link #MAX_DIM_VALUES}) gets half an observation, so it is far on a dim
 *       with few values (a card country, a region) and near on one with many (a user id). A
 *       missing dim counts as one more value.</li>
 * </ul>
 * Features are chosen by how often the sample has them, values before dims on a tie, at most
 * {@code maxFeatures}; dims whose values are mostly unique (ids) are left out. Immutable.
 */
public final class FeatureSpace {

  /** Closeness of the centre of normal. */
  public static final double K = 5;
  /** Whole-number values with at most this many distinct values are discrete (flags, counts). */
  static final int MAX_LEVELS = 16;
  /** A dim with at most this many values may group a continuous value (its centre and scale per group). */
  static final int MAX_GROUPS = 200;
  /** Events a group needs for a centre and scale of its own. */
  static final int MIN_GROUP = 30;
  /** Closeness never goes below this (about 6.3 deviations out): bounds one feature's pull. */
  public static final double FAR = -3 * K;
  /** Distinct values kept per dim; the rest share the long tail's frequency. */
  public static final int MAX_DIM_VALUES = 1000;
  /** Scales a dim's equivalent deviation: a never-seen value on a small dim lands near {@link #FAR}. */
  static final double DIM_SPREAD = 1.5;

  /**
   * One value's transform. Discrete values (at most {@link #MAX_LEVELS} whole numbers in the
   * sample: flags, counts) score by frequency like a dim ({@code levels}, sorted, with their
   * closeness; {@code unknownLevel} for any other). Continuous ones by distance from a centre in
   * robust scales, the centre and scale of the event's group of {@code byDim} when that dim
   * explains the value (per-method amounts), else the stream's.
   */
  record ValueFeature(String name, boolean log, double centre, double scale, double missing, double[] levels,
      double[] levelCloseness, double unknownLevel, String byDim, Map<String, double[]> byGroup) {

    boolean discrete() {
      return levels != null;
    }
  }

  /** One dim's transform: closeness by value, for unknown values, and for a missing dim. */
  record DimFeature(String key, Map<String, Double> closeness, double unknown, double missing) {
  }

  private final ValueFeature[] values;
  private final DimFeature[] dims;
  private final String[] names;

  FeatureSpace(ValueFeature[] values, DimFeature[] dims) {
    this.values = values;
    this.dims = dims;
    this.names = new String[values.length + dims.length];
    for (int i = 0; i < values.length; i++) {
      names[i] = "value:" + values[i].name();
    }
    for (int i = 0; i < dims.length; i++) {
      names[values.length + i] = "dim:" + dims[i].key();
    }
  }

  /** Learns the transform from a sample of a stream's events. */
  public static FeatureSpace learn(List<Event> sample, int maxFeatures) {
    int n = sample.size();
    if (n == 0) {
      throw new IllegalArgumentException("no events to learn features from");
    }
    Map<String, Integer> valueCount = new HashMap<>();
    Map<String, Map<String, Integer>> dimCounts = new HashMap<>();
    for (Event e : sample) {
      for (int i = 0; i < e.valueCount(); i++) {
        String name = e.name(i);
        valueCount.merge(name, 1, Integer::sum);
      }
      Dims d = e.dims();
      for (int i = 0; i < d.size(); i++) {
        dimCounts.computeIfAbsent(d.key(i), k -> new HashMap<>()).merge(d.value(i), 1, Integer::sum);
      }
    }
    record Candidate(String name, boolean value, int present) {
    }
    List<Candidate> candidates = new ArrayList<>();
    valueCount.forEach((name, c) -> candidates.add(new Candidate(name, true, c)));
    dimCounts.forEach((key, counts) -> {
      int present = counts.values().stream().mapToInt(Integer::intValue).sum();
      if (counts.size() <= Math.max(2, present / 2)) { // mostly unique values (ids): nothing to learn
        candidates.add(new Candidate(key, false, present));
      }
    });
    candidates.sort(Comparator.comparingInt(Candidate::present).reversed()
        .thenComparing(c -> !c.value()).thenComparing(Candidate::name));
    List<ValueFeature> vs = new ArrayList<>();
    List<DimFeature> ds = new ArrayList<>();
    List<String> groupDims = new ArrayList<>();
    dimCounts.forEach((key, counts) -> {
      if (counts.size() >= 2 && counts.size() <= MAX_GROUPS) {
        groupDims.add(key);
      }
    });
    groupDims.sort(null);
    for (Candidate c : candidates.subList(0, Math.min(maxFeatures, candidates.size()))) {
      if (c.value()) {
        vs.add(valueFeature(c.name(), sample, groupDims, n));
      } else {
        ds.add(dimFeature(c.name(), dimCounts.get(c.name()), n));
      }
    }
    return new FeatureSpace(vs.toArray(new ValueFeature[0]), ds.toArray(new DimFeature[0]));
  }

  private static ValueFeature valueFeature(String name, List<Event> sample, List<String> groupDims, int n) {
    double[] xs = new double[n];
    Dims[] dims = new Dims[n];
    int m = 0;
    for (Event e : sample) {
      for (int i = 0; i < e.valueCount(); i++) {
        if (e.name(i).equals(name)) {
          xs[m] = e.value(i);
          dims[m++] = e.dims();
          break;
        }
      }
    }
    xs = Arrays.copyOf(xs, m);
    dims = Arrays.copyOf(dims, m);
    double missing = frequencyCloseness(n - m, n, typicalPresence(m, n), n);
    double[] sorted = xs.clone();
    Arrays.sort(sorted);
    ValueFeature discrete = discrete(name, sorted, missing);
    if (discrete != null) {
      return discrete;
    }
    boolean log = sorted[0] > 0 && quantile(sorted, 0.9) > 4 * quantile(sorted, 0.1);
    if (log) {
      for (int i = 0; i < m; i++) {
        xs[i] = FastLog.ln(xs[i]);
      }
    }
    double[] overall = centreScale(xs.clone());
    // the dim whose groups hold the value tightest, if it makes the typical scale a quarter smaller
    String best = null;
    Map<String, double[]> bestGroups = null;
    double bestScale = overall[1] * 0.75;
    for (String key : groupDims) {
      Map<String, List<Double>> byValue = new HashMap<>();
      for (int i = 0; i < m; i++) {
        String g = dims[i].get(key);
        if (g != null) {
          byValue.computeIfAbsent(g, k -> new ArrayList<>()).add(xs[i]);
        }
      }
      Map<String, double[]> groups = new HashMap<>();
      double weighted = 0;
      int covered = 0;
      for (Map.Entry<String, List<Double>> g : byValue.entrySet()) {
        if (g.getValue().size() >= MIN_GROUP) {
          double[] cs = centreScale(g.getValue().stream().mapToDouble(Double::doubleValue).toArray());
          groups.put(g.getKey(), cs);
          weighted += cs[1] * g.getValue().size();
          covered += g.getValue().size();
        }
      }
      if (covered >= m / 2) {
        double typicalScale = (weighted + overall[1] * (m - covered)) / m;
        if (typicalScale < bestScale) {
          bestScale = typicalScale;
          best = key;
          bestGroups = groups;
        }
      }
    }
    return new ValueFeature(name, log, overall[0], overall[1], missing, null, null, 0, best,
        best == null ? null : Map.copyOf(bestGroups));
  }

  /** A value of at most {@link #MAX_LEVELS} whole numbers: its levels and their closeness by frequency; else null. */
  private static ValueFeature discrete(String name, double[] sorted, double missing) {
    List<Double> levels = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (double x : sorted) {
      if (x != Math.rint(x) || Double.isInfinite(x)) {
        return null;
      }
      if (levels.isEmpty() || levels.get(levels.size() - 1) != x) {
        if (levels.size() == MAX_LEVELS) {
          return null;
        }
        levels.add(x);
        counts.add(0);
      }
      counts.set(counts.size() - 1, counts.get(counts.size() - 1) + 1);
    }
    int m = sorted.length;
    int[] c = counts.stream().mapToInt(Integer::intValue).toArray();
    double typical = typical(c, m);
    double[] lv = new double[c.length];
    double[] cl = new double[c.length];
    for (int i = 0; i < c.length; i++) {
      lv[i] = levels.get(i);
      cl[i] = frequencyCloseness(c[i], m, typical, m);
    }
    return new ValueFeature(name, false, 0, 1, missing, lv, cl, frequencyCloseness(0, m, typical, m), null, null);
  }

  /** Robust centre and scale of some values (sorts them): median and 1.4826 MAD, with fallbacks for flat ones. */
  private static double[] centreScale(double[] xs) {
    Arrays.sort(xs);
    double centre = quantile(xs, 0.5);
    double[] dev = new double[xs.length];
    for (int i = 0; i < xs.length; i++) {
      dev[i] = Math.abs(xs[i] - centre);
    }
    Arrays.sort(dev);
    double scale = 1.4826 * quantile(dev, 0.5);
    if (!(scale > 0)) {
      scale = (quantile(xs, 0.9) - quantile(xs, 0.1)) / 2.563;
    }
    double floor = Math.max(1e-9, Math.abs(centre) * 1e-3); // a constant value: any change is far
    if (!(scale > floor)) {
      scale = floor;
    }
    return new double[] {centre, scale};
  }

  /** The typical frequency of a present/missing split: one over its perplexity. */
  private static double typicalPresence(int present, int n) {
    return typical(new int[] {present, n - present}, n);
  }

  private static DimFeature dimFeature(String key, Map<String, Integer> counts, int n) {
    int present = counts.values().stream().mapToInt(Integer::intValue).sum();
    int[] all = new int[counts.size() + 1];
    int i = 0;
    for (int c : counts.values()) {
      all[i++] = c;
    }
    all[i] = n - present; // a missing dim is one more value
    double typical = typical(all, n);
    List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    Map<String, Double> closeness = new HashMap<>();
    long tailCount = 0;
    int tailValues = 0;
    for (int j = 0; j < sorted.size(); j++) {
      Map.Entry<String, Integer> e = sorted.get(j);
      if (j < MAX_DIM_VALUES) {
        closeness.put(e.getKey(), frequencyCloseness(e.getValue(), n, typical, n));
      } else {
        tailCount += e.getValue();
        tailValues++;
      }
    }
    // an unknown value: half an observation, or a value of the long tail when there is one
    double unknownCount = tailValues > 0 ? Math.max(0.5, (double) tailCount / tailValues) : 0.5;
    return new DimFeature(key, Map.copyOf(closeness), frequencyCloseness(unknownCount, n, typical, n),
        frequencyCloseness(n - present, n, typical, n));
  }

  /**
   * Closeness at {@code z} robust standard deviations from the centre: {@code K - z²/2}, the log
   * of a normal density relative to its peak, down to {@link #FAR}. Quadratic, so one value far out
   * outweighs several a little off (a plain distance would let a 4σ spike hide in the sum), and
   * normal events, within a deviation or two, lose little.
   */
  static double closeness(double z) {
    double c = K - z * z / 2;
    return c >= FAR ? c : FAR; // also NaN-safe
  }

  /** exp(-entropy): the frequency of a typical draw. */
  private static double typical(int[] counts, int n) {
    double h = 0;
    for (int c : counts) {
      if (c > 0) {
        double p = (double) c / n;
        h -= p * Math.log(p);
      }
    }
    return Math.exp(-h);
  }

  /** Closeness of something seen {@code count} times in {@code n} (half an observation when never). */
  private static double frequencyCloseness(double count, int n, double typical, int total) {
    double f = Math.max(count, 0.5) / total;
    if (f >= typical) {
      return K;
    }
    return closeness(Math.sqrt(2 * Math.log(typical / f)) * DIM_SPREAD);
  }

  private static double quantile(double[] sorted, double q) {
    if (sorted.length == 1) {
      return sorted[0];
    }
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  /** Number of features. */
  public int size() {
    return names.length;
  }

  /** Feature names, {@code value:<name>} then {@code dim:<key>}, in the order of {@link #transform}. */
  public List<String> names() {
    return List.of(names);
  }

  int valueFeatures() {
    return values.length;
  }

  String valueName(int i) {
    return values[i].name();
  }

  /** Centre and scale of value feature i for events with these dims: {centre, scale} (shards cache it per series). */
  double[] centreScale(int i, Dims d) {
    ValueFeature f = values[i];
    if (f.byDim() != null) {
      String g = d.get(f.byDim());
      double[] cs = g == null ? null : f.byGroup().get(g);
      if (cs != null) {
        return cs;
      }
    }
    return new double[] {f.centre(), f.scale()};
  }

  /** The closeness of value feature i for {@code x}, with the centre and scale of the event's group. */
  double valueCloseness(int i, double x, double centre, double scale) {
    ValueFeature f = values[i];
    if (f.discrete()) {
      int k = Arrays.binarySearch(f.levels(), x);
      return k >= 0 ? f.levelCloseness()[k] : f.unknownLevel();
    }
    double v = x;
    if (f.log()) {
      if (!(x > 0)) {
        return FAR; // zero or negative where the sample was all positive
      }
      v = FastLog.ln(x);
    }
    return closeness((v - centre) / scale);
  }

  /** {@link #valueCloseness(int, double, double, double)} with the group looked up: not the hot path. */
  double valueCloseness(int i, double x, Dims d) {
    double[] cs = centreScale(i, d);
    return valueCloseness(i, x, cs[0], cs[1]);
  }

  double missingValue(int i) {
    return values[i].missing();
  }

  int dimFeatures() {
    return dims.length;
  }

  /** The closeness of a dim feature for the event's dims. */
  double dimCloseness(int i, Dims d) {
    DimFeature f = dims[i];
    String v = d.get(f.key());
    if (v == null) {
      return f.missing();
    }
    Double c = f.closeness().get(v);
    return c != null ? c : f.unknown();
  }

  /** The features of one event into {@code out} (length {@link #size}); for training, not the hot path. */
  public void transform(Event e, double[] out) {
    for (int i = 0; i < values.length; i++) {
      out[i] = missingValue(i);
      for (int j = 0; j < e.valueCount(); j++) {
        if (e.name(j).equals(values[i].name())) {
          out[i] = valueCloseness(i, e.value(j), e.dims());
          break;
        }
      }
    }
    for (int i = 0; i < dims.length; i++) {
      out[values.length + i] = dimCloseness(i, e.dims());
    }
  }

  /** What the API shows of the features: name, kind and transform (not every dim value). */
  public JsonArray describe() {
    JsonArray a = new JsonArray();
    for (ValueFeature f : values) {
      JsonObject j = new JsonObject().put("name", "value:" + f.name()).put("missing", f.missing());
      if (f.discrete()) {
        JsonArray levels = new JsonArray();
        for (double l : f.levels()) {
          levels.add(l);
        }
        j.put("kind", "discrete value").put("levels", levels);
      } else {
        j.put("kind", "value").put("log", f.log()).put("centre", f.log() ? Math.exp(f.centre()) : f.centre())
            .put("scale", f.scale());
        if (f.byDim() != null) {
          j.put("groupedBy", f.byDim()).put("groups", f.byGroup().size());
        }
      }
      a.add(j);
    }
    for (DimFeature f : dims) {
      a.add(new JsonObject().put("name", "dim:" + f.key()).put("kind", "dim").put("values", f.closeness().size())
          .put("unknown", f.unknown()).put("missing", f.missing()));
    }
    return a;
  }
}

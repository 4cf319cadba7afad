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
 *   <li><b>A value</b> (a name under {@code values}): {@code K - |x - median| / scale}, with the
 *       scale robust ({@code 1.4826 * MAD}, else the 10–90 % quantile spread, else a floor), on
 *       a log scale when the sample's values are all positive and spread over more than a factor
 *       of 4 between their 10th and 90th percentiles (amounts, latencies), so a normal large
 *       payment is not far. A missing value is as close as missing was common in the sample.</li>
 *   <li><b>A dim</b> (a key under {@code dims}): from the value's frequency in the sample,
 *       compared with the frequency of a typical value (one over the perplexity): as many
 *       "standard deviations" as a normal density that much lower would be,
 *       {@code sqrt(2 ln(typical / f))}, times {@link #DIM_SPREAD}. A value never seen (or in the
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
  /** Closeness never goes below this (a deviation of 4K scales): bounds one feature's pull. */
  public static final double FAR = -3 * K;
  /** Distinct values kept per dim; the rest share the long tail's frequency. */
  public static final int MAX_DIM_VALUES = 1000;
  /** Scales a dim's equivalent deviation: a never-seen value on a small dim lands near {@link #FAR}. */
  static final double DIM_SPREAD = 3;

  /** One value's transform. */
  record ValueFeature(String name, boolean log, double centre, double scale, double missing) {
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
    Map<String, double[]> valueBuf = new HashMap<>();
    Map<String, Integer> valueCount = new HashMap<>();
    Map<String, Map<String, Integer>> dimCounts = new HashMap<>();
    for (Event e : sample) {
      for (int i = 0; i < e.valueCount(); i++) {
        String name = e.name(i);
        int c = valueCount.merge(name, 1, Integer::sum);
        double[] buf = valueBuf.computeIfAbsent(name, k -> new double[Math.min(n, 64)]);
        if (c > buf.length) {
          buf = Arrays.copyOf(buf, Math.min(n, buf.length * 2));
          valueBuf.put(name, buf);
        }
        buf[c - 1] = e.value(i);
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
    for (Candidate c : candidates.subList(0, Math.min(maxFeatures, candidates.size()))) {
      if (c.value()) {
        vs.add(valueFeature(c.name(), Arrays.copyOf(valueBuf.get(c.name()), c.present()), n));
      } else {
        ds.add(dimFeature(c.name(), dimCounts.get(c.name()), n));
      }
    }
    return new FeatureSpace(vs.toArray(new ValueFeature[0]), ds.toArray(new DimFeature[0]));
  }

  private static ValueFeature valueFeature(String name, double[] xs, int n) {
    Arrays.sort(xs);
    boolean log = xs[0] > 0 && quantile(xs, 0.9) > 4 * quantile(xs, 0.1);
    if (log) {
      for (int i = 0; i < xs.length; i++) {
        xs[i] = FastLog.ln(xs[i]);
      }
    }
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
    double missing = frequencyCloseness(n - xs.length, n, typicalPresence(xs.length, n), n);
    return new ValueFeature(name, log, centre, scale, missing);
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
    double z = Math.sqrt(2 * Math.log(typical / f)) * DIM_SPREAD;
    return Math.max(FAR, K - z);
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

  /** The closeness of a value feature for {@code x}. */
  double valueCloseness(int i, double x) {
    ValueFeature f = values[i];
    double v = x;
    if (f.log()) {
      if (!(x > 0)) {
        return FAR; // zero or negative where the sample was all positive
      }
      v = FastLog.ln(x);
    }
    double c = K - Math.abs(v - f.centre()) / f.scale();
    return c >= FAR ? c : FAR; // also NaN-safe
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
          out[i] = valueCloseness(i, e.value(j));
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
      a.add(new JsonObject().put("name", "value:" + f.name()).put("kind", "value").put("log", f.log())
          .put("centre", f.log() ? Math.exp(f.centre()) : f.centre()).put("scale", f.scale())
          .put("missing", f.missing()));
    }
    for (DimFeature f : dims) {
      a.add(new JsonObject().put("name", "dim:" + f.key()).put("kind", "dim").put("values", f.closeness().size())
          .put("unknown", f.unknown()).put("missing", f.missing()));
    }
    return a;
  }
}

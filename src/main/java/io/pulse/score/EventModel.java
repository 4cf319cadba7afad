package io.pulse.score;

import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One trained model of what a normal event of a stream looks like: the {@link FeatureSpace} and
 * the linear decision function that Tribuo's LibLinear one-class SVM learnt over it, taken out of
 * the Tribuo model as plain weights ({@link ModelTrainer}), so scoring an event is a dot product
 * with no allocation. Immutable: it crosses the event bus to every shard by reference.
 *
 * <p>The decision value is {@code constant + sum(weight[i] * closeness[i])}: positive inside
 * normal, negative outside (Tribuo's own {@code predict} score, to rounding). An event is an
 * <em>outlier</em> when its decision is below {@link #threshold()}; its <em>score</em> in [0, 1]
 * is a logistic of the distance to the threshold, 0.5 at the threshold and 0.01 at the training
 * sample's median decision, so a higher score means further out.
 *
 * @param version counts up per stream from 1 with every training
 * @param trainedAt clock time the training finished
 * @param trainingSize events in the training sample
 * @param trainingMs how long the training took (wall time of the worker)
 * @param nu the one-class SVM's nu: an upper bound on the fraction of training events left outside
 * @param trainedOn the name of the thread that trained it (a worker, never an event loop)
 */
public record EventModel(StreamId stream, int version, long trainedAt, int trainingSize, long trainingMs, double nu,
    double threshold, FeatureSpace features, double[] weights, double constant, double scoreScale,
    double trainingOutsideFraction, String trainedOn) {

  /** The decision value of an event: below {@link #threshold()} is an outlier. No allocation. */
  public double decision(Event e) {
    double d = constant;
    FeatureSpace f = features;
    int nv = f.valueFeatures();
    for (int i = 0; i < nv; i++) {
      String name = f.valueName(i);
      double c = f.missingValue(i);
      for (int j = 0, m = e.valueCount(); j < m; j++) {
        String en = e.name(j);
        if (en == name || en.equals(name)) {
          c = f.valueCloseness(i, e.value(j), e.dims());
          break;
        }
      }
      d += weights[i] * c;
    }
    for (int i = nv, n = weights.length; i < n; i++) {
      d += weights[i] * f.dimCloseness(i - nv, e.dims());
    }
    return d;
  }

  /**
   * What an event's series fixes of the decision: the dims' share, and each value feature's centre
   * and scale for those dims. Shards cache it per series dims; with {@link #valuesPart} and
   * {@link #constant} it makes {@link #decision(Event)}.
   */
  public record SeriesPart(double dims, double[] centre, double[] scale) {
  }

  SeriesPart seriesPart(io.pulse.event.Dims d) {
    FeatureSpace f = features;
    int nv = f.valueFeatures();
    double dp = 0;
    for (int i = nv, n = weights.length; i < n; i++) {
      dp += weights[i] * f.dimCloseness(i - nv, d);
    }
    double[] centre = new double[nv];
    double[] scale = new double[nv];
    for (int i = 0; i < nv; i++) {
      double[] cs = f.centreScale(i, d);
      centre[i] = cs[0];
      scale[i] = cs[1];
    }
    return new SeriesPart(dp, centre, scale);
  }

  /** The values' share of the decision ({@code idx[i]}: the event's index of value feature i, or -1). No allocation. */
  double valuesPart(Event e, int[] idx, SeriesPart p) {
    double d = 0;
    FeatureSpace f = features;
    for (int i = 0; i < idx.length; i++) {
      int j = idx[i];
      d += weights[i] * (j >= 0 ? f.valueCloseness(i, e.value(j), p.centre[i], p.scale[i]) : f.missingValue(i));
    }
    return d;
  }

  public boolean outlier(double decision) {
    return decision < threshold;
  }

  /** The score in [0, 1] of a decision value: 0.5 at the threshold, higher further out. */
  public double score(double decision) {
    double s = 1 / (1 + Math.exp((decision - threshold) / scoreScale));
    return Double.isNaN(s) ? 1 : s;
  }

  /**
   * The features that pulled this event's decision down most, compared with the centre of normal
   * (closeness {@link FeatureSpace#K}): for an outlier's explanation; allocates, so outliers only.
   */
  public JsonArray reasons(Event e, int max) {
    double[] x = new double[weights.length];
    features.transform(e, x);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      order.add(i);
    }
    order.sort((a, b) -> Double.compare(weights[a] * (x[a] - FeatureSpace.K), weights[b] * (x[b] - FeatureSpace.K)));
    JsonArray out = new JsonArray();
    List<String> names = features.names();
    for (int k = 0; k < Math.min(max, order.size()); k++) {
      int i = order.get(k);
      double pull = weights[i] * (x[i] - FeatureSpace.K);
      if (pull >= 0) {
        break;
      }
      out.add(new JsonObject().put("feature", names.get(i)).put("closeness", round(x[i])).put("pull", round(pull)));
    }
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** What {@code GET /api/v1/streams/{stream}/model} shows. */
  public JsonObject describe() {
    JsonArray w = new JsonArray();
    for (double x : weights) {
      w.add(x);
    }
    return new JsonObject().put("stream", stream.name()).put("version", version).put("trainedAt", trainedAt)
        .put("trainingSize", trainingSize).put("trainingMs", trainingMs).put("nu", nu).put("threshold", threshold)
        .put("features", features.names()).put("featureDetails", features.describe()).put("weights", w)
        .put("constant", constant).put("trainingOutsideFraction", trainingOutsideFraction)
        .put("trainedOn", trainedOn);
  }

  @Override
  public String toString() {
    return "EventModel{" + stream + " v" + version + ", " + trainingSize + " events, " + features.names() + "}";
  }
}

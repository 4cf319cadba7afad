package io.pulse.score;

import io.pulse.core.Clock;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import java.util.Arrays;
import java.util.List;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.anomaly.AnomalyFactory;
import org.tribuo.anomaly.liblinear.LibLinearAnomalyModel;
import org.tribuo.anomaly.liblinear.LibLinearAnomalyTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * Trains a stream's {@link EventModel}: learns the {@link FeatureSpace} from the sample, turns every
 * event into its closeness features, trains Tribuo's {@link LibLinearAnomalyTrainer} (LibLinear's
 * one-class SVM) on them, and takes the linear decision function out of the trained model: one
 * weight per feature from the inner LibLinear model's coefficients (Tribuo's feature ids, 1-based
 * there), plus the weight of the bias node Tribuo always appends, minus rho. Scoring then needs
 * neither Tribuo nor an {@code Example} per event, and gives Tribuo's own {@code predict} score
 * (tested on many events).
 *
 * <p>CPU-heavy (about 0.2–0.4 s for 10,000 events): call it on a worker thread, never an event loop.
 */
public final class ModelTrainer {

  /**
   * Default nu, 0.01: the one-class SVM leaves at most about this fraction of its training sample
   * outside. A payment stream's real outliers are far rarer than 1 %, so a larger nu (0.05, 0.1)
   * mostly moves normal-but-unusual events outside (false alarms); a smaller one (0.001) makes
   * LibLinear's solver slower to converge and the boundary hang on a handful of training events.
   * The false-positive rate measured on fresh normal events at 0.01 is stated in the README.
   */
  public static final double DEFAULT_NU = 0.01;
  /** Default bound on features per model. */
  public static final int DEFAULT_MAX_FEATURES = 16;

  private final double nu;
  private final int maxFeatures;
  private final Clock clock;

  public ModelTrainer(double nu, int maxFeatures, Clock clock) {
    if (!(nu > 0 && nu < 1)) {
      throw new IllegalArgumentException("nu must be in (0, 1), got " + nu);
    }
    this.nu = nu;
    this.maxFeatures = maxFeatures;
    this.clock = clock;
  }

  /** What training gives: the fast model and Tribuo's own, for checks. */
  public record Trained(EventModel model, Model<org.tribuo.anomaly.Event> tribuo) {
  }

  /** Trains version {@code version} of the stream's model on {@code sample}. */
  public EventModel train(StreamId stream, List<Event> sample, int version) {
    return trainWithTribuo(stream, sample, version).model();
  }

  /** {@link #train}, keeping Tribuo's model too (tests compare the two). */
  public Trained trainWithTribuo(StreamId stream, List<Event> sample, int version) {
    long t0 = System.nanoTime();
    FeatureSpace space = FeatureSpace.learn(sample, maxFeatures);
    String[] names = space.names().toArray(new String[0]);
    AnomalyFactory factory = new AnomalyFactory();
    MutableDataset<org.tribuo.anomaly.Event> data =
        new MutableDataset<>(new SimpleDataSourceProvenance("pulse:" + stream, factory), factory);
    double[] x = new double[names.length];
    for (Event e : sample) {
      space.transform(e, x);
      data.add(new ArrayExample<>(AnomalyFactory.EXPECTED_EVENT, names, x));
    }
    LibLinearAnomalyModel m = (LibLinearAnomalyModel) new LibLinearAnomalyTrainer(nu).train(data);
    de.bwaldvogel.liblinear.Model inner = m.getInnerModels().get(0);
    var ids = m.getFeatureIDMap();
    double[] w = new double[names.length];
    for (int i = 0; i < names.length; i++) {
      int id = ids.getID(names[i]);
      w[i] = id >= 0 ? inner.getDecfunCoef(id + 1, 0) : 0; // a feature Tribuo never saw weighs nothing
    }
    double constant = inner.getDecfunCoef(ids.size() + 1, 0) - inner.getDecfunRho(); // the bias node is 1.0
    double threshold = 0; // the SVM's own boundary
    double[] decisions = new double[sample.size()];
    int outside = 0;
    EventModel draft = new EventModel(stream, version, 0, sample.size(), 0, nu, threshold, space, w, constant, 1, 0,
        "");
    for (int i = 0; i < decisions.length; i++) {
      decisions[i] = draft.decision(sample.get(i));
      if (decisions[i] < threshold) {
        outside++;
      }
    }
    Arrays.sort(decisions);
    double median = decisions[decisions.length / 2];
    double scale = median > threshold ? (median - threshold) / Math.log(99) : 1;
    long ms = (System.nanoTime() - t0) / 1_000_000;
    EventModel model = new EventModel(stream, version, clock.millis(), sample.size(), ms, nu, threshold, space, w,
        constant, scale, (double) outside / sample.size(), Thread.currentThread().getName());
    return new Trained(model, m);
  }
}

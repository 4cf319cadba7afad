package io.pulse.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.tribuo.anomaly.AnomalyFactory;
import org.tribuo.impl.ArrayExample;

/** The event model on a payment-like stream: what it flags, what it lets through, and that the fast path is Tribuo's. */
class EventModelTest {

  static final StreamId PAYMENTS = StreamId.of("acme", "payments");
  static final String[] COUNTRIES = {"us", "us", "us", "us", "gb", "gb", "de", "de", "fr", "nl", "es", "it"};
  static final String[] REGIONS = {"eu", "us", "ap"};

  static ModelTrainer.Trained trained;
  static EventModel model;

  /** A normal payment: log-normal amount around 40, 1–5 items, a country of a skewed mix, a region. */
  static Event normal(Random r, long ts) {
    double amount = Math.exp(Math.log(40) + 0.6 * r.nextGaussian());
    return event(ts, amount, 1 + r.nextInt(5), COUNTRIES[r.nextInt(COUNTRIES.length)],
        REGIONS[r.nextInt(REGIONS.length)]);
  }

  static Event event(long ts, double amount, int items, String country, String region) {
    return Event.of(PAYMENTS, ts, Dims.of("country", country, "region", region),
        Map.of("amount", amount, "items", items));
  }

  static List<Event> sample(long seed, int n) {
    Random r = new Random(seed);
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(normal(r, 1_000_000L + i));
    }
    return out;
  }

  @BeforeAll
  static void train() {
    trained = new ModelTrainer(ModelTrainer.DEFAULT_NU, ModelTrainer.DEFAULT_MAX_FEATURES, new ManualClock(5_000))
        .trainWithTribuo(PAYMENTS, sample(1, 5000), 1);
    model = trained.model();
  }

  @Test
  @DisplayName("the fast score (weights taken out of the model) equals Tribuo's own predict score on many events")
  void fastScoreIsTribuos() {
    List<Event> events = new ArrayList<>(sample(2, 2000));
    Random r = new Random(3);
    for (int i = 0; i < 500; i++) { // outliers too: the far side of the boundary must agree as well
      events.add(event(i, 40 * Math.pow(10, r.nextGaussian() * 3), 1 + r.nextInt(50), "zz" + r.nextInt(3),
          REGIONS[r.nextInt(3)]));
    }
    events.add(Event.of(PAYMENTS, 1, Dims.EMPTY, Map.of("other", 1.0, "amount", 40.0))); // a missing value and dims
    String[] names = model.features().names().toArray(new String[0]);
    double[] x = new double[names.length];
    int agree = 0;
    for (Event e : events) {
      model.features().transform(e, x);
      var p = trained.tribuo().predict(new ArrayExample<>(AnomalyFactory.UNKNOWN_EVENT, names, x)).getOutput();
      double fast = model.decision(e);
      assertEquals(p.getScore(), fast, 1e-9 * Math.max(1, Math.abs(fast)), "decision of " + e);
      assertEquals(p.getType() == org.tribuo.anomaly.Event.EventType.ANOMALOUS, fast < 0, "type of " + e);
      agree++;
    }
    assertEquals(events.size(), agree);
  }

  @Test
  @DisplayName("the shard's split of the decision (values per event, dims once per series) is the whole decision")
  void shardSplitIsTheDecision() {
    for (Event e : sample(7, 2000)) {
      int[] idx = ShardScoring.indexes(model.features(), e);
      EventModel.SeriesPart p = model.seriesPart(e.dims());
      double split = model.constant() + model.valuesPart(e, idx, p) + p.dims();
      assertEquals(model.decision(e), split, 1e-9 * Math.max(1, Math.abs(split)));
    }
  }

  @Test
  @DisplayName("the table logarithm of the features is within 2e-7 of Math.log over the whole positive range")
  void fastLog() {
    Random r = new Random(8);
    for (int i = 0; i < 100_000; i++) {
      double x = Math.exp((r.nextDouble() - 0.5) * 1400);
      assertEquals(Math.log(x), FastLog.ln(x), 2e-7, "ln " + x);
    }
    assertEquals(0, FastLog.ln(1));
    assertEquals(Math.log(Double.MIN_VALUE), FastLog.ln(Double.MIN_VALUE)); // subnormal: Math.log
    assertTrue(Double.isNaN(FastLog.ln(-1)));
  }

  @Test
  @DisplayName("spikes and dips of a value and a never-seen country are outliers; fresh normal events mostly are not")
  void flagsSpikesDipsAndUnseen() {
    Random r = new Random(4);
    int spikes = 0;
    int dips = 0;
    int unseen = 0;
    int n = 500;
    for (int i = 0; i < n; i++) {
      Event base = normal(r, i);
      double amount = base.value(base.name(0).equals("amount") ? 0 : 1);
      String country = base.dims().get("country");
      String region = base.dims().get("region");
      spikes += model.outlier(model.decision(event(i, 40 * (30 + 30 * r.nextDouble()), 2, country, region))) ? 1 : 0;
      dips += model.outlier(model.decision(event(i, 40 / (30 + 30 * r.nextDouble()), 2, country, region))) ? 1 : 0;
      unseen += model.outlier(model.decision(event(i, amount, 2, "kp", region))) ? 1 : 0;
    }
    int fp = 0;
    int m = 20_000;
    for (Event e : sample(5, m)) {
      fp += model.outlier(model.decision(e)) ? 1 : 0;
    }
    double fpRate = (double) fp / m;
    System.out.printf("event model at nu=%.3f: features %s; spikes %d/%d, dips %d/%d, unseen country %d/%d, "
        + "false positives %d/%d = %.2f %% (training: %.2f %% outside)%n", model.nu(), model.features().names(),
        spikes, n, dips, n, unseen, n, fp, m, 100 * fpRate, 100 * model.trainingOutsideFraction());
    assertEquals(n, spikes, "spikes of 30-60x the typical amount");
    assertEquals(n, dips, "dips to a 30th-60th of the typical amount");
    assertEquals(n, unseen, "a country the sample never had");
    assertTrue(fpRate < 0.03, "false positives on fresh normal events: " + fpRate);
  }

  @Test
  @DisplayName("scores are in [0, 1]: above 0.5 exactly for outliers, low for the typical event")
  void scoreRange() {
    for (Event e : sample(6, 1000)) {
      double d = model.decision(e);
      double s = model.score(d);
      assertTrue(s >= 0 && s <= 1, "score " + s);
      assertEquals(model.outlier(d), s > 0.5, "flag and score agree");
    }
    double far = model.score(model.decision(event(1, 1e9, 2, "zz", "mars")));
    assertTrue(far > 0.99, "a far outlier scores near 1: " + far);
    assertFalse(model.reasons(event(1, 1e9, 2, "us", "eu"), 3).isEmpty());
    assertEquals("value:amount", model.reasons(event(1, 1e9, 2, "us", "eu"), 3).getJsonObject(0).getString("feature"));
  }

  @Test
  @DisplayName("the model records version, size, features, nu, threshold and when it was trained")
  void metadata() {
    assertEquals(1, model.version());
    assertEquals(5000, model.trainingSize());
    assertEquals(5_000, model.trainedAt());
    assertEquals(List.of("value:amount", "value:items", "dim:country", "dim:region"), model.features().names());
    assertEquals(ModelTrainer.DEFAULT_NU, model.nu());
    assertEquals(Thread.currentThread().getName(), model.trainedOn());
  }
}

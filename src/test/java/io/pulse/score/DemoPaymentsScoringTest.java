package io.pulse.score;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.demo.Demo;
import io.pulse.demo.DemoStream;
import io.pulse.demo.Incident;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The event model on the demo's {@code payments} stream, as the server would train it (recent
 * events, incidents and all): how many of the injected outlier amounts and card-testing payments
 * it flags, and how many ordinary payments.
 */
class DemoPaymentsScoringTest {

  private static final Map<String, Double> METHOD_AMOUNT = Map.of("card", 45.0, "paypal", 35.0, "bank", 180.0,
      "wallet", 25.0);

  @Test
  @DisplayName("demo payments: most injected outlier amounts and card tests are flagged, few ordinary payments")
  void demoPayments() {
    DemoStream payments = Demo.all(7).stream().filter(s -> s.stream().equals("payments")).findFirst().orElseThrow();
    long from = 1_795_000_000_000L;
    long to = from + 6 * 3_600_000L;
    List<Event> all = new ArrayList<>();
    payments.generate(from, to, all::add);
    List<Incident> incidents = payments.incidents(from, to);
    // train on the first two hours, whatever they hold, as the server's recent sample would
    List<Event> train = all.stream().filter(e -> e.ts() < from + 2 * 3_600_000L).toList();
    EventModel m = new ModelTrainer(ModelTrainer.DEFAULT_NU, 16, new ManualClock(from)).train(
        io.pulse.core.StreamId.of("payments"), train.size() > 10_000 ? train.subList(train.size() - 10_000,
            train.size()) : train, 1);
    int spikes = 0;
    int spikesFlagged = 0;
    int tests = 0;
    int testsFlagged = 0;
    int ordinary = 0;
    int ordinaryFlagged = 0;
    for (Event e : all) {
      if (e.ts() < from + 2 * 3_600_000L) {
        continue;
      }
      boolean flagged = m.outlier(m.decision(e));
      double amount = e.valueMap().get("amount");
      String method = e.dims().get("method");
      boolean inIncident = incidents.stream().anyMatch(i -> e.ts() >= i.start() && e.ts() < i.end());
      if (inIncident && amount >= 40 * METHOD_AMOUNT.get(method) * 0.5) {
        spikes++;
        spikesFlagged += flagged ? 1 : 0;
      } else if (inIncident && "card".equals(method) && amount < 3) {
        tests++;
        testsFlagged += flagged ? 1 : 0;
      } else if (!inIncident) {
        ordinary++;
        ordinaryFlagged += flagged ? 1 : 0;
      }
    }
    System.out.printf("demo payments (%d events, incidents %s): features %s; outlier amounts flagged %d/%d, "
        + "card tests %d/%d, ordinary payments %d/%d = %.2f %%%n", all.size(),
        incidents.stream().map(Incident::kind).toList(), m.features().names(), spikesFlagged, spikes, testsFlagged,
        tests, ordinaryFlagged, ordinary, 100.0 * ordinaryFlagged / ordinary);
    assertTrue(ordinary > 1000 && ordinaryFlagged < 0.03 * ordinary, "ordinary payments flagged");
    if (spikes > 0) {
      assertTrue(spikesFlagged >= 0.8 * spikes, "outlier amounts flagged: " + spikesFlagged + "/" + spikes);
    }
  }
}

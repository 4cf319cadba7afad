package io.pulse.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.alert.Alert;
import io.pulse.alert.Rule;
import io.pulse.alert.Transition;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonArray;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo's alert report: its matching of alerts to incidents, the ready rules, and a short real run. */
class DemoReportTest {

  private static final long FROM = java.time.Instant.parse("2026-11-23T08:00:00Z").toEpochMilli();

  private static Transition fired(String stream, Dims series, long at) {
    return new Transition("default", "a", "r", "rule", stream, series, Alert.State.FIRING, Alert.State.PENDING,
        "critical", 1, "m", at, Map.of(), false, false, true, "firing", null, null, at, at);
  }

  @Test
  @DisplayName("an alert counts for an incident on a series it touches, from its start to the grace after its end")
  void matching() {
    Incident i = new Incident("pipeline", "job_silent", 10_000, 70_000, Dims.of("job", "a"), 0);
    assertTrue(DemoReport.covers(i, fired("pipeline", Dims.of("job", "a"), 20_000)));
    assertTrue(DemoReport.covers(i, fired("pipeline", Dims.EMPTY, 20_000)), "a stream-wide alert touches it");
    assertTrue(DemoReport.covers(i, fired("pipeline", Dims.of("job", "a"), 70_000 + DemoReport.GRACE_MS)));
    assertFalse(DemoReport.covers(i, fired("pipeline", Dims.of("job", "b"), 20_000)), "another job");
    assertFalse(DemoReport.covers(i, fired("pipeline", Dims.of("job", "a"), 9_000)), "before it");
    assertFalse(DemoReport.covers(i, fired("pipeline", Dims.of("job", "a"), 70_001 + DemoReport.GRACE_MS)));
    DemoReport.Line l = DemoReport.line("pipeline", List.of(i), List.of(fired("pipeline", Dims.of("job", "a"), 25_000),
        fired("pipeline", Dims.of("job", "a"), 30_000), fired("pipeline", Dims.of("job", "b"), 30_000),
        fired("checkout", Dims.EMPTY, 30_000)));
    assertEquals(1, l.alerted());
    assertEquals(List.of(15_000L), l.delaysMs(), "the first alert counts");
    assertEquals(1, l.falseAlerts(), "job b's alert, not checkout's");
  }

  @Test
  @DisplayName("every ready rule is one the server accepts, on a demo stream")
  void readyRulesParse() {
    JsonArray rules = DemoReport.readyRules();
    assertTrue(rules.size() >= 10);
    for (int i = 0; i < rules.size(); i++) {
      Rule r = Rule.parse("default", "r" + i, rules.getJsonObject(i));
      assertTrue(Demo.STREAMS.contains(r.stream().name()), r.name());
    }
  }

  @Test
  @DisplayName("35 simulated minutes of the demo: the silent job and the card-testing burst are alerted, the table is whole")
  void shortRun() {
    DemoReport.Result r = DemoReport.run(42, FROM, 35 * 60_000L);
    DemoReport.Line pipeline = r.lines().stream().filter(l -> l.stream().equals("pipeline")).findFirst().orElseThrow();
    assertEquals(2, pipeline.incidents(), pipeline.toString());
    assertEquals(1, pipeline.byKind().get("job_silent")[1], "the silent job is alerted: " + pipeline);
    assertEquals(0, pipeline.falseAlerts(), "a job's first error or a row count one off is within the series' "
        + "resolution, not an anomaly: " + pipeline);
    DemoReport.Line payments = r.lines().stream().filter(l -> l.stream().equals("payments")).findFirst().orElseThrow();
    assertEquals(1, payments.byKind().get("card_testing")[1], "card testing is alerted: " + payments);
    for (String s : Demo.STREAMS) {
      assertTrue(r.table().contains("| " + s + " |"), s);
    }
  }
}

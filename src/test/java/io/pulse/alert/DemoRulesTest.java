package io.pulse.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.WindowAgg;
import io.pulse.demo.Demo;
import io.pulse.demo.DemoReport;
import io.pulse.demo.DemoStream;
import io.pulse.demo.Incident;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The demo's ready rules ({@code demo/rules.json}, which the demo installs) are rules Pulse can evaluate, and the threshold and absence ones catch the
 * demo's injected incidents without false alarms: 3 hours of the real generators (seed 42) rolled
 * up into 1 s windows per group and replayed through each rule ({@link Preview}).
 */
class DemoRulesTest {

  @Test
  @DisplayName("every demo rule parses, names are distinct, and absence, outliers, threshold and anomaly are covered")
  void demoRulesParse() {
    Set<String> names = new HashSet<>();
    Set<Rule.Kind> kinds = new HashSet<>();
    for (JsonObject doc : rules()) {
      Rule r = Rule.parse("default", doc.getString("id"), doc);
      assertTrue(names.add(doc.getString("name")), "duplicate name " + doc.getString("name"));
      kinds.add(r.kind());
    }
    assertEquals(Set.of(Rule.Kind.ABSENCE, Rule.Kind.OUTLIERS, Rule.Kind.THRESHOLD, Rule.Kind.ANOMALY), kinds);
  }

  private static final long FROM = 1_796_256_000_000L + 10 * 3_600_000L; // a Thursday, 10:00 UTC
  private static final long TO = FROM + 3 * 3_600_000L;
  /** How long after its incident ends an alert may still start (absence waits absentFor, rules wait for). */
  private static final long LATE_MS = 180_000;

  /** Which incident kind each rule (by name) is for; absent: it must only not fire without an incident. */
  private static final Map<String, String> COVERS = Map.of(
      "pipeline job silent", "job_silent", "pipeline job errors", "error_burst",
      "patient heart rate high", "tachycardia", "patient SpO2 low", "desaturation", "patient fever", "fever",
      "service errors", "error_burst");

  /** The ready rules, each with its name as its id. */
  private static List<JsonObject> rules() {
    List<JsonObject> out = new ArrayList<>();
    for (Object o : DemoReport.readyRules()) {
      JsonObject doc = ((JsonObject) o).copy();
      out.add(doc.put("id", doc.getString("name")));
    }
    return out;
  }

  private static boolean compatible(Dims target, JsonObject series) {
    for (int i = 0; i < target.size(); i++) {
      String v = series.getString(target.key(i));
      if (v != null && !v.equals(target.value(i))) {
        return false;
      }
    }
    return true;
  }

  @Test
  @DisplayName("3 h of the pipeline, vitals and latency demo streams: every incident a rule is for is alerted, during "
      + "it or within 3 min of its end, and no alert fires without an incident on its series")
  void demoRulesCatchTheDemoIncidents() {
    List<String> problems = new ArrayList<>();
    int caught = 0;
    for (DemoStream s : Demo.all(42)) {
      if (!List.of("pipeline", "vitals", "latency").contains(s.stream())) {
        continue;
      }
      List<Incident> incidents = s.incidents(FROM, TO);
      for (JsonObject doc : rules()) {
        Rule r = Rule.parse("default", doc.getString("id"), doc);
        if (!r.stream().name().equals(s.stream()) || r.kind() == Rule.Kind.ANOMALY || r.kind() == Rule.Kind.OUTLIERS) {
          continue;
        }
        String[] groupBy = r.groupBy().toArray(new String[0]);
        Map<Dims, TreeMap<Long, WindowAgg>> groups = new HashMap<>();
        s.generate(FROM, TO, e -> groups.computeIfAbsent(e.dims().project(groupBy), k -> new TreeMap<>())
            .computeIfAbsent(e.ts() - e.ts() % 1000, k -> new WindowAgg(k, k + 1000, 0.01, 2048)).add(e));
        List<Window> windows = new ArrayList<>();
        groups.forEach((d, m) -> m.values().forEach(w -> windows.add(Window.of(r.stream(), r.viewSpec(), d, w, null, 0))));
        List<JsonObject> alerts = new ArrayList<>();
        Preview.run(r, windows, FROM, TO).getJsonArray("alerts").forEach(a -> alerts.add((JsonObject) a));
        for (JsonObject a : alerts) {
          long at = a.getLong("firedAt");
          if (incidents.stream().noneMatch(i -> compatible(i.target(), a.getJsonObject("series")) && at >= i.start()
              && at <= i.end() + LATE_MS)) {
            problems.add(r.id() + ": an alert with no incident behind it: " + a.encode());
          }
        }
        String kind = COVERS.get(r.id());
        for (Incident i : incidents) {
          if (!i.kind().equals(kind) || i.end() + LATE_MS > TO) {
            continue;
          }
          boolean hit = alerts.stream().anyMatch(a -> compatible(i.target(), a.getJsonObject("series"))
              && a.getLong("firedAt") >= i.start() && a.getLong("firedAt") <= i.end() + LATE_MS);
          if (hit) {
            caught++;
          } else {
            problems.add(r.id() + ": missed " + i);
          }
        }
      }
    }
    assertEquals(List.of(), problems);
    assertTrue(caught >= 5, "the range holds incidents the rules are for: " + caught);
  }
}

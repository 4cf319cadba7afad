package io.pulse.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo's ready rules are rules Pulse can evaluate, with distinct ids, covering every rule kind the demo needs. */
class DemoRulesTest {

  @Test
  @DisplayName("every demo rule parses, ids are distinct, and absence, outliers, threshold and anomaly are covered")
  void demoRulesParse() {
    Set<String> ids = new HashSet<>();
    Set<Rule.Kind> kinds = new HashSet<>();
    for (JsonObject doc : DemoRules.all()) {
      Rule r = Rule.parse("default", doc.getString("id"), doc);
      assertTrue(ids.add(r.id()), "duplicate id " + r.id());
      kinds.add(r.kind());
    }
    assertEquals(Set.of(Rule.Kind.ABSENCE, Rule.Kind.OUTLIERS, Rule.Kind.THRESHOLD, Rule.Kind.ANOMALY), kinds);
  }
}

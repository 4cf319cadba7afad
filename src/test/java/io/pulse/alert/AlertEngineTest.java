package io.pulse.alert;

import static io.pulse.alert.AlertFixture.rollup;
import static io.pulse.alert.AlertFixture.rule;
import static io.pulse.alert.AlertFixture.scored;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.View;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The alert engine on a manual clock: every rule kind, every lifecycle transition (pending, firing,
 * acknowledged until a time or until resolved, un-acknowledged, resolved, flapping and stable),
 * for / keepFiringFor / hysteresis, silences, group-by instances, the instance cap and tenants.
 * Windows are 1 s; the clock stands at each window's end when its final rollup arrives.
 */
class AlertEngineTest {

  private static final long T0 = 1_800_000_000_000L;

  private final AlertFixture fx = new AlertFixture();
  private final ManualClock clock = new ManualClock(T0);
  private final AlertEngine engine = new AlertEngine(AlertEngine.Settings.DEFAULT, "t");
  /** Every transition so far. */
  private final List<Transition> seen = new ArrayList<>();

  private List<Transition> put(Rule r) {
    return record(engine.putRule(r, clock.millis()));
  }

  private List<Transition> record(List<Transition> ts) {
    seen.addAll(ts);
    return ts;
  }

  /** The window starting at T0 + i s closes: the clock moves to its end and the rollup is evaluated. */
  private List<Transition> window(View v, Dims series, int i, double value) {
    clock.set(T0 + (i + 1) * 1000L);
    return record(engine.onRollup(rollup(v, series, T0 + i * 1000L, 5, value), clock.millis()));
  }

  private List<Transition> tickAt(long ms) {
    clock.set(ms);
    return record(engine.tick(ms));
  }

  private static List<String> states(List<Transition> ts) {
    return ts.stream().map(t -> t.state().wire()).collect(Collectors.toList());
  }

  @Test
  @DisplayName("threshold, for 0: fires on the first breaching final window and resolves on the first clear one; "
      + "the transition carries the alert message of API.md and the bus fields")
  void thresholdFiresAndResolves() {
    Rule r = rule("default", "r1", "{\"name\":\"slow\",\"stream\":\"latency\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"p99\",\"op\":\">\",\"value\":500,\"severity\":\"critical\",\"labels\":{\"team\":\"pay\"}}");
    put(r);
    View v = fx.view(r);
    assertEquals(List.of(), window(v, Dims.EMPTY, 0, 400));
    io.pulse.agg.Rollup f = rollup(v, Dims.EMPTY, T0 + 1000, 5, 900);
    io.pulse.agg.Rollup running = new io.pulse.agg.Rollup(v, Dims.EMPTY, f.start(), f.end(), false, f.count(),
        f.latest(), f.latestArrival(), f.names(), f.stats());
    assertEquals(List.of(), record(engine.onRollup(running, clock.millis())), "a running (non-final) update is not evaluated");
    List<Transition> fired = window(v, Dims.EMPTY, 1, 612);
    assertEquals(List.of("firing"), states(fired));
    JsonObject j = fired.get(0).toJson();
    assertEquals("alert", j.getString("type"));
    assertEquals("r1", j.getString("rule"));
    assertEquals("slow", j.getString("ruleName"));
    assertEquals("default", j.getString("tenant"));
    assertEquals("critical", j.getString("severity"));
    assertEquals("latency", j.getString("stream"));
    assertEquals(new JsonObject(), j.getJsonObject("series"));
    assertEquals(612.0, j.getDouble("value"));
    assertEquals(T0 + 2000, j.getLong("at"));
    assertNull(j.getString("previous"));
    assertEquals(new JsonObject().put("team", "pay").put("alertname", "slow").put("rule", "r1")
        .put("stream", "latency").put("severity", "critical"), j.getJsonObject("labels"));
    assertTrue(j.getBoolean("notify"));
    assertFalse(j.getBoolean("flapping"));
    assertTrue(j.getString("message").contains("612") && j.getString("message").contains("> 500"), j.getString("message"));
    String id = j.getString("id");
    assertEquals(List.of(), window(v, Dims.EMPTY, 2, 700), "still firing: no new transition");
    List<Transition> resolved = window(v, Dims.EMPTY, 3, 100);
    assertEquals(List.of("resolved"), states(resolved));
    assertEquals(id, resolved.get(0).id());
    assertEquals(Alert.State.FIRING, resolved.get(0).previous());
    assertTrue(resolved.get(0).notifies());
    assertEquals("resolved", engine.alert("default", id).state().wire());
    assertNotEquals(id, window(v, Dims.EMPTY, 4, 999).get(0).id(), "a new episode is a new alert");
  }

  @Test
  @DisplayName("for: pending first (not notified), firing once it has held for the duration; a pending alert "
      + "that clears resolves without a notification and is not listed")
  void forHoldsPending() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"op\":\">=\",\"value\":10,"
        + "\"for\":\"3s\"}");
    put(r);
    View v = fx.view(r);
    List<Transition> p = window(v, Dims.EMPTY, 0, 0); // figure count: 5 events
    assertEquals(List.of(), p);
    Rule byCount = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"op\":\">=\","
        + "\"value\":5,\"for\":\"3s\"}");
    put(byCount);
    List<Transition> pending = window(v, Dims.EMPTY, 1, 0);
    assertEquals(List.of("pending"), states(pending));
    assertFalse(pending.get(0).notifies());
    assertEquals(List.of(), window(v, Dims.EMPTY, 2, 0));
    assertEquals(List.of(), window(v, Dims.EMPTY, 3, 0), "2 s held of 3");
    List<Transition> firing = window(v, Dims.EMPTY, 4, 0);
    assertEquals(List.of("firing"), states(firing));
    assertEquals(Alert.State.PENDING, firing.get(0).previous());
    assertTrue(firing.get(0).notifies());

    // another series of a group-by rule: pending, then cleared before for
    Rule g = rule("default", "g", "{\"name\":\"g\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"for\":\"10s\",\"groupBy\":[\"region\"]}");
    put(g);
    View gv = fx.view(g);
    assertEquals(List.of("pending"), states(window(gv, Dims.of("region", "eu"), 5, 5)));
    List<Transition> cleared = window(gv, Dims.of("region", "eu"), 6, 0);
    assertEquals(List.of("resolved"), states(cleared));
    assertFalse(cleared.get(0).notifies(), "nothing was notified for it, so neither is its end");
    assertTrue(engine.alerts("default", null, null).stream().noneMatch(a -> a.id().equals(cleared.get(0).id())),
        "a pending alert that never fired is not kept among the recently resolved (its transitions are stored)");
  }

  @Test
  @DisplayName("for: a pending alert whose series stops sending still fires when the clock passes for (tick)")
  void forFiresOnTick() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"mean\",\"op\":\">\",\"value\":1,\"for\":\"5s\"}");
    put(r);
    View v = fx.view(r);
    assertEquals(List.of("pending"), states(window(v, Dims.EMPTY, 0, 5)));
    assertEquals(List.of(), tickAt(T0 + 5_999));
    assertEquals(List.of("firing"), states(tickAt(T0 + 6_000)));
  }

  @Test
  @DisplayName("keepFiringFor: a firing alert whose value clears keeps firing for the duration, resolving on the tick "
      + "after it; a breach meanwhile cancels the countdown")
  void keepFiringFor() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"mean\",\"op\":\">\",\"value\":100,\"keepFiringFor\":\"10s\"}");
    put(r);
    View v = fx.view(r);
    assertEquals(List.of("firing"), states(window(v, Dims.EMPTY, 0, 200)));
    assertEquals(List.of(), window(v, Dims.EMPTY, 1, 50)); // cleared at T0+2s
    assertEquals(List.of(), window(v, Dims.EMPTY, 2, 200)); // breach again: the countdown restarts
    assertEquals(List.of(), window(v, Dims.EMPTY, 3, 50)); // cleared at T0+4s
    assertEquals(List.of(), tickAt(T0 + 13_999));
    List<Transition> res = tickAt(T0 + 14_000);
    assertEquals(List.of("resolved"), states(res));
  }

  @Test
  @DisplayName("hysteresis: a firing alert resolves only once the value is back past the clear level, not when it "
      + "dips just under the firing level")
  void hysteresis() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"p95\",\"op\":\">\",\"value\":100,\"clear\":80}");
    put(r);
    View v = fx.view(r);
    assertEquals(List.of("firing"), states(window(v, Dims.EMPTY, 0, 120)));
    assertEquals(List.of(), window(v, Dims.EMPTY, 1, 95), "under 100 but above 80: still firing");
    assertEquals(List.of(), window(v, Dims.EMPTY, 2, 81));
    assertEquals(List.of("resolved"), states(window(v, Dims.EMPTY, 3, 80)));
    assertEquals(List.of(), window(v, Dims.EMPTY, 4, 95), "not firing: 95 does not breach > 100");

    Rule below = rule("default", "b", "{\"name\":\"b\",\"stream\":\"t\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"min\",\"op\":\"<\",\"value\":10,\"hysteresis\":5}");
    assertEquals(15.0, below.clear());
    put(below);
    View bv = fx.view(below);
    assertEquals(List.of("firing"), states(window(bv, Dims.EMPTY, 5, 3)));
    assertEquals(List.of(), window(bv, Dims.EMPTY, 6, 12));
    assertEquals(List.of("resolved"), states(window(bv, Dims.EMPTY, 7, 15)));
  }

  @Test
  @DisplayName("anomaly: fires when the rollup's score reaches the level (default Rule.DEFAULT_ANOMALY_LEVEL), ignores "
      + "windows without a score (warming up), explains itself with the detector's band, keeps firing 1 min by default")
  void anomaly() {
    Rule r = rule("default", "a", "{\"name\":\"odd\",\"stream\":\"pay\",\"kind\":\"anomaly\"}");
    assertEquals(Rule.DEFAULT_ANOMALY_LEVEL, r.value());
    assertEquals(0.95, rule("default", "x", "{\"name\":\"o\",\"stream\":\"pay\",\"kind\":\"anomaly\","
        + "\"sensitivity\":\"low\"}").value(), 1e-9);
    assertEquals(0.8, rule("default", "x", "{\"name\":\"o\",\"stream\":\"pay\",\"kind\":\"anomaly\","
        + "\"sensitivity\":\"high\"}").value(), 1e-9);
    put(r);
    View v = fx.view(r);
    clock.set(T0 + 1000);
    assertEquals(List.of(), record(engine.onRollup(rollup(v, Dims.EMPTY, T0, 5, 1), clock.millis())), "no score yet");
    clock.set(T0 + 2000);
    assertEquals(List.of(), record(engine.onRollup(scored(v, Dims.EMPTY, T0 + 1000, 0.89), clock.millis())));
    clock.set(T0 + 3000);
    List<Transition> f = record(engine.onRollup(scored(v, Dims.EMPTY, T0 + 2000, 0.97), clock.millis()));
    assertEquals(List.of("firing"), states(f));
    JsonObject j = f.get(0).toJson();
    assertEquals(0.97, j.getDouble("value"));
    assertEquals("mad", j.getJsonObject("anomaly").getString("method"));
    assertEquals(5.0, j.getJsonObject("anomaly").getDouble("expected"));
    assertTrue(j.getString("message").contains("expected 5"), j.getString("message"));
    clock.set(T0 + 4000);
    assertEquals(List.of(), record(engine.onRollup(rollup(v, Dims.EMPTY, T0 + 3000, 5, 1), clock.millis())),
        "a window without a score leaves the alert as it is");
    clock.set(T0 + 5000);
    assertEquals(List.of(), record(engine.onRollup(scored(v, Dims.EMPTY, T0 + 4000, 0.1), clock.millis())),
        "an anomaly rule keeps firing for 1 min by default: the windows after an anomaly score low");
    assertEquals(Rule.ANOMALY_KEEP_FIRING_MS, r.keepFiringForMs());
    clock.set(T0 + 4000 + Rule.ANOMALY_KEEP_FIRING_MS + 1000);
    assertEquals(List.of("resolved"), states(record(engine.onRollup(scored(v, Dims.EMPTY,
        T0 + 4000 + Rule.ANOMALY_KEEP_FIRING_MS, 0.1), clock.millis()))));
    assertEquals(0, rule("default", "z", "{\"name\":\"o\",\"stream\":\"pay\",\"kind\":\"anomaly\","
        + "\"keepFiringFor\":\"0s\"}").keepFiringForMs(), "unless the rule says otherwise");
  }

  @Test
  @DisplayName("absence: a series seen and then silent fires after absentFor (on the clock), resolves when it sends "
      + "again; a stream never seen since the rule was made fires after absentFor too; group-by: per series")
  void absence() {
    Rule r = rule("default", "abs", "{\"name\":\"job silent\",\"stream\":\"pipeline\",\"kind\":\"absence\","
        + "\"absentFor\":\"30s\",\"groupBy\":[\"job\"]}");
    put(r);
    View v = fx.view(r);
    // never seen: the stream as a whole fires after 30 s
    assertEquals(List.of(), tickAt(T0 + 29_999));
    List<Transition> never = tickAt(T0 + 30_000);
    assertEquals(List.of("firing"), states(never));
    assertEquals(Dims.EMPTY, never.get(0).series());
    assertTrue(never.get(0).message().contains("no events from pipeline"), never.get(0).message());
    // the first series speaks: the stream-level alert resolves, the series are tracked from now on
    clock.set(T0 + 31_000);
    List<Transition> seenA = record(engine.onRollup(rollup(v, Dims.of("job", "a"), T0 + 30_000, 1, 1), clock.millis()));
    assertEquals(List.of("resolved"), states(seenA));
    clock.set(T0 + 32_000);
    record(engine.onRollup(rollup(v, Dims.of("job", "b"), T0 + 31_000, 1, 1), clock.millis()));
    // job a keeps sending, job b goes silent
    for (int s = 32; s <= 70; s += 2) {
      clock.set(T0 + s * 1000L);
      record(engine.onRollup(rollup(v, Dims.of("job", "a"), T0 + (s - 1) * 1000L, 1, 1), clock.millis()));
      List<Transition> t = tickAt(T0 + s * 1000L);
      if (s < 62) {
        assertEquals(List.of(), t, "at " + s);
      } else if (s == 62) {
        assertEquals(List.of("firing"), states(t));
        assertEquals(Dims.of("job", "b"), t.get(0).series());
        assertEquals(30.0, t.get(0).value());
      }
    }
    clock.set(T0 + 80_000);
    List<Transition> back = record(engine.onRollup(rollup(v, Dims.of("job", "b"), T0 + 79_000, 1, 1), clock.millis()));
    assertEquals(List.of("resolved"), states(back));
    assertTrue(back.get(0).message().contains("sends events again"));
  }

  @Test
  @DisplayName("rate: the change of a figure between consecutive windows, per second or per minute")
  void rate() {
    Rule perS = rule("default", "rs", "{\"name\":\"climb\",\"stream\":\"s\",\"kind\":\"rate\",\"metric\":\"ms\","
        + "\"figure\":\"mean\",\"op\":\">\",\"value\":50}");
    Rule perM = rule("default", "rm", "{\"name\":\"climb/m\",\"stream\":\"s\",\"kind\":\"rate\",\"metric\":\"ms\","
        + "\"figure\":\"mean\",\"op\":\">\",\"value\":5000,\"per\":\"m\"}");
    put(perS);
    put(perM);
    View v = fx.view(perS);
    assertEquals(List.of(), window(v, Dims.EMPTY, 0, 100), "no previous window: no rate");
    assertEquals(List.of(), window(v, Dims.EMPTY, 1, 140), "+40/s, +2400/min");
    List<Transition> f = window(v, Dims.EMPTY, 2, 240); // +100/s = +6000/min
    assertEquals(List.of("firing", "firing"), states(f));
    assertEquals(100.0, f.stream().filter(t -> t.rule().equals("rs")).findFirst().get().value());
    assertEquals(6000.0, f.stream().filter(t -> t.rule().equals("rm")).findFirst().get().value());
    List<Transition> gap = window(v, Dims.EMPTY, 4, 300); // +60 over 2 s: 30/s, 1800/min
    assertEquals(List.of("resolved", "resolved"), states(gap));
  }

  @Test
  @DisplayName("outliers: fires on the rollup's count of outlier events")
  void outliers() {
    Rule r = rule("default", "o", "{\"name\":\"fraud\",\"stream\":\"payments\",\"kind\":\"outliers\",\"op\":\">=\","
        + "\"value\":3}");
    put(r);
    View v = fx.view(r);
    clock.set(T0 + 1000);
    assertEquals(List.of(), record(engine.onRollup(rollup(v, Dims.EMPTY, T0, 10, 1).withOutliers(2), clock.millis())));
    clock.set(T0 + 2000);
    List<Transition> f = record(engine.onRollup(rollup(v, Dims.EMPTY, T0 + 1000, 10, 1).withOutliers(4),
        clock.millis()));
    assertEquals(List.of("firing"), states(f));
    assertEquals(4.0, f.get(0).value());
  }

  @Test
  @DisplayName("ack until a time: acknowledged (notified, with who and why), back to firing when it expires; ack until "
      + "resolved ends with the alert; unack fires again; pending, unknown and other tenants' alerts are refused")
  void acknowledgements() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1}");
    put(r);
    View v = fx.view(r);
    String id = window(v, Dims.EMPTY, 0, 5).get(0).id();
    List<Transition> acked = record(engine.ack("default", id, "ann", "looking", T0 + 60_000, clock.millis()));
    assertEquals(List.of("acknowledged"), states(acked));
    assertEquals("ann", acked.get(0).ack().getString("by"));
    assertEquals("looking", acked.get(0).ack().getString("comment"));
    assertEquals(T0 + 60_000, acked.get(0).ack().getLong("until"));
    assertEquals(List.of(), window(v, Dims.EMPTY, 1, 5), "still breaching, still acknowledged");
    assertEquals(List.of(), tickAt(T0 + 59_999));
    List<Transition> expired = tickAt(T0 + 60_000);
    assertEquals(List.of("firing"), states(expired));
    assertEquals("ack-expired", expired.get(0).reason());
    assertTrue(expired.get(0).notifies());

    record(engine.ack("default", id, "bob", null, null, clock.millis()));
    assertTrue(engine.alert("default", id).toJson(false).getJsonObject("ack").getBoolean("untilResolved"));
    assertEquals(List.of(), tickAt(T0 + 200_000), "until resolved: no expiry");
    List<Transition> un = record(engine.unack("default", id, "bob", clock.millis()));
    assertEquals(List.of("firing"), states(un));
    assertEquals("unacknowledged", un.get(0).reason());
    assertEquals(409, assertThrows(AlertEngine.Refused.class,
        () -> engine.unack("default", id, "bob", clock.millis())).status());

    record(engine.ack("default", id, "bob", null, null, clock.millis()));
    clock.set(T0 + 3_601_000);
    List<Transition> res = record(engine.onRollup(rollup(v, Dims.EMPTY, T0 + 3_600_000, 5, 0), clock.millis()));
    assertEquals(List.of("resolved"), states(res));
    assertEquals(Alert.State.ACKNOWLEDGED, res.get(0).previous());
    assertNull(engine.alert("default", id).toJson(false).getValue("ack"), "the acknowledgement ends with the alert");
    assertEquals(409, assertThrows(AlertEngine.Refused.class,
        () -> engine.ack("default", id, "x", null, null, clock.millis())).status());
    assertEquals(404, assertThrows(AlertEngine.Refused.class,
        () -> engine.ack("default", "nope", "x", null, null, clock.millis())).status());
    assertEquals(404, assertThrows(AlertEngine.Refused.class,
        () -> engine.ack("acme", id, "x", null, null, clock.millis())).status(), "another tenant's alert");

    Rule p = rule("default", "p", "{\"name\":\"p\",\"stream\":\"s\",\"kind\":\"threshold\",\"op\":\">\",\"value\":1,"
        + "\"for\":\"1h\"}");
    put(p);
    String pid = window(v, Dims.EMPTY, 3_601, 5).stream().filter(t -> t.rule().equals("p")).findFirst().get().id();
    assertEquals(409, assertThrows(AlertEngine.Refused.class,
        () -> engine.ack("default", pid, "x", null, null, clock.millis())).status(), "pending: nothing to acknowledge");
  }

  @Test
  @DisplayName("flapping: fire/resolve 6 times within 10 min marks the series flapping (transitions go on, "
      + "notify false); 10 min without a change clears it with a notified 'stable' transition")
  void flapping() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1}");
    put(r);
    View v = fx.view(r);
    List<Transition> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.addAll(window(v, Dims.EMPTY, i, i % 2 == 0 ? 5 : 0));
    }
    assertEquals(List.of("firing", "resolved", "firing", "resolved", "firing", "resolved", "firing", "resolved"),
        states(all));
    for (int i = 0; i < 5; i++) {
      assertTrue(all.get(i).notifies(), "change " + i);
      assertFalse(all.get(i).flapping());
    }
    assertTrue(all.get(5).flapping(), "the 6th change within 10 min");
    assertEquals("flapping", all.get(5).reason());
    assertFalse(all.get(5).notifies());
    assertFalse(all.get(6).notifies());
    assertFalse(all.get(7).notifies());
    assertTrue(all.get(6).flapping());
    assertEquals(List.of(), tickAt(T0 + 8_000 + 599_999));
    List<Transition> stable = tickAt(T0 + 8_000 + 600_000);
    assertEquals(1, stable.size());
    assertEquals("stable", stable.get(0).reason());
    assertEquals("resolved", stable.get(0).state().wire());
    assertFalse(stable.get(0).flapping());
    assertTrue(stable.get(0).notifies());
    assertTrue(window(v, Dims.EMPTY, 700, 5).get(0).notifies(), "stable again: notified");
  }

  @Test
  @DisplayName("silences: matching alerts still change state and are listed, with notify false; a silence that "
      + "starts mutes a firing alert on the tick, one that ends (or is expired) unmutes it, notified; "
      + "equality, regex and negative matchers")
  void silences() {
    Rule r = rule("default", "r", "{\"name\":\"checkout errors\",\"stream\":\"checkout\",\"kind\":\"threshold\","
        + "\"metric\":\"ms\",\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"region\"],"
        + "\"labels\":{\"team\":\"payments\"}}");
    put(r);
    View v = fx.view(r);
    Silence eu = Silence.parse("default", "s1", new JsonObject("{\"matchers\":[{\"name\":\"team\",\"value\":\"payments\"},"
        + "{\"name\":\"region\",\"value\":\"e.*\",\"isRegex\":true}],\"duration\":\"1h\"}"), "ann", clock.millis());
    engine.putSilence(eu);
    List<Transition> f = window(v, Dims.of("region", "eu"), 0, 5);
    f.addAll(window(v, Dims.of("region", "us"), 0, 5));
    assertEquals(List.of("firing", "firing"), states(f));
    assertTrue(f.get(0).silenced());
    assertFalse(f.get(0).notifies(), "silenced: shown, not sent");
    assertFalse(f.get(1).silenced());
    assertTrue(f.get(1).notifies());
    assertEquals(2, engine.alerts("default", Alert.State.FIRING, null).size(), "a silenced alert is still listed");

    // a silence that starts later, with a negative matcher: everything but eu
    Silence notEu = Silence.parse("default", "s2", new JsonObject("{\"matchers\":[{\"name\":\"region\",\"value\":\"eu\","
        + "\"isEqual\":false}],\"startsAt\":" + (T0 + 10_000) + ",\"endsAt\":" + (T0 + 20_000) + "}"), "ann",
        clock.millis());
    engine.putSilence(notEu);
    assertEquals(List.of(), tickAt(T0 + 9_999));
    List<Transition> muted = tickAt(T0 + 10_000);
    assertEquals(1, muted.size());
    assertEquals("silenced", muted.get(0).reason());
    assertEquals(Dims.of("region", "us"), muted.get(0).series());
    assertFalse(muted.get(0).notifies());
    List<Transition> unmuted = tickAt(T0 + 20_000);
    assertEquals(1, unmuted.size());
    assertEquals("unsilenced", unmuted.get(0).reason());
    assertTrue(unmuted.get(0).notifies(), "the firing alert the silence hid is sent once it ends");
    assertTrue(engine.expireSilence("default", "s1", clock.millis()));
    List<Transition> euBack = tickAt(T0 + 21_000);
    assertEquals(List.of("unsilenced"), euBack.stream().map(Transition::reason).toList());
    assertEquals(Dims.of("region", "eu"), euBack.get(0).series());
    assertEquals("expired", engine.silence("default", "s1").toJson(clock.millis()).getString("status"));
    assertFalse(engine.expireSilence("acme", "s1", clock.millis()), "another tenant's silence");
  }

  @Test
  @DisplayName("group-by: one alert per series of the group, each with its series")
  void groupByInstances() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"region\"],\"filter\":{\"service\":\"api\"}}");
    put(r);
    View v = fx.view(r);
    assertEquals(r.viewSpec(), v.spec());
    window(v, Dims.of("region", "eu"), 0, 5);
    window(v, Dims.of("region", "us"), 0, 5);
    window(v, Dims.of("region", "ap"), 0, 0);
    List<Alert> firing = engine.alerts("default", Alert.State.FIRING, "s");
    assertEquals(2, firing.size());
    assertEquals(java.util.Set.of(Dims.of("region", "eu"), Dims.of("region", "us")),
        firing.stream().map(Alert::series).collect(Collectors.toSet()));
    View other = fx.view("default", "s", java.util.Map.of(), List.of("region"));
    assertEquals(List.of(), record(engine.onRollup(rollup(other, Dims.of("region", "ap"), T0, 5, 5), clock.millis())),
        "the same group-by without the rule's filter is another view: not read");
  }

  @Test
  @DisplayName("the cap: a tenant holds at most maxInstancesPerTenant series across its rules; more are skipped and "
      + "counted, another tenant is unaffected, and idle series give their places back")
  void instanceCap() {
    AlertEngine small = new AlertEngine(new AlertEngine.Settings(2, 6, 600_000, 60_000, 300_000, 10), "c");
    Rule r = rule("acme", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"host\"]}");
    Rule g = rule("globex", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"host\"]}");
    small.putRule(r, T0);
    small.putRule(g, T0);
    View v = fx.view(r);
    assertEquals(1, small.onRollup(rollup(v, Dims.of("host", "h1"), T0, 1, 5), T0 + 1000).size());
    assertEquals(0, small.onRollup(rollup(v, Dims.of("host", "h2"), T0, 1, 0), T0 + 1000).size());
    assertEquals(List.of(), small.onRollup(rollup(v, Dims.of("host", "h3"), T0, 1, 5), T0 + 1000), "past the cap");
    assertEquals(2, small.instances("acme"));
    assertEquals(1, small.capped("acme"));
    View gv = fx.view(g);
    assertEquals(1, small.onRollup(rollup(gv, Dims.of("host", "h3"), T0, 1, 5), T0 + 1000).size(),
        "globex has its own cap");
    small.tick(T0 + 61_000); // h2 idle for 60 s without an alert: its place goes back
    assertEquals(1, small.instances("acme"));
    assertEquals(1, small.onRollup(rollup(v, Dims.of("host", "h3"), T0 + 61_000, 1, 5), T0 + 62_000).size());
  }

  @Test
  @DisplayName("tenants: two tenants' rules on a stream of the same name read their own views only; alerts, lists "
      + "and silences are per tenant")
  void tenants() {
    String doc = "{\"name\":\"n\",\"stream\":\"checkout\",\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"max\","
        + "\"op\":\">\",\"value\":100}";
    put(rule("acme", "same-id", doc));
    put(rule("globex", "same-id", doc));
    View acme = fx.view("acme", "checkout", java.util.Map.of(), List.of());
    View globex = fx.view("globex", "checkout", java.util.Map.of(), List.of());
    List<Transition> a = window(acme, Dims.EMPTY, 0, 500);
    assertEquals(1, a.size());
    assertEquals("acme", a.get(0).tenant());
    assertEquals(List.of(), window(globex, Dims.EMPTY, 0, 1));
    assertEquals(1, engine.alerts("acme", null, null).size());
    assertEquals(0, engine.alerts("globex", null, null).size());
    assertNull(engine.alert("globex", a.get(0).id()));
    engine.putSilence(Silence.parse("globex", "s", new JsonObject("{\"matchers\":[{\"name\":\"stream\",\"value\":"
        + "\"checkout\"}],\"duration\":\"1h\"}"), "g", clock.millis()));
    assertTrue(window(acme, Dims.EMPTY, 1, 1).get(0).notifies(), "globex's silence does not touch acme");
    assertEquals(1, engine.silences("globex").size());
    assertEquals(0, engine.silences("acme").size());
    assertEquals(List.of(), record(engine.removeRule("globex", "same-id", clock.millis())));
    assertEquals(1, engine.rules("acme").size());
  }

  @Test
  @DisplayName("rules: removing one resolves its alerts (notified); replacing one on the same view keeps its alerts "
      + "with the new severity; replacing it with another view resolves them")
  void ruleChanges() {
    String doc = "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"max\","
        + "\"op\":\">\",\"value\":1,\"severity\":\"%s\"%s}";
    put(rule("default", "r", String.format(doc, "warning", "")));
    View v = fx.view(rule("default", "r", String.format(doc, "warning", "")));
    String id = window(v, Dims.EMPTY, 0, 5).get(0).id();
    assertEquals(List.of(), put(rule("default", "r", String.format(doc, "critical", ""))));
    assertEquals("critical", engine.alert("default", id).toJson(false).getString("severity"));
    List<Transition> moved = put(rule("default", "r", String.format(doc, "critical", ",\"groupBy\":[\"x\"]")));
    assertEquals(List.of("resolved"), states(moved));
    assertEquals("rule-changed", moved.get(0).reason());
    put(rule("default", "q", String.format(doc, "info", "")));
    String q = window(v, Dims.EMPTY, 1, 5).get(0).id();
    List<Transition> gone = record(engine.removeRule("default", "q", clock.millis()));
    assertEquals(List.of("resolved"), states(gone));
    assertEquals(q, gone.get(0).id());
    assertEquals("rule-deleted", gone.get(0).reason());
    assertTrue(gone.get(0).notifies());
    assertEquals(List.of(), window(v, Dims.EMPTY, 2, 5), "the view is read by no rule now");
  }

  @Test
  @DisplayName("a firing alert whose series stops sending resolves as stale after staleMs")
  void stale() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1}");
    put(r);
    View v = fx.view(r);
    window(v, Dims.EMPTY, 0, 5);
    assertEquals(List.of(), tickAt(T0 + 1000 + 299_999));
    List<Transition> s = tickAt(T0 + 1000 + 300_000);
    assertEquals(List.of("resolved"), states(s));
    assertEquals("stale", s.get(0).reason());
  }

  @Test
  @DisplayName("restore: an alert a previous run left acknowledged is taken up with its id and acknowledgement, expires "
      + "and resolves as before; one whose rule is gone is not")
  void restore() {
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"host\"]}");
    put(r);
    View v = fx.view(r);
    JsonObject ack = new JsonObject().put("by", "ann").put("comment", "c").put("at", T0 - 5000).put("until", T0 + 10_000);
    assertTrue(engine.restore("default", "r", Dims.of("host", "h1"), "old-1", Alert.State.ACKNOWLEDGED, 7, "m",
        T0 - 60_000, T0 - 59_000, ack, T0));
    assertFalse(engine.restore("default", "gone", Dims.EMPTY, "old-2", Alert.State.FIRING, 7, "m", T0 - 60_000,
        T0 - 59_000, null, T0), "its rule is gone");
    assertFalse(engine.restore("default", "r", Dims.of("host", "h1"), "old-3", Alert.State.FIRING, 7, "m", T0, T0, null,
        T0), "the series already has an active alert");
    Alert a = engine.alert("default", "old-1");
    assertEquals("ann", a.ackBy());
    assertEquals(List.of(), window(v, Dims.of("host", "h1"), 0, 5), "still breaching: no change");
    List<Transition> expired = tickAt(T0 + 10_000);
    assertEquals(List.of("ack-expired"), expired.stream().map(Transition::reason).toList());
    assertEquals("old-1", expired.get(0).id());
    assertEquals(T0 - 59_000, expired.get(0).toJson().getLong("firedAt"));
    List<Transition> res = window(v, Dims.of("host", "h1"), 10, 0);
    assertEquals(List.of("resolved"), states(res));
    assertEquals("old-1", res.get(0).id());
  }

  @Test
  @DisplayName("cluster handover: rules of a stream another instance is home for are kept but not evaluated (an "
      + "absence rule does not fire there); handOver returns the active alerts as they stand and forgets them without "
      + "a transition; the new home takes them up with their id and acknowledgement and resolves them itself")
  void handOverAndTakeUp() {
    java.util.Set<String> homeOfA = new java.util.HashSet<>(java.util.Set.of("s"));
    AlertEngine b = new AlertEngine(AlertEngine.Settings.DEFAULT, "b");
    engine.home(st -> homeOfA.contains(st.name()));
    b.home(st -> !homeOfA.contains(st.name()));
    Rule r = rule("default", "r", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\">\",\"value\":1,\"groupBy\":[\"host\"]}");
    Rule abs = rule("default", "abs", "{\"name\":\"quiet\",\"stream\":\"s\",\"kind\":\"absence\","
        + "\"absentFor\":\"30s\"}");
    put(r);
    put(abs);
    b.putRule(r, T0);
    b.putRule(abs, T0);
    View v = fx.view(r);
    View total = fx.view(abs);
    Dims h1 = Dims.of("host", "h1");
    assertEquals(List.of("firing"), states(window(v, h1, 0, 5)));
    record(engine.onRollup(rollup(total, Dims.EMPTY, T0, 5, 5), clock.millis()));
    String id = seen.get(0).id();
    record(engine.ack("default", id, "ann", "looking", null, clock.millis()));
    // b is not home: the same windows and a long silence change nothing there
    assertEquals(List.of(), b.onRollup(rollup(v, h1, T0, 5, 5), T0 + 1000));
    assertEquals(List.of(), b.tick(T0 + 120_000));
    assertEquals(0, b.instances("default"));

    // a hands the stream over: no transition, its alert listed as it stands, gone from a
    clock.set(T0 + 2000);
    List<Transition> handed = engine.handOver(st -> st.name().equals("s"), clock.millis());
    assertEquals(1, handed.size());
    assertEquals(id, handed.get(0).id());
    assertEquals("acknowledged", handed.get(0).state().wire());
    assertEquals("handed-over", handed.get(0).reason());
    assertFalse(handed.get(0).notifies());
    assertNull(engine.alert("default", id));
    assertEquals(0, engine.instances("default"));
    assertEquals(List.of(), engine.onRollup(rollup(v, h1, T0 + 2000, 5, 0), T0 + 3000), "away: a clear window is b's");
    assertEquals(List.of(), engine.tick(T0 + 300_000), "away: no absence, no stale resolution");

    // b takes the stream up and restores the alert from what a stored
    homeOfA.clear();
    b.takeUp(st -> st.name().equals("s"), T0 + 2000);
    Transition h = handed.get(0);
    assertTrue(b.restore("default", "r", h1, h.id(), h.state(), h.value(), h.message(), h.startedAt(), h.firedAt(),
        h.ack(), T0 + 2000));
    assertEquals("ann", b.alert("default", id).ackBy());
    assertEquals(List.of(), b.onRollup(rollup(v, h1, T0 + 2000, 5, 5), T0 + 3000), "still breaching: the same alert");
    List<Transition> res = b.onRollup(rollup(v, h1, T0 + 3000, 5, 0), T0 + 4000);
    assertEquals(List.of("resolved"), states(res));
    assertEquals(id, res.get(0).id());
    // its absence rule is b's now: the stream silent from the takeover on fires after absentFor
    assertEquals(List.of(), b.tick(T0 + 2000 + 29_999));
    List<Transition> quiet = b.tick(T0 + 2000 + 30_000);
    assertEquals(List.of("firing"), states(quiet));
    assertEquals("abs", quiet.get(0).rule());
    // an absence alert taken up stays firing (silent since before it started), and resolves when the stream sends
    Rule gone = rule("default", "gone", "{\"name\":\"gone\",\"stream\":\"s\",\"kind\":\"absence\","
        + "\"absentFor\":\"30s\",\"groupBy\":[\"host\"]}");
    b.putRule(gone, T0 + 40_000);
    assertTrue(b.restore("default", "gone", Dims.EMPTY, "abs-1", Alert.State.FIRING, 40, "m", T0 + 10_000, T0 + 10_000,
        null, T0 + 40_000));
    assertEquals(List.of(), b.tick(T0 + 41_000).stream().filter(t -> t.id().equals("abs-1")).toList(),
        "still silent: still firing");
    List<Transition> back = b.onRollup(rollup(fx.view(gone), h1, T0 + 41_000, 1, 1), T0 + 42_000).stream()
        .filter(t -> t.id().equals("abs-1")).toList();
    assertEquals(List.of("resolved"), states(back), "the first series seen resolves the stream's absence");
    // and a restore onto a rule that is away is refused (not this engine's to raise)
    assertFalse(engine.restore("default", "r", h1, "x-1", Alert.State.FIRING, 5, "m", T0, T0, null, T0 + 5000));
  }

  @Test
  @DisplayName("a tenant holds at most MAX_SILENCES silences; another tenant is not counted against it")
  void silenceCap() {
    for (int i = 0; i < AlertEngine.MAX_SILENCES; i++) {
      engine.putSilence(Silence.parse("acme", "s" + i, new JsonObject("{\"matchers\":[{\"name\":\"a\",\"value\":"
          + "\"b\"}],\"duration\":\"1h\"}"), "x", T0));
    }
    Silence more = Silence.parse("acme", "more", new JsonObject("{\"matchers\":[{\"name\":\"a\",\"value\":"
        + "\"b\"}],\"duration\":\"1h\"}"), "x", T0);
    assertEquals(409, assertThrows(AlertEngine.Refused.class, () -> engine.putSilence(more)).status());
    engine.putSilence(Silence.parse("globex", "s0", new JsonObject("{\"matchers\":[{\"name\":\"a\",\"value\":"
        + "\"b\"}],\"duration\":\"1h\"}"), "x", T0));
    assertEquals(1, engine.silences("globex").size());
  }

  @Test
  @DisplayName("early firing: a count or max rule without for fires on the running update that crosses its level, "
      + "before the window closes; the final keeps it firing and a running value never resolves; rules whose figure "
      + "can still fall back (p99, mean) or that wait (for) are not evaluated on running updates")
  void firesEarlyOnRunningUpdates() {
    Rule count = rule("default", "c", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"op\":\">\","
        + "\"value\":4}");
    Rule p99 = rule("default", "p", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"p99\",\"op\":\">\",\"value\":1}");
    Rule waits = rule("default", "w", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"op\":\">\","
        + "\"value\":4,\"for\":\"5s\"}");
    assertTrue(count.firesEarly());
    assertFalse(p99.firesEarly());
    assertFalse(waits.firesEarly());
    assertTrue(rule("default", "m", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"min\",\"op\":\"<\",\"value\":1}").firesEarly());
    assertFalse(rule("default", "m", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"max\",\"op\":\"<\",\"value\":1}").firesEarly(), "a max can still rise past it");
    put(count);
    put(p99);
    put(waits);
    View v = fx.view(count);
    io.pulse.agg.Rollup f = rollup(v, Dims.EMPTY, T0, 5, 900);
    clock.set(T0 + 400);
    List<Transition> early = record(engine.onRollup(new io.pulse.agg.Rollup(v, Dims.EMPTY, T0, T0 + 1000, false, 5,
        f.latest(), f.latestArrival(), f.names(), f.stats()), clock.millis()));
    assertEquals(List.of("c"), early.stream().map(Transition::rule).toList());
    assertEquals(T0 + 400, early.get(0).at(), "before the window's end");
    assertEquals(List.of("p", "w"), window(v, Dims.EMPTY, 0, 900).stream().map(Transition::rule).sorted().toList(),
        "the final: the others decide; the early alert stays firing");
    assertEquals(1, engine.alerts("default", Alert.State.FIRING, null).stream().filter(a -> a.rule().id().equals("c"))
        .count());
    clock.set(T0 + 1300);
    assertEquals(List.of(), record(engine.onRollup(new io.pulse.agg.Rollup(v, Dims.EMPTY, T0 + 1000, T0 + 2000, false,
        1, f.latest(), f.latestArrival(), f.names(), f.stats()), clock.millis())), "a running value never resolves");
  }
}

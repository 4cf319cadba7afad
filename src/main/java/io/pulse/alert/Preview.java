package io.pulse.alert;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a rule would have done over a stretch of history: the windows (final rollups, or stored
 * windows read back) replayed in time order through a fresh {@link AlertEngine} on a manual clock
 * (each window at its end, the clock ticking between them), answering how often and when it would
 * have fired and resolved. Plain Java; the server runs it on a worker thread.
 */
public final class Preview {

  /** Alerts listed in an answer at most; the counts cover them all. */
  public static final int MAX_EPISODES = 1_000;
  /** Clock ticks of one replay at most: a long range ticks coarser. */
  public static final long MAX_TICKS = 200_000;

  private Preview() {
  }

  /**
   * Scores the windows of one series in time order, as the live detector does: the server passes
   * one made afresh per series, so an anomaly rule can be previewed on history that holds no
   * scores. Null: the window is still warming the detector up.
   */
  public interface Scorer {
    io.pulse.agg.Anomaly score(Window w);
  }

  /** {@link #run(Rule, List, long, long, java.util.function.Function)} without a detector: stored scores only. */
  public static JsonObject run(Rule rule, List<Window> windows, long from, long to) {
    return run(rule, windows, from, to, null);
  }

  /**
   * Replays {@code windows} (any order) of {@code [from, to)} through {@code rule}. For an anomaly
   * rule, windows without a score are scored by {@code detectors} (one per series, made on its first
   * window; null: none), the windows of the range before {@code from} warming them up first.
   *
   * @return {@code {"rule", "from", "to", "windows", "fired", "resolved", "stillFiring", "notifications",
   *     "firingMs", "alerts": [{"id", "series", "pendingAt", "firedAt", "resolvedAt", "peak"}], "truncated"}}
   */
  public static JsonObject run(Rule rule, List<Window> windows, long from, long to,
      java.util.function.Function<io.pulse.event.Dims, Scorer> detectors) {
    Rule r = rule.id() == null ? rule.withId("preview") : rule;
    AlertEngine engine = new AlertEngine(new AlertEngine.Settings(AlertEngine.Settings.DEFAULT.maxInstancesPerTenant(),
        AlertEngine.Settings.DEFAULT.flapChanges(), AlertEngine.Settings.DEFAULT.flapWindowMs(), Long.MAX_VALUE,
        AlertEngine.Settings.DEFAULT.staleMs(), Integer.MAX_VALUE), "preview");
    engine.putRule(r, from);
    List<Window> sorted = new ArrayList<>(windows);
    sorted.sort(Comparator.comparingLong(Window::end));
    long tickMs = Math.max(1000, (to - from + MAX_TICKS - 1) / MAX_TICKS);
    long next = from + tickMs;
    List<Transition> all = new ArrayList<>();
    int used = 0;
    boolean scored = false;
    Map<io.pulse.event.Dims, Scorer> scorers = new java.util.HashMap<>();
    for (Window w : sorted) {
      if (detectors != null && r.kind() == Rule.Kind.ANOMALY && w.anomaly() == null) {
        w = Window.scored(w, scorers.computeIfAbsent(w.series(), detectors).score(w));
      }
      if (w.end() <= from || w.start() >= to) {
        continue;
      }
      while (next <= w.end()) {
        all.addAll(engine.tick(next));
        next += tickMs;
      }
      scored |= w.anomaly() != null;
      all.addAll(engine.onWindow(w, w.end()));
      used++;
    }
    while (next <= to) {
      all.addAll(engine.tick(next));
      next += tickMs;
    }
    Map<String, JsonObject> episodes = new LinkedHashMap<>();
    long fired = 0;
    long resolved = 0;
    long notifications = 0;
    long firingMs = 0;
    Map<String, Long> firedAt = new LinkedHashMap<>();
    for (Transition x : all) {
      if (x.notifies()) {
        notifications++;
      }
      JsonObject e = episodes.get(x.id());
      if (e == null) {
        e = new JsonObject().put("id", x.id()).put("series", Transition.dims(x.series()));
        episodes.put(x.id(), e);
      }
      if (Double.isFinite(x.value())) {
        double peak = e.getDouble("peak", x.value());
        boolean above = r.op() == null || r.op() == Rule.Op.GT || r.op() == Rule.Op.GE;
        e.put("peak", above ? Math.max(peak, x.value()) : Math.min(peak, x.value()));
      }
      switch (x.state()) {
        case PENDING -> e.put("pendingAt", x.at());
        case FIRING -> {
          if (x.previous() == Alert.State.PENDING || x.previous() == null) {
            e.put("firedAt", x.at());
            firedAt.put(x.id(), x.at());
            fired++;
          }
        }
        case RESOLVED -> {
          if (x.previous() != Alert.State.RESOLVED) {
            e.put("resolvedAt", x.at());
            Long f = firedAt.remove(x.id());
            if (f != null) {
              resolved++;
              firingMs += x.at() - f;
            }
          }
        }
        default -> {
        }
      }
    }
    for (Long f : firedAt.values()) {
      firingMs += to - f;
    }
    JsonArray list = new JsonArray();
    for (JsonObject e : episodes.values()) {
      if (e.containsKey("firedAt") && list.size() < MAX_EPISODES) {
        list.add(e);
      }
    }
    JsonObject out = new JsonObject().put("rule", r.toJson()).put("from", from).put("to", to).put("windows", used)
        .put("fired", fired).put("resolved", resolved).put("stillFiring", firedAt.size())
        .put("notifications", notifications).put("firingMs", firingMs).put("alerts", list);
    if (fired > list.size()) {
      out.put("truncated", true);
    }
    if (r.kind() == Rule.Kind.ANOMALY && !scored) {
      out.put("note", "no window of the range carries an anomaly score, so an anomaly rule cannot fire on it");
    }
    return out;
  }
}

package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.config.Durations;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The alert rules of every tenant and the alerts they raise. Plain Java, one thread (the alert
 * verticle's), time passed in: final rollups go to {@link #onRollup}, the clock to {@link #tick},
 * and every change of an alert comes back as a {@link Transition} for the bus, the store and the
 * webhooks.
 *
 * <p>Per rule and series ("instance") a track remembers what the condition needs (last value, the
 * previous window for rates, when the series was last seen for absence) and the series' current
 * alert. An alert goes pending when its condition first holds ({@code for} 0: straight to firing),
 * fires once it has held for {@code for}, resolves when the value is back past the clear level
 * (hysteresis) and has stayed there for {@code keepFiringFor}. Firing alerts can be acknowledged
 * (until a time or until resolved) and un-acknowledged. A series whose alerts fire and resolve
 * {@link Settings#flapChanges} times within {@link Settings#flapWindowMs} is flapping: its
 * transitions go on, marked, with notify false, until it has been stable for the window again
 * (a "stable" transition then restates its state, notified). Silences mute notifications of the
 * alerts their matchers select without hiding them.
 *
 * <p>Bounded: each tenant holds at most {@link Settings#maxInstancesPerTenant} tracks. A new series
 * past the cap is not tracked (its windows are skipped and counted, {@link #capped}) until idle
 * tracks are swept (non-absence tracks without an active alert and without windows for
 * {@link Settings#idleMs}). Resolved alerts stay listed, at most {@link Settings#keepResolved} per tenant.
 */
public final class AlertEngine {

  /**
   * @param maxInstancesPerTenant tracks (rule x series) a tenant may hold
   * @param flapChanges fire/resolve changes within flapWindowMs that make a series flapping
   * @param flapWindowMs the flapping window, also how long a series must be stable to clear it
   * @param idleMs an untracked-worthy idle time: a track without an active alert and without windows for this long goes
   * @param staleMs a firing non-absence alert whose series sends no window for this long resolves ("stale")
   * @param keepResolved resolved alerts kept listed per tenant
   */
  public record Settings(int maxInstancesPerTenant, int flapChanges, long flapWindowMs, long idleMs, long staleMs,
      int keepResolved) {

    public static final Settings DEFAULT = new Settings(10_000, 6, 600_000, 900_000, 300_000, 500);
  }

  /** The outcome of an ack or unack that cannot be done (409) or names no alert (404). */
  public static final class Refused extends RuntimeException {
    private final int status;

    public Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private final class Track {
    final RuleState rs;
    final Dims series;
    /** A group-by absence rule's stand-in for "the stream" until any series of it is seen. */
    boolean placeholder;
    long lastSeen;
    long windowMs = 1000;
    double prevFigure = Double.NaN;
    long prevStart;
    /** Whether the condition held at the last evaluation (for an active alert: not yet cleared). */
    boolean holding;
    long clearedAt = -1;
    Alert alert;
    final ArrayDeque<Long> changes = new ArrayDeque<>();
    boolean flapping;
    long lastChange = Long.MIN_VALUE;

    Track(RuleState rs, Dims series, long now) {
      this.rs = rs;
      this.series = series;
      this.lastSeen = now;
    }

    boolean active() {
      return alert != null && alert.state.active();
    }
  }

  private final class RuleState {
    Rule rule;
    final Map<Dims, Track> tracks = new LinkedHashMap<>();
    long capped;
    /** Cluster mode: another instance evaluates this rule now (it owns the stream's home); no tracks here. */
    boolean away;

    RuleState(Rule rule) {
      this.rule = rule;
    }
  }

  private final class Tenant {
    final Map<String, RuleState> rules = new TreeMap<>();
    final Map<String, Silence> silences = new LinkedHashMap<>();
    final Map<String, Alert> byId = new HashMap<>();
    final ArrayDeque<Alert> resolved = new ArrayDeque<>();
    int tracks;
    long capped;
  }

  private final Settings settings;
  private final String idPrefix;
  private long seq;
  private final Map<String, Tenant> tenants = new HashMap<>();
  private final Map<String, List<RuleState>> byView = new HashMap<>();
  /** Whether this engine evaluates a stream's rules (cluster mode: it owns the stream's home partition). */
  private Predicate<StreamId> home = s -> true;

  /**
   * @param idPrefix starts every alert id (make it differ between runs, e.g. the boot time in base 36)
   */
  public AlertEngine(Settings settings, String idPrefix) {
    this.settings = settings;
    this.idPrefix = idPrefix;
  }

  /**
   * Cluster mode: which streams' rules this engine evaluates when a rule is put. A rule of another
   * stream is kept but away (no tracks, no evaluation) until {@link #takeUp} brings it home.
   */
  public void home(Predicate<StreamId> isHome) {
    this.home = isHome;
  }

  private Tenant tenant(String t) {
    return tenants.computeIfAbsent(t, k -> new Tenant());
  }

  // ---------------------------------------------------------------- rules

  /**
   * Adds a rule or replaces the one with its id. A replacement that reads the same view with the
   * same kind keeps its alerts (they take the new severity, labels and levels at their next
   * change); otherwise the old rule's alerts resolve ("rule-changed"). A disabled rule is removed.
   */
  public List<Transition> putRule(Rule rule, long now) {
    if (rule.id() == null) {
      throw new IllegalArgumentException("a rule needs its id");
    }
    List<Transition> out = new ArrayList<>();
    Tenant t = tenant(rule.tenant());
    RuleState old = t.rules.get(rule.id());
    if (!rule.enabled()) {
      return removeRule(rule.tenant(), rule.id(), now);
    }
    if (old != null && old.rule.viewSpec().equals(rule.viewSpec()) && old.rule.kind() == rule.kind()
        && old.rule.perMs() == rule.perMs() && java.util.Objects.equals(old.rule.metric(), rule.metric())
        && old.rule.figure().equals(rule.figure())) {
      old.rule = rule;
      for (Track tr : old.tracks.values()) {
        if (tr.alert != null) {
          tr.alert.rule = rule;
        }
      }
      return out;
    }
    if (old != null) {
      out.addAll(drop(t, old, now, "rule-changed"));
    }
    RuleState rs = new RuleState(rule);
    t.rules.put(rule.id(), rs);
    byView.computeIfAbsent(rule.viewSpec(), k -> new ArrayList<>()).add(rs);
    rs.away = !home.test(rule.stream());
    if (!rs.away) {
      placeholder(t, rs, now);
    }
    return out;
  }

  /** An absence rule's track for the stream never seen: it fires after absentFor too. */
  private void placeholder(Tenant t, RuleState rs, long now) {
    if (rs.rule.kind() == Rule.Kind.ABSENCE && rs.tracks.isEmpty()) {
      Track tr = newTrack(t, rs, Dims.EMPTY, now);
      if (tr != null) {
        tr.placeholder = !rs.rule.groupBy().isEmpty();
      }
    }
  }

  /**
   * Cluster mode: the rules of these streams are another instance's from now on (it took their home
   * partition). Their tracks go, without a transition; the active alerts among them are returned as
   * they stand (a transition each, reason "handed-over", not for publishing) so that this instance
   * can still list them. The new owner takes them up from the store ({@link #restore}).
   */
  public List<Transition> handOver(Predicate<StreamId> streams, long now) {
    List<Transition> out = new ArrayList<>();
    for (Tenant t : tenants.values()) {
      for (RuleState rs : t.rules.values()) {
        if (rs.away || !streams.test(rs.rule.stream())) {
          continue;
        }
        rs.away = true;
        for (Track tr : rs.tracks.values()) {
          Alert a = tr.alert;
          if (tr.active()) {
            t.byId.remove(a.id);
            Rule rule = a.rule;
            out.add(new Transition(rule.tenant(), a.id, rule.id(), rule.name(), rule.stream().name(), a.series,
                a.state, a.state, rule.severity(), a.value, a.message, now, a.matchLabels(), a.flapping, a.silenced(),
                false, "handed-over", a.ackJson(), a.anomaly, a.startedAt, a.firedAt));
          }
        }
        t.tracks -= rs.tracks.size();
        rs.tracks.clear();
      }
    }
    return out;
  }

  /**
   * Cluster mode: the rules of these streams are this engine's to evaluate from now on (it took their
   * home partition). Call {@link #restore} next with the alerts the last owner left active.
   */
  public void takeUp(Predicate<StreamId> streams, long now) {
    for (Tenant t : tenants.values()) {
      for (RuleState rs : t.rules.values()) {
        if (rs.away && streams.test(rs.rule.stream())) {
          rs.away = false;
          placeholder(t, rs, now);
        }
      }
    }
  }

  /** Removes a rule; its active alerts resolve ("rule-deleted"). */
  public List<Transition> removeRule(String tenant, String ruleId, long now) {
    Tenant t = tenants.get(tenant);
    RuleState rs = t == null ? null : t.rules.get(ruleId);
    return rs == null ? List.of() : drop(t, rs, now, "rule-deleted");
  }

  private List<Transition> drop(Tenant t, RuleState rs, long now, String reason) {
    List<Transition> out = new ArrayList<>();
    for (Track tr : rs.tracks.values()) {
      if (tr.active()) {
        resolve(t, tr, now, reason, out);
      }
    }
    t.tracks -= rs.tracks.size();
    rs.tracks.clear();
    t.rules.remove(rs.rule.id());
    List<RuleState> list = byView.get(rs.rule.viewSpec());
    if (list != null) {
      list.remove(rs);
      if (list.isEmpty()) {
        byView.remove(rs.rule.viewSpec());
      }
    }
    return out;
  }

  /** The rules of a tenant. */
  public List<Rule> rules(String tenant) {
    Tenant t = tenants.get(tenant);
    List<Rule> out = new ArrayList<>();
    if (t != null) {
      t.rules.values().forEach(rs -> out.add(rs.rule));
    }
    return out;
  }

  /** The view specs some rule reads (each must be kept acquired while so). */
  public java.util.Set<String> viewSpecs() {
    return java.util.Collections.unmodifiableSet(byView.keySet());
  }

  /** Windows of new series a tenant's rules skipped because it held its cap of instances. */
  public long capped(String tenant) {
    Tenant t = tenants.get(tenant);
    return t == null ? 0 : t.capped;
  }

  /** Alerts pending, firing or acknowledged, over every tenant. */
  public int activeAlerts() {
    int n = 0;
    for (Tenant t : tenants.values()) {
      for (Alert a : t.byId.values()) {
        if (a.state.active()) {
          n++;
        }
      }
    }
    return n;
  }

  /** Instances (rule x series) a tenant holds. */
  public int instances(String tenant) {
    Tenant t = tenants.get(tenant);
    return t == null ? 0 : t.tracks;
  }

  // ---------------------------------------------------------------- windows

  /**
   * A rollup. A final one is evaluated by every rule of its view; a running one only by the rules
   * that fire early ({@link Rule#firesEarly}), and only to fire: a running value never resolves.
   */
  public List<Transition> onRollup(Rollup r, long now) {
    List<RuleState> rules = byView.get(r.view().spec());
    if (rules == null) {
      return List.of(); // most rollups: no rule reads their view, so no wrapper is made for them
    }
    if (r.fin()) {
      return onWindow(Window.of(r), now);
    }
    List<Transition> out = List.of();
    for (RuleState rs : rules) {
      Rule rule = rs.rule;
      if (rs.away || !rule.firesEarly()) {
        continue;
      }
      double v = rule.kind() == Rule.Kind.OUTLIERS ? r.outliers() : r.figure(rule.metric(), rule.figure());
      if (Double.isNaN(v) || !rule.breaches(v)) {
        continue;
      }
      Tenant t = tenants.get(rule.tenant());
      Track tr = rs.tracks.get(r.series());
      if (tr == null) {
        tr = newTrack(t, rs, r.series(), now);
      }
      if (tr != null && !tr.active()) {
        if (out.isEmpty()) {
          out = new ArrayList<>(1);
        }
        tr.lastSeen = now;
        tr.holding = true;
        windowStart = r.start();
        open(t, tr, v, null, now, out);
        windowStart = -1;
      }
    }
    return out;
  }

  /** A closed window of a view (a final rollup, or a stored window in a preview). */
  public List<Transition> onWindow(Window w, long now) {
    List<RuleState> rules = byView.get(w.viewSpec());
    if (rules == null) {
      return List.of();
    }
    List<Transition> out = new ArrayList<>(0);
    for (RuleState rs : rules) {
      if (rs.away) {
        continue;
      }
      Tenant t = tenants.get(rs.rule.tenant());
      Track tr = rs.tracks.get(w.series());
      if (tr == null) {
        Track ph = rs.tracks.get(Dims.EMPTY);
        if (ph != null && ph.placeholder) { // a group-by absence rule: the stream is seen, its series take over
          if (ph.active()) {
            ph.holding = false;
            resolve(t, ph, now, "resolved", out);
          }
          rs.tracks.remove(Dims.EMPTY);
          t.tracks--;
        }
        tr = newTrack(t, rs, w.series(), now);
        if (tr == null) {
          continue;
        }
      }
      tr.placeholder = false;
      tr.lastSeen = now;
      tr.windowMs = Math.max(1, w.end() - w.start());
      evaluate(t, tr, w, now, out);
    }
    return out;
  }

  private Track newTrack(Tenant t, RuleState rs, Dims series, long now) {
    if (t.tracks >= settings.maxInstancesPerTenant()) {
      rs.capped++;
      t.capped++;
      return null;
    }
    Track tr = new Track(rs, series, now);
    rs.tracks.put(series, tr);
    t.tracks++;
    return tr;
  }

  private void evaluate(Tenant t, Track tr, Window w, long now, List<Transition> out) {
    Rule rule = tr.rs.rule;
    double v;
    Anomaly anomaly = null;
    switch (rule.kind()) {
      case THRESHOLD -> v = w.figure(rule.metric(), rule.figure());
      case ANOMALY -> {
        anomaly = w.anomaly();
        v = anomaly == null ? Double.NaN : anomaly.score(); // warming up: no evidence either way
      }
      case OUTLIERS -> v = w.outliers();
      case RATE -> {
        double f = w.figure(rule.metric(), rule.figure());
        double prev = tr.prevFigure;
        long dt = w.start() - tr.prevStart;
        tr.prevFigure = f;
        tr.prevStart = w.start();
        v = Double.isNaN(prev) || Double.isNaN(f) || dt <= 0 ? Double.NaN : (f - prev) * rule.perMs() / dt;
      }
      default -> { // absence: a window is the series speaking
        if (tr.active()) {
          tr.holding = false;
          resolve(t, tr, now, "resolved", out);
        }
        return;
      }
    }
    if (Double.isNaN(v)) {
      return; // no such value in this window: the alert keeps its state
    }
    if (tr.alert != null && tr.alert.state.active()) {
      tr.alert.anomaly = anomaly;
    }
    windowStart = w.start();
    condition(t, tr, v, anomaly, now, out);
    windowStart = -1;
  }

  /** The state machine, given the value just seen. */
  /** The start of the window being evaluated (-1: none, a tick): an alert opened by it records it. */
  private long windowStart = -1;

  private void condition(Tenant t, Track tr, double v, Anomaly anomaly, long now, List<Transition> out) {
    Rule rule = tr.rs.rule;
    boolean active = tr.active();
    boolean holding = rule.kind() == Rule.Kind.ABSENCE ? v >= rule.absentForMs() / 1000.0
        : active ? !rule.clears(v) : rule.breaches(v);
    tr.holding = holding;
    if (active) {
      tr.alert.value = v;
    }
    if (holding) {
      tr.clearedAt = -1;
      if (!active) {
        open(t, tr, v, anomaly, now, out);
      } else if (tr.alert.state == Alert.State.PENDING && now - tr.alert.startedAt >= rule.forMs()) {
        fire(t, tr, now, out);
      }
    } else if (active) {
      if (tr.alert.state == Alert.State.PENDING) {
        resolve(t, tr, now, "resolved", out);
      } else {
        if (tr.clearedAt < 0) {
          tr.clearedAt = now;
        }
        if (now - tr.clearedAt >= rule.keepFiringForMs()) {
          resolve(t, tr, now, "resolved", out);
        }
      }
    }
  }

  // ---------------------------------------------------------------- the clock

  /**
   * Moves time on: absence, pending alerts whose {@code for} has passed, {@code keepFiringFor},
   * stale series, acknowledgements that expire, silences that start or end, flapping that settles.
   */
  public List<Transition> tick(long now) {
    List<Transition> out = new ArrayList<>(0);
    for (Tenant t : tenants.values()) {
      t.silences.values().removeIf(s -> now >= s.endsAt() + 86_400_000L); // expired a day ago: gone from the list
      for (RuleState rs : t.rules.values()) {
        Rule rule = rs.rule;
        Iterator<Track> it = rs.tracks.values().iterator();
        while (it.hasNext()) {
          Track tr = it.next();
          if (rule.kind() == Rule.Kind.ABSENCE) {
            double silentS = (now - tr.lastSeen) / 1000.0;
            if (tr.active() || now - tr.lastSeen >= rule.absentForMs()) {
              condition(t, tr, silentS, null, now, out);
            }
          } else if (tr.active()) {
            Alert a = tr.alert;
            if (a.state == Alert.State.PENDING && tr.holding && now - a.startedAt >= rule.forMs()) {
              fire(t, tr, now, out);
            } else if (a.state != Alert.State.PENDING && tr.clearedAt >= 0
                && now - tr.clearedAt >= rule.keepFiringForMs()) {
              resolve(t, tr, now, "resolved", out);
            } else if (now - tr.lastSeen >= Math.max(settings.staleMs(), 10 * tr.windowMs)) {
              tr.holding = false;
              resolve(t, tr, now, "stale", out);
            }
          } else if (!tr.flapping && now - tr.lastSeen >= settings.idleMs()) {
            it.remove(); // idle: its place goes back to the tenant's cap
            t.tracks--;
            continue;
          }
          Alert a = tr.alert;
          if (a != null && a.state == Alert.State.ACKNOWLEDGED && now >= a.ackUntil) {
            clearAck(a);
            change(t, tr, Alert.State.FIRING, now, "ack-expired", out);
          }
          if (tr.flapping && now - tr.lastChange >= settings.flapWindowMs()) {
            tr.flapping = false;
            tr.changes.clear();
            if (a != null) {
              a.flapping = false;
              change(t, tr, a.state, now, "stable", out);
            }
          }
          if (a != null && a.state.active()) {
            List<String> by = silencedBy(t, a, now);
            if (!by.equals(a.silencedBy)) {
              boolean was = a.silenced();
              a.silencedBy = by;
              if (was != a.silenced()) {
                change(t, tr, a.state, now, was ? "unsilenced" : "silenced", out);
              }
            }
          }
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- transitions

  private void open(Tenant t, Track tr, double v, Anomaly anomaly, long now, List<Transition> out) {
    Rule rule = tr.rs.rule;
    if (tr.alert != null && !tr.alert.state.active()) {
      tr.alert = null; // the previous episode stays listed (resolved) but no longer belongs to the track
    }
    Alert a = new Alert(idPrefix + "-" + Long.toString(++seq, 36), rule, tr.series, now);
    a.windowStart = windowStart >= 0 ? windowStart : now;
    a.value = v;
    a.anomaly = anomaly;
    a.flapping = tr.flapping;
    a.state = null;
    tr.alert = a;
    t.byId.put(a.id, a);
    a.silencedBy = silencedBy(t, a, now);
    if (rule.forMs() == 0) {
      fire(t, tr, now, out);
    } else {
      change(t, tr, Alert.State.PENDING, now, "pending", out);
    }
  }

  private void fire(Tenant t, Track tr, long now, List<Transition> out) {
    tr.alert.firedAt = now;
    flap(tr, now);
    change(t, tr, Alert.State.FIRING, now, tr.flapping && !tr.alert.flapping ? "flapping" : "firing", out);
  }

  private void resolve(Tenant t, Track tr, long now, String reason, List<Transition> out) {
    Alert a = tr.alert;
    boolean fired = a.state != Alert.State.PENDING;
    if (fired) {
      flap(tr, now);
    }
    tr.clearedAt = -1;
    a.resolvedAt = now;
    clearAck(a);
    change(t, tr, Alert.State.RESOLVED, now, fired && tr.flapping && !a.flapping ? "flapping" : reason, out);
    if (!fired) {
      // a pending alert that never fired is not kept among the recently resolved (a rule with "for" on a
      // noisy figure would fill that list with them); its transitions are stored, and GET /alerts/{id} reads it
      t.byId.remove(a.id, a);
      return;
    }
    t.resolved.addLast(a);
    while (t.resolved.size() > settings.keepResolved()) {
      Alert gone = t.resolved.removeFirst();
      t.byId.remove(gone.id, gone);
    }
  }

  /** Counts a fire or resolve towards flapping. */
  private void flap(Track tr, long now) {
    tr.changes.addLast(now);
    tr.lastChange = now;
    while (!tr.changes.isEmpty() && now - tr.changes.peekFirst() > settings.flapWindowMs()) {
      tr.changes.removeFirst();
    }
    if (tr.changes.size() >= settings.flapChanges()) {
      tr.flapping = true;
    }
  }

  private static void clearAck(Alert a) {
    a.ackBy = null;
    a.ackComment = null;
    a.ackAt = -1;
    a.ackUntil = -1;
  }

  /** Moves an alert to {@code next} (or restates it) and records the transition. */
  private void change(Tenant t, Track tr, Alert.State next, long now, String reason, List<Transition> out) {
    Alert a = tr.alert;
    Alert.State previous = a.state;
    a.state = next;
    a.updatedAt = now;
    a.flapping = tr.flapping;
    a.message = message(a, tr, now, reason);
    Rule rule = a.rule;
    boolean notify = rule.notifyEnabled() && !a.silenced() && !a.flapping && next != Alert.State.PENDING
        && !(next == Alert.State.RESOLVED && (previous == Alert.State.PENDING || previous == null))
        && !"silenced".equals(reason);
    Transition x = new Transition(rule.tenant(), a.id, rule.id(), rule.name(), rule.stream().name(), a.series, next,
        previous, rule.severity(), a.value, a.message, now, a.matchLabels(), a.flapping, a.silenced(), notify, reason,
        a.ackJson(), a.anomaly, a.startedAt, a.firedAt);
    a.recent.addLast(x);
    while (a.recent.size() > Alert.RECENT_TRANSITIONS) {
      a.recent.removeFirst();
    }
    out.add(x);
  }

  private String message(Alert a, Track tr, long now, String reason) {
    Rule r = a.rule;
    String where = r.stream().name() + (a.series.isEmpty() ? "" : " " + a.series);
    String name = r.name() + ": ";
    if (r.kind() == Rule.Kind.ABSENCE) {
      return a.state == Alert.State.RESOLVED ? name + where + " sends events again"
          : name + "no events from " + where + " for " + Durations.format(Math.max(0, (now - tr.lastSeen) / 1000 * 1000))
              + " (absentFor " + Durations.format(r.absentForMs()) + ")";
    }
    String v = fmt(a.value);
    if (a.state == Alert.State.RESOLVED && !"resolved".equals(reason) && !"flapping".equals(reason)) {
      return name + where + ": resolved (" + reason + ")";
    }
    if (a.state == Alert.State.RESOLVED) {
      return name + r.watched() + " of " + where + " back to " + v;
    }
    String base = name + r.watched() + " of " + where + " is " + v + " (" + r.op().text() + " " + fmt(r.value()) + ")";
    if (a.anomaly != null && r.kind() == Rule.Kind.ANOMALY) {
      base += "; " + a.anomaly.figure() + " = " + fmt(a.anomaly.value()) + ", expected " + fmt(a.anomaly.expected())
          + " [" + fmt(a.anomaly.low()) + ", " + fmt(a.anomaly.high()) + "] by " + a.anomaly.method();
    }
    return base;
  }

  private static String fmt(double d) {
    if (Double.isNaN(d)) {
      return "n/a";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return String.format(java.util.Locale.ROOT, "%.4g", d);
  }

  // ---------------------------------------------------------------- acknowledgements

  /**
   * Acknowledges a firing alert (again: replaces the acknowledgement).
   *
   * @param until when it ends, or null: until the alert resolves
   * @throws Refused 404 when the tenant has no such alert, 409 when it is not firing, 400 for a past until
   */
  public List<Transition> ack(String tenant, String id, String by, String comment, Long until, long now) {
    Alert a = find(tenant, id);
    if (a.state != Alert.State.FIRING && a.state != Alert.State.ACKNOWLEDGED) {
      throw new Refused(409, "alert " + id + " is " + a.state.wire() + "; only a firing alert can be acknowledged");
    }
    if (until != null && until <= now) {
      throw new Refused(400, "until: must be in the future (epoch ms)");
    }
    a.ackBy = by;
    a.ackComment = comment;
    a.ackAt = now;
    a.ackUntil = until == null ? Long.MAX_VALUE : until;
    List<Transition> out = new ArrayList<>(1);
    change(tenants.get(tenant), track(a), Alert.State.ACKNOWLEDGED, now, "acknowledged", out);
    return out;
  }

  /** Takes an acknowledgement back: the alert fires again (and notifies). */
  public List<Transition> unack(String tenant, String id, String by, long now) {
    Alert a = find(tenant, id);
    if (a.state != Alert.State.ACKNOWLEDGED) {
      throw new Refused(409, "alert " + id + " is " + a.state.wire() + ", not acknowledged");
    }
    clearAck(a);
    List<Transition> out = new ArrayList<>(1);
    change(tenants.get(tenant), track(a), Alert.State.FIRING, now, "unacknowledged", out);
    return out;
  }

  private Alert find(String tenant, String id) {
    Tenant t = tenants.get(tenant);
    Alert a = t == null ? null : t.byId.get(id);
    if (a == null) {
      throw new Refused(404, "no alert " + id);
    }
    return a;
  }

  private Track track(Alert a) {
    RuleState rs = tenants.get(a.rule.tenant()).rules.get(a.rule.id());
    Track tr = rs == null ? null : rs.tracks.get(a.series);
    if (tr == null || tr.alert != a) {
      throw new Refused(409, "alert " + a.id + " is no longer current");
    }
    return tr;
  }

  /**
   * Takes up an alert a previous run left active (from the store): its rule (by id) must still
   * exist; the alert keeps its id, state, times and acknowledgement, and its series counts
   * as seen now (so a series that never sends again goes stale, an absent one fires on).
   *
   * @param ack the stored acknowledgement ({@code by, comment, at, until, untilResolved}) or null
   * @return false when it cannot be taken up (no such rule, or the tenant is at its cap): close it
   */
  public boolean restore(String tenant, String ruleId, Dims series, String id, Alert.State state, double value,
      String message, long startedAt, long firedAt, io.vertx.core.json.JsonObject ack, long now) {
    Tenant t = tenants.get(tenant);
    RuleState rs = t == null ? null : t.rules.get(ruleId);
    if (rs == null || rs.away || state == null || !state.active() || t.byId.containsKey(id)) {
      return false;
    }
    Track tr = rs.tracks.get(series);
    if (tr == null) {
      tr = newTrack(t, rs, series, now);
    }
    if (tr == null || tr.active()) {
      return false;
    }
    if (rs.rule.kind() == Rule.Kind.ABSENCE) {
      // silent since before it started (not since now): it stays firing until the series sends again;
      // a group-by rule's stand-in for the stream stays one, so the first series seen resolves it
      tr.lastSeen = Math.min(tr.lastSeen, startedAt - rs.rule.absentForMs());
      tr.placeholder = series.isEmpty() && !rs.rule.groupBy().isEmpty();
    } else {
      tr.placeholder = false;
    }
    tr.holding = true;
    Alert a = new Alert(id, rs.rule, series, startedAt);
    a.state = state;
    a.value = value;
    a.message = message;
    a.firedAt = firedAt;
    a.updatedAt = now;
    if (state == Alert.State.ACKNOWLEDGED && ack != null) {
      a.ackBy = ack.getString("by");
      a.ackComment = ack.getString("comment");
      a.ackAt = ack.getLong("at", now);
      Long until = ack.getLong("until");
      a.ackUntil = until == null ? Long.MAX_VALUE : until;
    } else if (state == Alert.State.ACKNOWLEDGED) {
      a.state = Alert.State.FIRING;
    }
    a.silencedBy = silencedBy(t, a, now);
    tr.alert = a;
    t.byId.put(id, a);
    return true;
  }

  // ---------------------------------------------------------------- reading

  /** One alert of a tenant (active, or among the recently resolved), or null. */
  public Alert alert(String tenant, String id) {
    Tenant t = tenants.get(tenant);
    return t == null ? null : t.byId.get(id);
  }

  /**
   * A tenant's alerts, newest change first: active ones and the recently resolved.
   *
   * @param state null for every state
   * @param stream null for every stream
   */
  public List<Alert> alerts(String tenant, Alert.State state, String stream) {
    Tenant t = tenants.get(tenant);
    List<Alert> out = new ArrayList<>();
    if (t == null) {
      return out;
    }
    for (Alert a : t.byId.values()) {
      if ((state == null || a.state == state) && (stream == null || a.rule.stream().name().equals(stream))) {
        out.add(a);
      }
    }
    out.sort((x, y) -> Long.compare(y.updatedAt, x.updatedAt));
    return out;
  }

  // ---------------------------------------------------------------- silences

  /** Silences one tenant may hold (expired ones are dropped a day after they end). */
  public static final int MAX_SILENCES = 1000;

  /**
   * Adds or replaces a silence; alerts it selects are muted from the next tick.
   *
   * @throws Refused 409 when the tenant already holds {@link #MAX_SILENCES}
   */
  public void putSilence(Silence s) {
    Tenant t = tenant(s.tenant());
    if (!t.silences.containsKey(s.id())) {
      checkSilenceRoom(s.tenant());
    }
    t.silences.put(s.id(), s);
  }

  /** @throws Refused 409 when the tenant holds {@link #MAX_SILENCES} silences already */
  public void checkSilenceRoom(String tenant) {
    Tenant t = tenants.get(tenant);
    if (t != null && t.silences.size() >= MAX_SILENCES) {
      throw new Refused(409, "at most " + MAX_SILENCES + " silences; end some (DELETE /api/v1/silences/{id})");
    }
  }

  /** Ends a silence now (kept listed as expired); false when the tenant has none by that id. */
  public boolean expireSilence(String tenant, String id, long now) {
    Tenant t = tenants.get(tenant);
    Silence s = t == null ? null : t.silences.get(id);
    if (s == null) {
      return false;
    }
    t.silences.put(id, s.endedAt(now));
    return true;
  }

  public Silence silence(String tenant, String id) {
    Tenant t = tenants.get(tenant);
    return t == null ? null : t.silences.get(id);
  }

  public Collection<Silence> silences(String tenant) {
    Tenant t = tenants.get(tenant);
    return t == null ? List.of() : List.copyOf(t.silences.values());
  }

  private static List<String> silencedBy(Tenant t, Alert a, long now) {
    if (t.silences.isEmpty()) {
      return List.of();
    }
    Map<String, String> labels = a.matchLabels();
    List<String> ids = new ArrayList<>(1);
    for (Silence s : t.silences.values()) {
      if (s.active(now) && s.matches(labels)) {
        ids.add(s.id());
      }
    }
    return ids.isEmpty() ? List.of() : List.copyOf(ids);
  }
}

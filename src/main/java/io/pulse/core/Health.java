package io.pulse.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What is wrong with this Pulse right now, for {@code /health/ready} and the log: one entry per
 * component ("storage", "aggregation", "quarantine", ...), each set and cleared only by the part
 * that owns it. Readers take a snapshot; they never change it.
 *
 * <p>Two levels. {@link Level#DOWN}: the instance cannot do its job (the database does not answer,
 * a shard stopped closing windows); readiness answers 503 so that a load balancer moves traffic
 * away. {@link Level#DEGRADED}: it works, but something was lost or refused that an operator should
 * know of (a series whose window could not be closed, rows the database refused); readiness stays
 * 200 and says so in its body.
 *
 * <p>Thread-safe: components on different event loops report here.
 */
public final class Health {

  /** How bad a problem is. */
  public enum Level {
    DEGRADED, DOWN
  }

  /** One component's problem: since when (epoch ms), and why, in words for an operator. */
  public record Problem(String component, Level level, String reason, long since) {
  }

  private final TreeMap<String, Problem> problems = new TreeMap<>();

  /** Marks {@code component} as unable to work; returns whether this is news (it was not down before). */
  public synchronized boolean down(String component, String reason, long now) {
    return put(component, Level.DOWN, reason, now);
  }

  /** Marks {@code component} as working with a problem; returns whether this is news. */
  public synchronized boolean degraded(String component, String reason, long now) {
    return put(component, Level.DEGRADED, reason, now);
  }

  private boolean put(String component, Level level, String reason, long now) {
    Problem before = problems.get(component);
    boolean news = before == null || before.level() != level;
    problems.put(component, new Problem(component, level, reason, news ? now : before.since()));
    return news;
  }

  /** The component works again; returns whether it had a problem. */
  public synchronized boolean clear(String component) {
    return problems.remove(component) != null;
  }

  /** The component's problem, or null. */
  public synchronized Problem get(String component) {
    return problems.get(component);
  }

  /** Whether any component is down. */
  public synchronized boolean down() {
    for (Problem p : problems.values()) {
      if (p.level() == Level.DOWN) {
        return true;
      }
    }
    return false;
  }

  /** Every problem now, by component name. */
  public synchronized List<Problem> problems() {
    return new ArrayList<>(problems.values());
  }

  /** The reasons of the problems at {@code level}, "component: reason" each. */
  public synchronized List<String> reasons(Level level) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Problem> e : problems.entrySet()) {
      if (e.getValue().level() == level) {
        out.add(e.getKey() + ": " + e.getValue().reason());
      }
    }
    return out;
  }
}

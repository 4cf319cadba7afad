package io.pulse.notify;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups alert transitions per webhook and rule: the first transition of a tenant's rule for a
 * webhook opens a group, which goes out {@code waitMs} later with every transition of that rule that
 * came meanwhile (one alert per series of a group-by rule, in arrival order), or at once when it
 * holds {@code maxSize}. Plain Java, single-threaded; memory: the open groups, each bounded.
 */
final class Grouper {

  /** Transitions of one rule for one webhook, going out as one notification. */
  record Group(String tenant, String webhook, String rule, String ruleName, long openedAt, List<JsonObject> alerts) {
  }

  private record Key(String tenant, String webhook, String rule) {
  }

  private final long waitMs;
  private final int maxSize;
  /** Insertion order is opening order (the wait is the same for all), so the due ones are at the front. */
  private final Map<Key, Group> open = new LinkedHashMap<>();
  private int waiting;

  Grouper(long waitMs, int maxSize) {
    this.waitMs = waitMs;
    this.maxSize = maxSize;
  }

  /** Adds a transition; returns its group when that is now full (closed), else null. */
  Group add(String tenant, String webhook, JsonObject alert, long now) {
    String rule = alert.getString("rule", "");
    Key k = new Key(tenant, webhook, rule);
    Group g = open.get(k);
    if (g == null) {
      g = new Group(tenant, webhook, rule, alert.getString("ruleName"), now, new ArrayList<>());
      open.put(k, g);
    }
    g.alerts().add(alert);
    waiting++;
    if (g.alerts().size() >= maxSize) {
      open.remove(k);
      waiting -= g.alerts().size();
      return g;
    }
    return null;
  }

  /** The groups whose wait is over, oldest first, closed. */
  List<Group> due(long now) {
    List<Group> out = new ArrayList<>();
    for (Iterator<Group> it = open.values().iterator(); it.hasNext();) {
      Group g = it.next();
      if (now - g.openedAt() < waitMs) {
        break;
      }
      it.remove();
      waiting -= g.alerts().size();
      out.add(g);
    }
    return out;
  }

  /** Every open group, closed now (for a stop). */
  List<Group> closeAll() {
    List<Group> out = new ArrayList<>(open.values());
    open.clear();
    waiting = 0;
    return out;
  }

  /** Transitions waiting in open groups. */
  int waiting() {
    return waiting;
  }
}

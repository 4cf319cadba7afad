package io.pulse.live;

import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.Durations;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The live feed's sequencer, one per server: turns the shards' rollups into messages (each
 * encoded once), numbers the finals per view in a bounded {@link ResumeLog}, and answers a
 * subscription with what to replay after its {@code Last-Event-ID}, a reset, or a window storage
 * replays from. Single-threaded (the live verticle owns it); time is passed in.
 */
public final class Sequencer {

  private final int resumeBufferSize;
  private final long allowedLatenessMs;
  private final String bootId;
  private final boolean storage;
  /** Views somebody watches or watched within the grace period, with their resume logs. */
  private final Map<Integer, ResumeLog> logs = new HashMap<>();
  /**
   * The highest final number any log has given out: a new log starts above it, so that a client
   * resuming with an id from a view that was evicted or retired and then made again resets rather
   * than being handed another incarnation's messages under numbers it thinks it knows.
   */
  private long highWater = -1;

  /**
   * @param bootId this server run, as in {@link LiveId}
   * @param storage whether storage can replay from a window named in an id
   */
  public Sequencer(int resumeBufferSize, long allowedLatenessMs, String bootId, boolean storage) {
    this.resumeBufferSize = resumeBufferSize;
    this.allowedLatenessMs = allowedLatenessMs;
    this.bootId = bootId;
    this.storage = storage;
  }

  /** The messages for the hubs, in order; empty when nobody watches any of these views. */
  public List<LiveMessage> messages(List<Rollup> rollups) {
    List<LiveMessage> out = new ArrayList<>();
    for (Rollup r : rollups) {
      View v = r.view();
      ResumeLog log = logs.get(v.id());
      if (log == null) {
        continue; // nobody watches this view; storage takes finals from the shards directly
      }
      String json = LiveJson.rollup(r);
      if (r.fin()) {
        // the resume log keeps finals for a while: without their windows (and sketches), which only storage needs
        LiveMessage m = new LiveMessage(v.id(), r.series().toString(), true, log.next(), "rollup", json,
            r.withoutWindow());
        highWater = Math.max(highWater, m.seq());
        log.append(m);
        out.add(m);
      } else {
        // an older window may still be open (lateness): a resume from storage starts at the oldest one that can be
        long w = v.windowMs();
        long stillOpen = r.start() - Math.floorDiv(allowedLatenessMs + w - 1, w) * w;
        out.add(new LiveMessage(v.id(), r.series().toString(), false, log.seq(), "rollup", json, r, stillOpen));
      }
    }
    return out;
  }

  /**
   * An alert transition (API.md's alert message, encoded) for every watched view of its stream
   * ({@code views}, all of one tenant's stream) that its series can belong to: a view whose filter
   * the alert's series contradicts does not get it, one whose filter names dims the alert's series
   * lacks (a stream-wide or group alert) does. Alerts are numbered and kept in the resume log like
   * finals, so a client resuming after a drop gets the transitions it missed.
   */
  public List<LiveMessage> alert(View[] views, io.pulse.event.Dims series, String alertId, String json) {
    List<LiveMessage> out = new ArrayList<>();
    for (View v : views) {
      ResumeLog log = logs.get(v.id());
      if (log == null || !compatible(v, series)) {
        continue;
      }
      LiveMessage m = new LiveMessage(v.id(), "alert:" + alertId, true, log.next(), "alert", json, null);
      highWater = Math.max(highWater, m.seq());
      log.append(m);
      out.add(m);
    }
    return out;
  }

  private static boolean compatible(View v, io.pulse.event.Dims series) {
    for (Map.Entry<String, java.util.Set<String>> f : v.filter().entrySet()) {
      String value = series.get(f.getKey());
      if (value != null && !f.getValue().contains(value)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The answer to a subscription to view {@code v} (just acquired; {@code evicted} the views that
   * made room for it): its sequence number, and what {@code lastEventId} (null: a fresh
   * subscription) leads to.
   */
  public SubscribeReply subscribe(View v, List<View> evicted, String lastEventId) {
    for (View gone : evicted) {
      logs.remove(gone.id()); // made room for a watched view; a client resuming into it later resets
    }
    ResumeLog log = logs.computeIfAbsent(v.id(), id -> new ResumeLog(resumeBufferSize, highWater + 1));
    List<LiveMessage> replay = List.of();
    boolean reset = false;
    String reason = null;
    Long resumeFrom = null;
    if (lastEventId != null && !lastEventId.isBlank()) {
      LiveId.Parsed id = LiveId.parse(lastEventId);
      long after = id.resumeAfter(bootId);
      List<LiveMessage> missed = after < 0 ? null : log.after(after);
      if (missed == null && id.at() != null && storage) {
        resumeFrom = id.at(); // not in the resume log (another run, or too old): storage replays from that window
      } else if (missed == null) {
        reset = true;
        reason = after < 0 ? "the last event id is from an earlier server run or malformed; start afresh"
            : "the messages after that id are no longer held; start afresh";
      } else {
        replay = missed;
      }
    }
    return new SubscribeReply(v.id(), v.stream(), v.allDims() ? null : v.groupBy(), Durations.format(v.windowMs()),
        log.seq(), replay, reset, reason, null, resumeFrom);
  }

  /** Retires views nobody has watched for {@code graceMs}, and their resume logs. */
  public void retire(ViewRegistry views, long now, long graceMs) {
    views.retireIdle(now, graceMs);
    Iterator<Map.Entry<Integer, ResumeLog>> it = logs.entrySet().iterator();
    while (it.hasNext()) {
      View v = views.byId(it.next().getKey());
      if (v == null || (v.subscribers() == 0 && now - v.idleSince() >= graceMs)) {
        it.remove();
      }
    }
  }

  /** Views with a resume log (for tests and diagnostics). */
  public int views() {
    return logs.size();
  }
}

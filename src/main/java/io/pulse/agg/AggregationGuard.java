package io.pulse.agg;

import io.pulse.core.Health;
import io.pulse.core.StreamId;
import io.pulse.core.Texts;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one failing series from stopping aggregation, and says so. The shards and the combiner
 * catch a failure inside one series' window (adding an event, closing it, merging it into a group)
 * or one group's merge, drop only that, and report it here: it is counted
 * ({@link #seriesFailed()}, {@link #eventsLost()}, {@link #groupsFailed()}), logged at most once per
 * {@link #LOG_EVERY_MS} with the stream and series, and readiness says "degraded" until
 * {@code quietMs} pass without a new failure.
 *
 * <p>A watchdog too: every shard reports each flush it completes; {@link #check} (called on a timer
 * outside the shards) marks aggregation down when a shard has not completed one for
 * {@code stallMs}: its windows are not closing, so no final rollup comes from it. Cleared when it
 * flushes again. Thread-safe: shards on different event loops report here. Time is passed in.
 */
public final class AggregationGuard {

  /** The component name in {@link Health}. */
  public static final String COMPONENT = "aggregation";
  /** At most one log line per this many ms (the counters count every failure). */
  public static final long LOG_EVERY_MS = 10_000;
  /** Readiness stays degraded this long after the last failure. */
  public static final long DEFAULT_QUIET_MS = 300_000;

  private static final Logger LOG = LoggerFactory.getLogger(AggregationGuard.class);

  private final Health health;
  private final long stallMs;
  private final long quietMs;
  private final long[] lastFlush;
  private final boolean[] stalled;
  private long seriesFailed;
  private long eventsLost;
  private long groupsFailed;
  private long lastFailure = Long.MIN_VALUE;
  private String lastReason;
  private long lastLog = Long.MIN_VALUE;
  private long unlogged;

  /**
   * @param stallMs how long a shard may go without completing a flush before aggregation is down
   * @param quietMs how long readiness stays degraded after the last failure
   * @param now when the shards start: the watchdog counts from here
   */
  public AggregationGuard(Health health, int shards, long stallMs, long quietMs, long now) {
    this.health = health;
    this.stallMs = stallMs;
    this.quietMs = quietMs;
    this.lastFlush = new long[shards];
    this.stalled = new boolean[shards];
    Arrays.fill(lastFlush, now);
  }

  /** A guard with its own {@link Health}, for engine tests and benchmarks that run shards alone. */
  public static AggregationGuard standalone(int shards) {
    return new AggregationGuard(new Health(), shards, Long.MAX_VALUE / 4, DEFAULT_QUIET_MS, 0);
  }

  /**
   * A series window was dropped: {@code events} of its events are in no rollup.
   *
   * @param stage what was being done ("adding an event", "closing the window", ...)
   */
  public synchronized void seriesFailed(int shard, ViewKey key, long windowStart, long events, String stage,
      Throwable e, long now) {
    seriesFailed++;
    eventsLost += events;
    failed(now, "shard " + shard + " dropped a window of stream " + shown(key.view().stream()) + " series "
        + Texts.clip(String.valueOf(key.series())) + " (start " + windowStart + ", " + events + " events) while " + stage + ": " + describe(e), e);
  }

  /**
   * A series' window could not be merged into one group of a coarser view (a total, a group-by): that
   * group's figures may lack it; the series' own rollup is unaffected.
   */
  public synchronized void mergeFailed(int shard, ViewKey series, ViewKey group, long windowStart, Throwable e,
      long now) {
    groupsFailed++;
    failed(now, "shard " + shard + " could not merge stream " + shown(series.view().stream()) + " series "
        + Texts.clip(String.valueOf(series.series())) + " into " + group.view() + " group "
        + Texts.clip(String.valueOf(group.series())) + " (start " + windowStart + "): " + describe(e), e);
  }

  /** The combiner dropped one group window: the rollup of that total or group-by for that window is lost. */
  public synchronized void groupFailed(ViewKey group, long windowStart, boolean fin, Throwable e, long now) {
    groupsFailed++;
    failed(now, "the combiner dropped the " + (fin ? "final" : "running") + " rollup of stream "
        + shown(group.view().stream()) + " " + group.view() + " group " + Texts.clip(String.valueOf(group.series())) + " (start " + windowStart + "): "
        + describe(e), e);
  }

  /** {@code now} is Long.MIN_VALUE when the caller has no time (engine calls without one): counted and logged only. */
  private void failed(long now, String reason, Throwable e) {
    boolean timed = now != Long.MIN_VALUE;
    if (timed) {
      lastFailure = now;
    }
    lastReason = reason;
    if (!timed || lastLog == Long.MIN_VALUE || now - lastLog >= LOG_EVERY_MS) {
      String more = unlogged > 0 ? " (" + unlogged + " more failures since the last report)" : "";
      LOG.error("aggregation: {}{}; totals: {} series windows dropped, {} events lost, {} group merges failed", reason,
          more, seriesFailed, eventsLost, groupsFailed, e);
      if (timed) {
        lastLog = now;
      }
      unlogged = 0;
    } else {
      unlogged++;
    }
    if (timed) {
      publish(now);
    }
  }

  /** Shard {@code shard} completed a flush (or its close-all) at {@code now}. */
  public synchronized void flushed(int shard, long now) {
    lastFlush[shard] = Math.max(lastFlush[shard], now);
    if (stalled[shard]) {
      stalled[shard] = false;
      LOG.info("aggregation: shard {} closes windows again", shard);
      publish(now);
    }
  }

  /** The watchdog, and the end of "degraded" after a quiet time; call it on a timer. */
  public synchronized void check(long now) {
    for (int s = 0; s < lastFlush.length; s++) {
      if (!stalled[s] && now - lastFlush[s] >= stallMs) {
        stalled[s] = true;
        LOG.error("aggregation: shard {} has not closed windows for {} s", s, (now - lastFlush[s]) / 1000);
      }
    }
    publish(now);
  }

  private void publish(long now) {
    for (int s = 0; s < lastFlush.length; s++) {
      if (stalled[s]) {
        health.down(COMPONENT, "shard " + s + " has not closed windows for " + (now - lastFlush[s]) / 1000
            + " s: no final rollups from it", now);
        return;
      }
    }
    if (lastFailure != Long.MIN_VALUE && now - lastFailure < quietMs) {
      health.degraded(COMPONENT, seriesFailed + " series windows dropped (" + eventsLost + " events lost), "
          + groupsFailed + " group merges failed; last: " + lastReason, now);
    } else {
      health.clear(COMPONENT);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + Texts.clip(m));
  }

  /** Series windows dropped since start (pulse_shard_series_failed_total). */
  public synchronized long seriesFailed() {
    return seriesFailed;
  }

  /** Events in the dropped windows (pulse_shard_events_lost_total). */
  public synchronized long eventsLost() {
    return eventsLost;
  }

  /** Group merges and combined group windows that failed (pulse_aggregation_groups_failed_total). */
  public synchronized long groupsFailed() {
    return groupsFailed;
  }

  /** A stream in an operator's message: its name, with its tenant unless it is the default one. */
  private static String shown(StreamId s) {
    return StreamId.DEFAULT_TENANT.equals(s.tenant()) ? s.name() : s.name() + " (tenant " + s.tenant() + ")";
  }
}

package io.pulse.live;

import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.agg.WindowAgg;
import io.pulse.event.Dims;
import io.pulse.store.History;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * History first (API.md {@code since=}), then the live feed, with no gap and no duplicate: which
 * windows of a view come from storage, and from which window the live feed takes over.
 *
 * <p>The two meet at a window boundary: windows that every shard has closed by the time of
 * subscribing (end + allowed lateness passed) come from storage, later ones from the live feed,
 * which holds its messages meanwhile and skips earlier windows for this subscriber. Such a
 * boundary also keeps out the one window a view created just now could report short (a shard
 * that closed it before the view existed adds nothing to it). Stored windows are merged to the
 * view's window and sent oldest first (at most {@link #MAX_HISTORY_WINDOWS}, the newest), then a
 * {@code history} message, then what the live feed held.
 *
 * @param from the start of the first window read from storage (the window that holds since=)
 * @param until the end of the last window read from storage: the first window the live feed delivers
 */
public record BackfillPlan(long from, long until) {

  /** History windows sent to one subscription at most; the newest are kept. */
  public static final int MAX_HISTORY_WINDOWS = 20_000;
  public static final String STORAGE_BEHIND =
      "storage is behind, so the last few seconds before you subscribed may be missing";

  /**
   * What a subscription starts with. {@code since}: where its history starts (a window named by
   * a Last-Event-ID storage replays from wins over since=), or null; {@code resumed}: it resumed
   * with a Last-Event-ID from the resume log (or was reset), which wins over since=;
   * {@code history}: storage is read before its live feed.
   */
  public record Start(Long since, boolean resumed, boolean history) {

    public static final Start FRESH = new Start(null, false, false);

    /**
     * @param since what the subscription asked for (null: nothing)
     * @param lastEventId what the client sent back (null or blank: a fresh subscription)
     * @param resumeFrom the window the sequencer said storage replays from, or null
     * @param storage whether storage is on
     */
    public static Start of(SubscriptionSpec.Since since, String lastEventId, Long resumeFrom, boolean storage,
        long now) {
      boolean resumed = lastEventId != null && !lastEventId.isBlank() && resumeFrom == null;
      Long from = resumeFrom != null ? resumeFrom : since == null ? null : since.resolve(now);
      return new Start(from, resumed, from != null && !resumed && storage);
    }

    /** What the "subscribed" message warns of about since=, or null. */
    public String warning(boolean storage) {
      if (since == null) {
        return null;
      }
      if (!storage) {
        return "since: history is not kept (storage is off); the live feed starts now";
      }
      return resumed ? "since: not used when resuming with Last-Event-ID, which picks up where you left" : null;
    }
  }

  /** The plan for a history from {@code since}, read at {@code now} for a view of {@code windowMs} windows. */
  public static BackfillPlan of(long since, long now, long windowMs, long allowedLatenessMs) {
    long boundary = Math.floorDiv(now - allowedLatenessMs, windowMs) * windowMs;
    return new BackfillPlan(Math.min(Math.floorDiv(since, windowMs) * windowMs, boundary), boundary);
  }

  /** The first window the live feed delivers: what the live feed held of earlier windows is skipped. */
  public long liveFrom() {
    return until;
  }

  /** Whether any window is read from storage. */
  public boolean readsStorage() {
    return from < until;
  }

  /** What to read from storage for {@code view}. */
  public History.Request request(View view) {
    return new History.Request(view.stream(), from, until, view.windowMs(), view.filter(), view.groupBy(), null);
  }

  /** The stored windows, merged to the view's windows. */
  public record Windows(List<LiveMessage> messages, boolean truncated) {
  }

  /**
   * The stored rows as history rollup messages for subscription {@code s} of {@code view}, oldest
   * first (then by series); only the newest {@link #MAX_HISTORY_WINDOWS}. CPU work: off the event loop.
   */
  public Windows windows(LiveSubscription s, View view, List<RollupStore.Stored> rows, RollupCodec codec,
      int sketchMaxBins) {
    Map<Dims, TreeMap<Long, WindowAgg>> buckets = History.buckets(request(view), rows, codec, sketchMaxBins);
    List<LiveMessage> out = new ArrayList<>();
    buckets.forEach((dims, windows) -> {
      ViewKey key = new ViewKey(view, dims);
      windows.forEach((start, w) -> {
        Rollup r = w.rollup(key, true);
        String json = LiveJson.rollup(r, s.metrics);
        json = "{\"type\":\"rollup\",\"history\":true," + json.substring(json.indexOf(',') + 1);
        out.add(new LiveMessage(s.viewId, dims.toString(), true, s.seq, "rollup", json, null, r.start()));
      });
    });
    out.sort(Comparator.comparingLong(LiveMessage::at).thenComparing(LiveMessage::seriesKey));
    if (out.size() > MAX_HISTORY_WINDOWS) {
      return new Windows(new ArrayList<>(out.subList(out.size() - MAX_HISTORY_WINDOWS, out.size())), true);
    }
    return new Windows(out, false);
  }

  /**
   * The {@code history} message that ends a subscription's history: {@code windows} sent;
   * {@code error} when storage could not be read, else {@code warning} (or null).
   */
  public String done(int windows, boolean truncated, String error, String warning, String stream) {
    JsonObject o = new JsonObject().put("type", "history").put("since", from).put("until", until)
        .put("windows", windows);
    if (truncated) {
      o.put("truncated", true).put("warning", "only the newest " + MAX_HISTORY_WINDOWS + " windows are sent; "
          + "GET /api/v1/streams/" + stream + "/series reads longer ranges");
    } else if (error != null) {
      o.put("error", "history could not be read: " + error);
    } else if (warning != null) {
      o.put("warning", warning);
    }
    return o.encode();
  }
}

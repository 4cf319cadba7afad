package io.pulse.live;

import io.pulse.core.StreamId;
import java.util.List;

/**
 * The live verticle's answer: the view to follow, messages to replay after the client's last
 * event id, or {@code reset} when that id is too old (or from an earlier server run) to resume
 * without a gap. {@code error} is set instead when the subscription cannot be served.
 * {@code resumeFrom} is set instead of a reset when the id names a window and storage can replay
 * from it (the id is from an earlier server run, or older than the resume log).
 */
public record SubscribeReply(int viewId, StreamId stream, List<String> groupBy, String window, long seq,
    List<LiveMessage> replay, boolean reset, String resetReason, String error, Long resumeFrom) {

  public static SubscribeReply failed(String error) {
    return new SubscribeReply(-1, null, List.of(), null, 0, List.of(), false, null, error, null);
  }
}

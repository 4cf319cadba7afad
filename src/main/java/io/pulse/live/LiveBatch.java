package io.pulse.live;

import java.util.List;

/** Messages for the hubs, in sequence order per view; {@code shutdown} tells hubs to close after them. */
public record LiveBatch(List<LiveMessage> messages, boolean shutdown) {
}

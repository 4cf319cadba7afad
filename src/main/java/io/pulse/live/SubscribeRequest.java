package io.pulse.live;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A subscriber's view request. {@code lastEventId} is what an SSE client sent back on reconnect
 * (null for a fresh subscription).
 */
public record SubscribeRequest(String stream, Map<String, Set<String>> filter, List<String> groupBy,
    String lastEventId) {
}

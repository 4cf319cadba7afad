package io.pulse.live;

import io.pulse.core.StreamId;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A subscriber's view request, for a stream of the subscriber's tenant. {@code lastEventId} is
 * what an SSE client sent back on reconnect
 * (null for a fresh subscription).
 */
public record SubscribeRequest(StreamId stream, Map<String, Set<String>> filter, List<String> groupBy,
    String lastEventId) {
}

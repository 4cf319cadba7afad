package io.pulse.cluster;

import io.pulse.ingest.BodyException;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.ParseResult;
import io.pulse.ingest.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One record of a source topic (events other systems write to Kafka) read as an ingest body: JSON
 * (an object or an array of objects) or NDJSON (one object a line), told apart by its content.
 * Every refusal names the record ({@code topic/partition@offset}) so it can be found in Kafka, and
 * a record that is not events at all is one refusal: nothing in it blocks the records after it.
 */
public final class SourceRecord {

  private SourceRecord() {
  }

  /** Where a record is: {@code topic/partition@offset}. */
  public static String where(String topic, int partition, long offset) {
    return topic + "/" + partition + "@" + offset;
  }

  /** The format of a record value: NDJSON when it holds a line break between objects, else JSON. */
  public static BodyFormat format(byte[] value) {
    int i = 0;
    while (i < value.length && Character.isWhitespace(value[i])) {
      i++;
    }
    if (i < value.length && value[i] == '[') {
      return BodyFormat.JSON;
    }
    for (int j = i; j < value.length - 1; j++) {
      if (value[j] == '\n') {
        int k = j + 1;
        while (k < value.length && (value[k] == ' ' || value[k] == '\t' || value[k] == '\r' || value[k] == '\n')) {
          k++;
        }
        if (k < value.length) {
          return BodyFormat.NDJSON; // something after a line break: more than one object
        }
      }
    }
    return BodyFormat.JSON;
  }

  /**
   * The events of a record value for {@code tenant}; refusals carry the record's place in their
   * reason. A value that cannot be read at all (not JSON, too large) is one refusal with the value
   * (cut) as its payload.
   */
  public static ParseResult parse(EventParser parser, byte[] value, String tenant, String where, long now) {
    if (value == null || value.length == 0) {
      return new ParseResult(List.of(), new int[0], List.of(new Rejection(0, where + ": the record has no value",
          null, "")));
    }
    ParseResult parsed;
    try {
      parsed = parser.parse(value, format(value), tenant, null, now);
    } catch (BodyException e) {
      String text = new String(value, 0, Math.min(value.length, 4096), StandardCharsets.UTF_8);
      return new ParseResult(List.of(), new int[0], List.of(new Rejection(0, where + ": " + e.getMessage(), null,
          text)));
    }
    if (parsed.rejections().isEmpty()) {
      return parsed;
    }
    List<Rejection> named = new ArrayList<>(parsed.rejections().size());
    for (Rejection r : parsed.rejections()) {
      named.add(new Rejection(r.index(), where + " event " + r.index() + ": " + r.error(), r.stream(), r.payload()));
    }
    return new ParseResult(parsed.events(), parsed.indices(), named);
  }
}

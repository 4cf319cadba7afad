package io.pulse.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.core.Texts;
import io.pulse.core.Times;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads request bodies into events with Jackson's streaming parser: no tree per event, one pass,
 * and a reason for every event it cannot take.
 *
 * <p>Syntax errors in a JSON body make the whole body unreadable (400): a client retrying a
 * half-taken array would double-count. In NDJSON each line stands alone, so a broken line is one
 * rejected event and the others are kept.
 *
 * <p>One instance per thread: it keeps scratch arrays between events.
 */
public final class EventParser {

  private static final JsonFactory FACTORY = JsonFactory.builder().build();

  /**
   * Times below this (1973-03-03 in milliseconds) are almost surely epoch seconds sent by mistake:
   * taken as milliseconds they would all land in January 1970 and be folded in as late.
   */
  static final long EPOCH_SECONDS_LIMIT = 100_000_000_000L;

  /**
   * The largest magnitude a value may have. DDSketch (sketches-java 0.8.3) refuses a value above its
   * mapping's {@code maxIndexableValue()}: for BitwiseLinearlyInterpolatedMapping that is
   * {@code min(2^(Integer.MAX_VALUE / multiplier), Double.MAX_VALUE / (1 + relativeAccuracy))}, about
   * 1.78e308 at the default 1% and 1.23e308 at the loosest accuracy the configuration allows (0.5), so
   * one bound below both holds whatever the accuracy (ValueStatsRangeTest checks it). Magnitudes
   * below the mapping's {@code minIndexableValue()} (about 2.2e-308, subnormals included) need no
   * bound: the sketch counts them in its zero bucket, and count, sum, min and max stay exact.
   */
  public static final double MAX_ABS_VALUE = 1e308;

  private final PulseConfig.Ingest limits;
  private final String[] dimKeys;
  private final String[] dimValues;
  private final String[] valueNames;
  private final double[] valueNumbers;
  private final StringCache strings = new StringCache(8192);
  private final DimsCache dimsCache = new DimsCache(16384);
  /** Shared between consecutive events with the same value names; events never modify it. */
  private String[] lastNames;
  /** The tenant of the events being read: every event of a body is a stream of its caller's tenant. */
  private String tenant = StreamId.DEFAULT_TENANT;
  /** Stream ids of {@link #tenant} by name (names come from {@link #strings}, so the last one matches by identity). */
  private final java.util.HashMap<String, StreamId> ids = new java.util.HashMap<>();
  private String lastStreamName;
  private StreamId lastStreamId;

  public EventParser(PulseConfig.Ingest limits) {
    this.limits = limits;
    this.dimKeys = new String[limits.maxDims() + 1];
    this.dimValues = new String[limits.maxDims() + 1];
    this.valueNames = new String[limits.maxValues() + 1];
    this.valueNumbers = new double[limits.maxValues() + 1];
  }

  /**
   * Parses a body in one go.
   *
   * @param pathStream the stream named by the URL path, or null
   * @param arrival processing time of the request, the default event time
   * @throws BodyException when the body as a whole cannot be read or is too large
   */
  public ParseResult parse(byte[] body, BodyFormat format, String tenant, String pathStream, long arrival) {
    Parse job = start(body, format, tenant, pathStream, arrival);
    job.step(Integer.MAX_VALUE, Integer.MAX_VALUE);
    return job.result();
  }

  /**
   * Begins parsing a body that {@link Parse#step} then reads a slice at a time, so a large body need
   * not hold its thread for long. Parses of several bodies may be under way at once on this parser's
   * thread; each keeps its own state.
   */
  public Parse start(byte[] body, BodyFormat format, String tenant, String pathStream, long arrival) {
    if (!StreamId.validTenant(tenant)) {
      throw new IllegalArgumentException("tenant id must be " + StreamId.NAME_RULE);
    }
    return new Parse(body, format, tenant, pathStream, arrival);
  }

  /**
   * One body being parsed. The answer is the same whatever the slices: {@link #step} with no limit
   * does what a run of small steps does.
   */
  public final class Parse {
    private static final int JSON_START = 0;
    private static final int JSON_ARRAY = 1;
    private static final int LINES_START = 2;
    /** NDJSON, one parser over the whole body while every object sits on its own line. */
    private static final int LINES_FAST = 3;
    /** NDJSON, line by line from {@link #slowAt}. */
    private static final int LINES_SLOW = 4;
    private static final int DONE = 5;

    private final byte[] body;
    private final String tenant;
    private final String pathStream;
    private final long arrival;
    private final List<Event> events = new ArrayList<>();
    private final List<Rejection> rejections = new ArrayList<>(0);
    private int[] indices = new int[64];
    private int indexCount;
    private int state;
    private JsonParser p;
    /** Index of the next event of the body. */
    private int index;
    // NDJSON fast pass: the state before the last event read, to undo it if its line turns out to be broken
    private int lastLine;
    private int lastLineStart;
    private int lastIndex;
    private int lastEvents;
    private int lastRejections;
    private int lastIndexCount;
    private int slowAt;

    private Parse(byte[] body, BodyFormat format, String tenant, String pathStream, long arrival) {
      this.tenant = tenant;
      this.body = body;
      this.pathStream = pathStream;
      this.arrival = arrival;
      this.state = format == BodyFormat.NDJSON ? LINES_START : JSON_START;
    }

    public boolean done() {
      return state == DONE;
    }

    /** The events and rejections; once {@link #done()}. */
    public ParseResult result() {
      if (state != DONE) {
        throw new IllegalStateException("the body is not parsed yet");
      }
      return new ParseResult(events, java.util.Arrays.copyOf(indices, indexCount), rejections);
    }

    /**
     * Reads on until the body is done, or about {@code maxEvents} events or {@code maxBytes} bytes
     * later (a slice ends after the event that crosses it).
     *
     * @return the events read (kept or rejected) in this step
     * @throws BodyException when the body as a whole cannot be read or is too large (nothing is kept)
     */
    public int step(int maxEvents, int maxBytes) {
      int before = index;
      forTenant(tenant);
      try {
        switch (state) {
          case JSON_START:
          case JSON_ARRAY:
            json(maxEvents, maxBytes);
            break;
          case LINES_START:
          case LINES_FAST:
          case LINES_SLOW:
            lines(maxEvents, maxBytes);
            break;
          default:
            break;
        }
      } catch (RuntimeException e) {
        close();
        state = DONE;
        throw e;
      }
      return index - before;
    }

    private void close() {
      if (p != null) {
        try {
          p.close();
        } catch (IOException e) {
          // a parser over a byte array has nothing to release
        }
        p = null;
      }
    }

    private void keep(Event ev, int at) {
      events.add(ev);
      if (indexCount == indices.length) {
        indices = java.util.Arrays.copyOf(indices, indexCount * 2);
      }
      indices[indexCount++] = at;
    }

    /** Whether a step that began at byte {@code from} has used its budget. */
    private boolean spent(int read, int maxEvents, long from, int maxBytes) {
      return read >= maxEvents || (maxBytes < body.length && p.currentLocation().getByteOffset() - from >= maxBytes);
    }

    private void json(int maxEvents, int maxBytes) {
      try {
        if (state == JSON_START) {
          p = FACTORY.createParser(body);
          JsonToken root = p.nextToken();
          if (root == null) {
            throw new BodyException(400, "the body is empty; send a JSON object, an array of objects, or NDJSON");
          }
          if (root == JsonToken.START_OBJECT) {
            one();
            index++;
            endJson();
            return;
          }
          if (root != JsonToken.START_ARRAY) {
            throw new BodyException(400, "the body must be a JSON object or an array of objects");
          }
          state = JSON_ARRAY;
        }
        long from = maxBytes < body.length ? p.currentLocation().getByteOffset() : 0;
        int read = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
          if (t == null) {
            throw new BodyException(400, "the body is not valid JSON: the array is not closed");
          }
          checkCount(index);
          if (t == JsonToken.START_OBJECT) {
            one();
          } else {
            int start = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            p.finishToken(); // a string is read lazily: without this its slice would end after the opening quote
            rejections.add(new Rejection(index, "an event must be a JSON object", pathStream,
                slice(body, start, (int) p.currentLocation().getByteOffset())));
          }
          index++;
          if (spent(++read, maxEvents, from, maxBytes)) {
            return;
          }
        }
        endJson();
      } catch (JsonProcessingException e) {
        throw new BodyException(400, "the body is not valid JSON: " + describe(e));
      } catch (IOException e) {
        throw new BodyException(400, "the body could not be read: " + Texts.escape(e.getMessage()));
      }
    }

    private void endJson() throws IOException {
      if (p.nextToken() != null) {
        throw new BodyException(400, "the body holds more than one JSON value; for one object a line, "
            + "send Content-Type: application/x-ndjson");
      }
      close();
      state = DONE;
    }

    /** One object of a JSON body; the parser stands on its START_OBJECT. */
    private void one() throws IOException {
      int start = (int) p.currentTokenLocation().getByteOffset();
      Event ev = readEvent(p, pathStream, arrival, rejections, index, body, start);
      if (ev != null) {
        keep(ev, index);
      }
    }

    /**
     * NDJSON: one parser walks the whole body while every object sits on its own line (the common
     * case, and much cheaper than a parser per line). At the first line that breaks the rules, the
     * events of that line are undone and line-by-line parsing takes over from there, so one broken
     * line costs only itself.
     */
    private void lines(int maxEvents, int maxBytes) {
      if (state == LINES_START) {
        try {
          p = FACTORY.createParser(body);
        } catch (IOException e) {
          throw new BodyException(400, "the body could not be read: " + Texts.escape(e.getMessage()));
        }
        state = LINES_FAST;
      }
      int read = 0;
      if (state == LINES_FAST) {
        read = fast(maxEvents, maxBytes);
        if (state == LINES_FAST) {
          return; // the step's budget is spent
        }
      }
      if (state == LINES_SLOW) {
        slowLines(maxEvents - read, maxBytes);
      }
      if (state == DONE && index == 0) {
        throw new BodyException(400, "the body is empty; send one JSON object a line");
      }
    }

    /** The fast pass, for one step; returns the events read. Leaves LINES_FAST when the body ends or a line breaks the rules. */
    private int fast(int maxEvents, int maxBytes) {
      int read = 0;
      try {
        long from = maxBytes < body.length ? p.currentLocation().getByteOffset() : 0;
        JsonToken t;
        while ((t = p.nextToken()) != null) {
          com.fasterxml.jackson.core.JsonLocation at = p.currentTokenLocation();
          int line = at.getLineNr();
          int offset = (int) at.getByteOffset();
          if (t != JsonToken.START_OBJECT || line == lastLine || offset < 0) {
            toSlow(line == lastLine ? lastLineStart : lineStart(body, offset));
            return read;
          }
          checkCount(index);
          lastLine = line;
          lastLineStart = lineStart(body, offset);
          lastIndex = index;
          lastEvents = events.size();
          lastRejections = rejections.size();
          lastIndexCount = indexCount;
          Event ev = readEvent(p, pathStream, arrival, rejections, index, body, offset);
          if (ev != null) {
            keep(ev, index);
          }
          index++;
          read++;
          if (p.currentLocation().getLineNr() != line) {
            toSlow(lastLineStart); // an object spread over lines: each line must stand alone
            return read;
          }
          if (spent(read, maxEvents, from, maxBytes)) {
            return read;
          }
        }
        close();
        state = DONE;
      } catch (JsonProcessingException e) {
        // the parser may have run past the broken line; re-read from the line of the last event begun
        toSlow(lastLineStart);
      } catch (IOException e) {
        throw new BodyException(400, "the body could not be read: " + Texts.escape(e.getMessage()));
      }
      return read;
    }

    /** Leaves the fast pass: line by line from {@code resumeAt}, after undoing the last event if its line is re-read. */
    private void toSlow(int resumeAt) {
      close();
      if (index > 0 && resumeAt <= lastLineStart) {
        index = lastIndex;
        while (events.size() > lastEvents) {
          events.remove(events.size() - 1);
        }
        while (rejections.size() > lastRejections) {
          rejections.remove(rejections.size() - 1);
        }
        indexCount = lastIndexCount;
      }
      slowAt = resumeAt;
      state = LINES_SLOW;
    }

    /** Line by line from {@link #slowAt}, for one step. */
    private void slowLines(int maxEvents, int maxBytes) {
      int n = body.length;
      int start = slowAt;
      int from = start;
      int read = 0;
      while (start < n) {
        if (read >= Math.max(1, maxEvents) || (start - from >= maxBytes && read > 0)) {
          slowAt = start;
          return;
        }
        int end = start;
        while (end < n && body[end] != '\n') {
          end++;
        }
        int s = start;
        int e = end;
        while (s < e && isSpace(body[s])) {
          s++;
        }
        while (e > s && isSpace(body[e - 1])) {
          e--;
        }
        if (e > s) {
          checkCount(index);
          line(s, e);
          index++;
          read++;
        }
        start = end + 1;
      }
      slowAt = n;
      state = DONE;
    }

    private void line(int s, int e) {
      try (JsonParser lp = FACTORY.createParser(body, s, e - s)) {
        if (lp.nextToken() != JsonToken.START_OBJECT) {
          rejections.add(new Rejection(index, "an event must be a JSON object", pathStream, slice(body, s, e)));
          return;
        }
        int before = rejections.size();
        Event ev = readEvent(lp, pathStream, arrival, rejections, index, body, s);
        if (ev != null && lp.nextToken() != null) {
          rejections.add(new Rejection(index, "a line must hold exactly one JSON object", ev.stream().name(),
              slice(body, s, e)));
          return;
        }
        if (ev != null) {
          keep(ev, index);
        } else if (rejections.size() > before) {
          // readEvent sliced from the object; in NDJSON the line is the payload
          Rejection r = rejections.remove(rejections.size() - 1);
          rejections.add(new Rejection(r.index(), r.error(), r.stream(), slice(body, s, e)));
        }
      } catch (JsonProcessingException ex) {
        rejections.add(new Rejection(index, "not valid JSON: " + describe(ex), pathStream, slice(body, s, e)));
      } catch (IOException ex) {
        rejections.add(new Rejection(index, "could not be read: " + Texts.escape(ex.getMessage()), pathStream,
            slice(body, s, e)));
      }
    }
  }

  private static int lineStart(byte[] body, int offset) {
    int i = Math.max(0, Math.min(offset, body.length));
    while (i > 0 && body[i - 1] != '\n') {
      i--;
    }
    return i;
  }
  /**
   * Reads the fields of one event object up to its END_OBJECT. On the first problem it notes the
   * reason, skips the rest of the object and returns null after adding a rejection.
   */
  private Event readEvent(JsonParser p, String pathStream, long arrival, List<Rejection> rejections,
      int index, byte[] body, int start) throws IOException {
    String stream = null;
    long ts = arrival;
    String id = null;
    int dims = 0;
    int values = 0;
    boolean sawValues = false;
    String error = null;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_OBJECT) {
      if (t != JsonToken.FIELD_NAME) {
        throw new BodyException(400, "the body is not valid JSON: expected a field name");
      }
      String field = p.currentName();
      JsonToken v = p.nextToken();
      if (error != null) {
        p.skipChildren();
        continue;
      }
      switch (field) {
        case "stream":
          if (v != JsonToken.VALUE_STRING) {
            error = "stream: must be a string";
          } else {
            stream = strings.get(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
            if (stream == null || !StreamId.validName(stream)) {
              // null: not even storable text, and so not carried into the quarantine's stream column
              error = "stream: \"" + clip(stream != null ? stream : p.getText()) + "\" does not match [a-z0-9_.-]{1,64}";
            }
          }
          break;
        case "ts":
          if (v == JsonToken.VALUE_NUMBER_INT) {
            try {
              ts = p.getLongValue();
            } catch (IOException e) {
              error = "ts: " + clip(p.getText()) + " is outside 1970 to 9999";
            }
          } else if (v == JsonToken.VALUE_STRING) {
            try {
              ts = Times.parseInstant(p.getText());
            } catch (IllegalArgumentException e) {
              error = "ts: " + e.getMessage();
            }
          } else if (v == JsonToken.VALUE_NULL) {
            ts = arrival;
          } else {
            error = "ts: must be epoch milliseconds (a whole number) or an ISO-8601 string";
          }
          if (error == null && ts < 0) {
            error = "ts: must not be before 1970";
          } else if (error == null && ts < EPOCH_SECONDS_LIMIT) {
            error = "ts: " + ts + " looks like epoch seconds; send epoch milliseconds (or an ISO-8601 string)";
          } else if (error == null && ts > arrival + limits.maxFutureSkewMs()) {
            error = "ts: more than " + limits.maxFutureSkewMs() + " ms in the future";
          } else if (error == null && ts > Times.MAX_MS) {
            error = "ts: " + ts + " is outside 1970 to 9999";
          }
          break;
        case "id":
          if (v == JsonToken.VALUE_STRING) {
            id = p.getText();
            if (id.length() > limits.maxIdLength()) {
              error = "id: longer than " + limits.maxIdLength() + " characters";
            } else {
              String why = Texts.unstorable(id);
              if (why != null) {
                error = "id: " + why;
              }
            }
          } else if (v == JsonToken.VALUE_NUMBER_INT) {
            id = p.getText();
          } else if (v != JsonToken.VALUE_NULL) {
            error = "id: must be a string";
          }
          break;
        case "dims":
          if (v == JsonToken.VALUE_NULL) {
            break;
          }
          if (v != JsonToken.START_OBJECT) {
            error = "dims: must be an object of string values";
            p.skipChildren();
            break;
          }
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken dv = p.nextToken();
            if (error != null) {
              p.skipChildren();
              continue;
            }
            if (dims == limits.maxDims()) {
              error = "dims: more than " + limits.maxDims() + " keys";
            } else if (!validName(key)) {
              error = "dims: key \"" + clip(key) + "\" must match [A-Za-z0-9_.:-]{1," + limits.maxNameLength() + "}";
            } else if (dv != JsonToken.VALUE_STRING) {
              error = "dims." + key + ": must be a string";
            } else {
              String val;
              if (p.getTextLength() > limits.maxDimValueLength()) {
                error = "dims." + key + ": longer than " + limits.maxDimValueLength() + " characters";
              } else if ((val = strings.get(p.getTextCharacters(), p.getTextOffset(), p.getTextLength())) == null) {
                error = "dims." + key + ": " + Texts.unstorable(p.getText());
              } else {
                dimKeys[dims] = key;
                dimValues[dims++] = val;
              }
            }
            p.skipChildren();
          }
          break;
        case "values":
          sawValues = true;
          if (v != JsonToken.START_OBJECT) {
            error = "values: must be an object of name -> number";
            p.skipChildren();
            break;
          }
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken nv = p.nextToken();
            if (error != null) {
              p.skipChildren();
              continue;
            }
            if (values == limits.maxValues()) {
              error = "values: more than " + limits.maxValues() + " names";
            } else if (!validName(name)) {
              error = "values: name \"" + clip(name) + "\" must match [A-Za-z0-9_.:-]{1," + limits.maxNameLength() + "}";
            } else if (nv != JsonToken.VALUE_NUMBER_INT && nv != JsonToken.VALUE_NUMBER_FLOAT) {
              error = "values." + name + ": must be a number";
            } else {
              double d = p.getDoubleValue();
              if (!Double.isFinite(d)) {
                error = "values." + name + ": must be a finite number";
              } else if (d > MAX_ABS_VALUE || d < -MAX_ABS_VALUE) {
                error = "values." + name + ": " + d + " is outside the range percentiles can hold, -1e308 to 1e308";
              } else if (indexOf(valueNames, values, name) >= 0) {
                error = "values." + name + ": given twice";
              } else {
                valueNames[values] = name;
                valueNumbers[values++] = d;
              }
            }
            p.skipChildren();
          }
          break;
        default:
          p.skipChildren(); // unknown fields are allowed, for clients newer than the server
      }
    }
    if (error == null) {
      if (stream == null) {
        stream = pathStream;
        if (stream == null) {
          error = "stream: required (or post to /api/v1/streams/{stream}/events)";
        }
      } else if (pathStream != null && !pathStream.equals(stream)) {
        error = "stream: \"" + stream + "\" differs from the stream in the path, \"" + pathStream + "\"";
      }
    }
    if (error == null && (!sawValues || values == 0)) {
      error = "values: required, with at least one name -> number";
    }
    Dims d = null;
    if (error == null) {
      d = dimsCache.get(dimKeys, dimValues, dims);
      if (d == null) {
        error = "dims: a key is given twice";
      }
    }
    if (error != null) {
      int end = (int) p.currentLocation().getByteOffset();
      rejections.add(new Rejection(index, error, stream != null ? stream : pathStream, slice(body, start, end)));
      return null;
    }
    String[] names = sameNames(values);
    double[] nums = new double[values];
    System.arraycopy(valueNumbers, 0, nums, 0, values);
    return new Event(streamId(stream), ts, id, d, names, nums, arrival);
  }

  /** Makes {@code t} the tenant of the events read next (each step of a body sets its own). */
  private void forTenant(String t) {
    if (!t.equals(tenant)) {
      tenant = t;
      ids.clear();
      lastStreamName = null;
      lastStreamId = null;
    }
  }

  /** One StreamId per tenant and name, so the events of a body share it (routing compares by identity). */
  private StreamId streamId(String name) {
    if (name == lastStreamName) {
      return lastStreamId;
    }
    StreamId id = ids.get(name);
    if (id == null) {
      if (ids.size() >= 1024) {
        ids.clear();
      }
      id = StreamId.of(tenant, name);
      ids.put(name, id);
    }
    lastStreamName = name;
    lastStreamId = id;
    return id;
  }

  /** The previous event's names array when this one has the same names in the same order (the usual case). */
  private String[] sameNames(int n) {
    String[] last = lastNames;
    if (last != null && last.length == n) {
      boolean same = true;
      for (int i = 0; i < n; i++) {
        if (last[i] != valueNames[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return last;
      }
    }
    String[] names = new String[n];
    System.arraycopy(valueNames, 0, names, 0, n);
    lastNames = names;
    return names;
  }

  private void checkCount(int index) {
    if (index >= limits.maxEventsPerRequest()) {
      throw new BodyException(413, "more than " + limits.maxEventsPerRequest()
          + " events in one request (ingest.maxEventsPerRequest); split the batch");
    }
  }

  /** Epoch ms from an ISO-8601 string (with Z or an offset) or a string of digits; MIN_VALUE if neither or out of range. */
  static long parseTime(String text) {
    try {
      return Times.parseInstant(text);
    } catch (IllegalArgumentException e) {
      return Long.MIN_VALUE;
    }
  }

  /** Names already found valid, by identity: Jackson hands out one String per distinct field name. */
  private final String[] validNames = new String[256];

  private boolean validName(String s) {
    int slot = s.hashCode() & (validNames.length - 1);
    if (validNames[slot] == s) {
      return true;
    }
    if (!checkName(s)) {
      return false;
    }
    validNames[slot] = s;
    return true;
  }

  private boolean checkName(String s) {
    int n = s.length();
    if (n == 0 || n > limits.maxNameLength()) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '.' || c == '-' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(String[] names, int n, String name) {
    for (int i = 0; i < n; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static String slice(byte[] body, int start, int end) {
    start = Math.max(0, Math.min(start, body.length));
    end = Math.max(start, Math.min(end, body.length));
    String s = new String(body, start, end - start, StandardCharsets.UTF_8);
    // a raw NUL byte (outside any JSON string: the line was refused for it) cannot be stored as text
    return s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
  }

  private static String clip(String s) {
    return Texts.clip(s);
  }

  private static String describe(JsonProcessingException e) {
    String msg = e.getOriginalMessage();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    msg = Texts.escape(msg);
    if (e.getLocation() != null) {
      msg += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }
    return msg;
  }
}

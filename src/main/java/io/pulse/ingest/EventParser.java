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
import java.util.Arrays;
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

  /** The dim key of the overflow series ({@code View.OVERFLOW_KEY}): Pulse's own, refused in events. */
  private static final String OVERFLOW_KEY = io.pulse.agg.View.OVERFLOW_KEY;

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
  private final boolean quickPass;
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
    this(limits, true);
  }

  /** @param quickPass whether NDJSON lines of the usual shape skip Jackson (off: for tests comparing the two) */
  EventParser(PulseConfig.Ingest limits, boolean quickPass) {
    this.quickPass = quickPass;
    this.limits = limits;
    this.dimsRule = RULES.computeIfAbsent(List.of(limits.maxDims(), limits.maxNameLength(), limits.maxDimValueLength()),
        k -> (long) RULES.size());
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
    /** NDJSON, line by line from {@link #quickAt} straight from the bytes (see {@link EventParser#quick}). */
    private static final int LINES_QUICK = 6;
    /** NDJSON, one Jackson parser from {@link #base} while every object sits on its own line. */
    private static final int LINES_FAST = 3;
    /** NDJSON, line by line from {@link #slowAt}. */
    private static final int LINES_SLOW = 4;
    private static final int DONE = 5;

    private final byte[] body;
    private final String tenant;
    private final String pathStream;
    private final long arrival;
    private final List<Event> events;
    private final List<Rejection> rejections = new ArrayList<>(0);
    private int[] indices;
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
    private int quickAt;
    /** Where the fast pass's parser starts in the body: its byte offsets count from here. */
    private int base;

    private Parse(byte[] body, BodyFormat format, String tenant, String pathStream, long arrival) {
      this.tenant = tenant;
      this.body = body;
      this.pathStream = pathStream;
      this.arrival = arrival;
      this.state = format == BodyFormat.NDJSON ? LINES_START : JSON_START;
      // room for the events of a body of ~100-byte events, so the lists rarely grow while it is read
      int guess = Math.min(body.length / 64 + 16, 8192);
      this.events = new ArrayList<>(guess);
      this.indices = new int[guess];
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
          case LINES_QUICK:
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
      Event ev = readEvent(p, pathStream, arrival, rejections, index, body, start, 0);
      if (ev != null) {
        keep(ev, index);
      }
    }

    /**
     * NDJSON: lines of the usual shape are read straight from the bytes ({@link EventParser#quick}),
     * the cheapest way. From the first line that is not, one Jackson parser walks the rest of the
     * body while every object sits on its own line (much cheaper than a parser per line). At the
     * first line that breaks the rules, the events of that line are undone and line-by-line parsing
     * takes over from there, so one broken line costs only itself. The quick pass takes a line only
     * when it makes of it the event Jackson's pass would, so the answer is the same either way.
     */
    private void lines(int maxEvents, int maxBytes) {
      if (state == LINES_START) {
        state = quickPass ? LINES_QUICK : LINES_FAST;
        if (state == LINES_FAST) {
          toJackson(0);
        }
      }
      int read = 0;
      if (state == LINES_QUICK) {
        read = quickLines(maxEvents, maxBytes);
        if (state == LINES_QUICK) {
          return; // the step's budget is spent
        }
      }
      if (state == LINES_FAST) {
        read += fast(maxEvents - read, maxBytes);
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

    /** The quick pass, for one step; returns the events read. Leaves LINES_QUICK when the body ends or a line needs Jackson. */
    private int quickLines(int maxEvents, int maxBytes) {
      byte[] b = body;
      int n = b.length;
      int i = quickAt;
      int from = i;
      int read = 0;
      while (true) {
        while (i < n && isSpace(b[i])) {
          i++; // blank lines and the space between objects
        }
        if (i >= n) {
          break;
        }
        if (read >= Math.max(1, maxEvents) || (i - from >= maxBytes && read > 0)) {
          quickAt = i;
          return read;
        }
        Event ev = b[i] == '{' ? quick(b, i, pathStream, arrival) : null;
        if (ev == null) {
          toJackson(lineStart(b, i));
          return read;
        }
        checkCount(index);
        keep(ev, index);
        quickTaken++;
        index++;
        read++;
        i = qi;
      }
      quickAt = n;
      state = DONE;
      return read;
    }

    /**
     * Hands the body from {@code at}, the start of a line, to the Jackson pass: the state the fast
     * pass would be in there, with nothing of the line begun. Its parser then reads from {@code at}
     * as one over the whole body would: unless the bytes there could pass for a byte-order mark or
     * for UTF-16 or UTF-32 (which a parser starting there would detect), and those go line by line,
     * as the fast pass goes at the error they make.
     */
    private void toJackson(int at) {
      int n = body.length;
      if (at > 0) {
        boolean odd = body[at] < 0;
        for (int k = at; k < Math.min(n, at + 4); k++) {
          odd |= body[k] == 0;
        }
        if (odd) {
          slowAt = at;
          state = LINES_SLOW;
          return;
        }
      }
      try {
        p = FACTORY.createParser(body, at, n - at);
      } catch (IOException e) {
        throw new BodyException(400, "the body could not be read: " + Texts.escape(e.getMessage()));
      }
      base = at;
      lastLine = 0;
      lastLineStart = at;
      lastIndex = index;
      lastEvents = events.size();
      lastRejections = rejections.size();
      lastIndexCount = indexCount;
      state = LINES_FAST;
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
          long raw = at.getByteOffset();
          int offset = raw < 0 ? -1 : base + (int) raw;
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
          Event ev = readEvent(p, pathStream, arrival, rejections, index, body, offset, base);
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
        Event ev = readEvent(lp, pathStream, arrival, rejections, index, body, s, 0);
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

  // ---- the quick NDJSON pass: plain lines read straight from the bytes ----

  /** Interned names (dims keys, value names) read from bytes: the instances Jackson hands out too. */
  private final StringCache names = new StringCache(1024, true);
  /** Lines the quick pass took, for tests. */
  long quickTaken;
  /** The stream of the line read last, as its bytes and its text. */
  private byte[] lastStreamBytes;
  private String lastStreamText;
  /** The value names of the line read last, by position, as bytes and text (checked names only). */
  private final byte[][] nameBytes = new byte[8][];
  private final String[] nameTexts = new String[8];
  /** Dims by the exact bytes of their JSON object, shared by every parser so all hand out one Dims per series. */
  private static final SpanCache SPANS = new SpanCache(32768);
  /** The limits a dims object is checked under, as one number: {@link #SPANS} entries hold only for the same. */
  private final long dimsRule;
  private static final java.util.concurrent.ConcurrentHashMap<List<Integer>, Long> RULES =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** The quick reader's position in the line it reads. */
  private int qi;
  /** Exact powers of ten as doubles (10^22 is the largest one a double holds exactly). */
  private static final double[] POW10 = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
      1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  private static final int F_STREAM = 1;
  private static final int F_TS = 2;
  private static final int F_ID = 4;
  private static final int F_DIMS = 8;
  private static final int F_VALUES = 16;

  /**
   * Reads one NDJSON line straight from its bytes, for the common case: one flat event object whose
   * strings are plain ASCII (no escapes) and which is valid as it stands. Returns the event Jackson's
   * path ({@link #readEvent}) would make of the line, or null for any line it does not take (not
   * that shape, or an event to reject): the caller then reads the line with Jackson, which gives
   * the answer. Never adds a rejection.
   *
   * <p>On success {@link #qi} is at the start of the next line. Every scan stops at the body's end;
   * a line break can only come after the object (raw control characters are never taken).
   *
   * @param i the line's first byte after leading whitespace, which is '{'
   */
  private Event quick(byte[] b, int i, String pathStream, long arrival) {
    String stream = null;
    long ts = arrival;
    String id = null;
    Dims d = Dims.EMPTY;
    int values = 0;
    int seen = 0;
    int last = b.length; // every scan stops before it
    qi = i + 1;
    int c = skip(b, last);
    if (c != '"') {
      return null; // {} (no values) or not a field name
    }
    while (true) {
      // qi is on the opening quote of a field name
      int ns = qi + 1;
      int ne = plainString(b, ns, last);
      if (ne < 0 || ne - ns > 1000) {
        return null;
      }
      qi = ne + 1;
      if (skip(b, last) != ':') {
        return null;
      }
      qi++;
      c = skip(b, last);
      int field = field(b, ns, ne - ns);
      if ((seen & field) != 0) {
        return null; // a field given twice: Jackson's path reads both, in order
      }
      seen |= field;
      switch (field) {
        case F_STREAM: {
          if (c != '"') {
            return null;
          }
          byte[] lb = lastStreamBytes;
          if (lb != null && sameBytes(b, qi + 1, lb, last)) {
            stream = lastStreamText; // the stream of the previous line, as usual: already checked
            qi += lb.length + 2;
            break;
          }
          int ve = plainString(b, qi + 1, last);
          if (ve < 0) {
            return null;
          }
          stream = strings.get(b, qi + 1, ve - qi - 1);
          if (!StreamId.validName(stream)) {
            return null;
          }
          lastStreamBytes = Arrays.copyOfRange(b, qi + 1, ve);
          lastStreamText = stream;
          qi = ve + 1;
          break;
        }
        case F_TS:
          if (c == 'n') {
            if (!literal(b, "null", last)) {
              return null;
            }
            ts = arrival;
          } else if (c == '"') {
            int ve = plainString(b, qi + 1, last);
            if (ve < 0) {
              return null;
            }
            try {
              ts = Times.parseInstant(new String(b, qi + 1, ve - qi - 1, StandardCharsets.ISO_8859_1));
            } catch (IllegalArgumentException e) {
              return null;
            }
            qi = ve + 1;
          } else {
            ts = wholeNumber(b, last);
            if (ts == Long.MIN_VALUE) {
              return null;
            }
          }
          if (ts < EPOCH_SECONDS_LIMIT || ts > arrival + limits.maxFutureSkewMs() || ts > Times.MAX_MS) {
            return null;
          }
          break;
        case F_ID:
          if (c == 'n') {
            if (!literal(b, "null", last)) {
              return null;
            }
            id = null;
          } else if (c == '"') {
            int ve = plainString(b, qi + 1, last);
            if (ve < 0 || ve - qi - 1 > limits.maxIdLength()) {
              return null;
            }
            id = new String(b, qi + 1, ve - qi - 1, StandardCharsets.ISO_8859_1);
            qi = ve + 1;
          } else {
            int ie = integerToken(b, qi, last);
            if (ie < 0) {
              return null;
            }
            id = new String(b, qi, ie - qi, StandardCharsets.ISO_8859_1); // Jackson's getText: the number as sent
            qi = ie;
          }
          break;
        case F_DIMS:
          if (c == 'n') {
            if (!literal(b, "null", last)) {
              return null;
            }
            break;
          }
          if (c != '{') {
            return null;
          }
          int ds = qi;
          int de = ds + 1; // the first closing brace: the dims' own, unless a value holds one
          while (de < last && b[de] != '}') {
            de++;
          }
          if (de >= last) {
            return null;
          }
          Dims known = SPANS.get(b, ds, de + 1, dimsRule);
          if (known != null) {
            d = known; // these very bytes made these dims before
            qi = de + 1;
            break;
          }
          int dims = 0;
          qi++;
          c = skip(b, last);
          if (c != '}') {
            while (true) {
              if (c != '"') {
                return null;
              }
              int ks = qi + 1;
              int ke = plainString(b, ks, last);
              if (ke < 0 || ke - ks > limits.maxNameLength() || dims == limits.maxDims()) {
                return null;
              }
              String key = names.get(b, ks, ke - ks);
              if (!validName(key) || OVERFLOW_KEY.equals(key)) {
                return null; // the full parser says why
              }
              qi = ke + 1;
              if (skip(b, last) != ':') {
                return null;
              }
              qi++;
              if (skip(b, last) != '"') {
                return null;
              }
              int vs = qi + 1;
              int ve = plainString(b, vs, last);
              if (ve < 0 || ve - vs > limits.maxDimValueLength()) {
                return null;
              }
              dimKeys[dims] = key;
              dimValues[dims++] = strings.get(b, vs, ve - vs);
              qi = ve + 1;
              c = skip(b, last);
              if (c == '}') {
                break;
              }
              if (c != ',') {
                return null;
              }
              qi++;
              c = skip(b, last);
            }
          }
          d = dimsCache.get(dimKeys, dimValues, dims);
          if (d == null) {
            return null; // a key given twice
          }
          if (qi == de) {
            SPANS.put(b, ds, de + 1, d, dimsRule);
          }
          qi++; // the dims' closing brace
          break;
        case F_VALUES:
          if (c != '{') {
            return null;
          }
          qi++;
          c = skip(b, last);
          while (true) {
            if (c != '"') {
              return null; // also {}: values are required
            }
            if (values == limits.maxValues()) {
              return null;
            }
            String name;
            byte[] nb = values < nameBytes.length ? nameBytes[values] : null;
            if (nb != null && sameBytes(b, qi + 1, nb, last)) {
              name = nameTexts[values]; // the name the previous line had here: already checked
              qi += nb.length + 2;
            } else {
              int ks = qi + 1;
              int ke = plainString(b, ks, last);
              if (ke < 0 || ke - ks > limits.maxNameLength()) {
                return null;
              }
              name = names.get(b, ks, ke - ks);
              if (!validName(name)) {
                return null;
              }
              if (values < nameBytes.length) {
                nameBytes[values] = Arrays.copyOfRange(b, ks, ke);
                nameTexts[values] = name;
              }
              qi = ke + 1;
            }
            for (int k = 0; k < values; k++) {
              if (valueNames[k] == name) { // interned names: the same text is the same instance
                return null;
              }
            }
            if (skip(b, last) != ':') {
              return null;
            }
            qi++;
            skip(b, last);
            double x = number(b, last);
            if (Double.isNaN(x) || x > MAX_ABS_VALUE || x < -MAX_ABS_VALUE) {
              return null; // not a number, or out of range (Jackson's path rejects it)
            }
            valueNames[values] = name;
            valueNumbers[values++] = x;
            c = skip(b, last);
            if (c == '}') {
              break;
            }
            if (c != ',') {
              return null;
            }
            qi++;
            c = skip(b, last);
          }
          qi++; // the values' closing brace
          break;
        default:
          if (!skipScalar(b, c, last)) {
            return null;
          }
      }
      c = skip(b, last);
      if (c == ',') {
        qi++;
        if (skip(b, last) != '"') {
          return null;
        }
        continue;
      }
      if (c != '}') {
        return null;
      }
      qi++;
      while (qi < last && (b[qi] == ' ' || b[qi] == '\t' || b[qi] == '\r')) {
        qi++;
      }
      if (qi < last) {
        if (b[qi] != '\n') {
          return null; // more after the object on its line
        }
        qi++;
      }
      break;
    }
    if (stream == null) {
      stream = pathStream;
      if (stream == null) {
        return null;
      }
    } else if (pathStream != null && !pathStream.equals(stream)) {
      return null;
    }
    if (values == 0) {
      return null;
    }
    String[] nm = sameNames(values);
    double[] nums = new double[values];
    System.arraycopy(valueNumbers, 0, nums, 0, values);
    return new Event(streamId(stream), ts, id, d, nm, nums, arrival);
  }

  /** Skips JSON whitespace (no CR: Jackson counts it as a line break) before {@code last}; the byte there, or -1. */
  private int skip(byte[] b, int last) {
    int i = qi;
    while (i < last) {
      byte c = b[i];
      if (c != ' ' && c != '\t') {
        qi = i;
        return c;
      }
      i++;
    }
    qi = i;
    return -1;
  }

  /**
   * Whether the bytes at {@code at} are {@code text} and a closing quote ({@code text} holds no
   * quote), before {@code last}.
   */
  private static boolean sameBytes(byte[] b, int at, byte[] text, int last) {
    int n = text.length;
    if (at + n >= last || b[at + n] != '"') {
      return false;
    }
    for (int k = 0; k < n; k++) { // names are short: a plain loop beats Arrays.equals' set-up
      if (b[at + k] != text[k]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The end (the closing quote) of a string that starts at {@code from}, or -1 unless it is plain:
   * printable ASCII without escapes, closed before {@code last}.
   */
  private static int plainString(byte[] b, int from, int last) {
    for (int i = from; i < last; i++) {
      byte c = b[i];
      if (c == '"') {
        return i;
      }
      if (c < 0x20 || c == '\\') { // a control character, a non-ASCII byte (negative) or an escape
        return -1;
      }
    }
    return -1;
  }

  /** Which of the known fields a name is (its bit), or 0 for another name. */
  private static int field(byte[] b, int s, int n) {
    switch (n) {
      case 2:
        if (b[s] == 't' && b[s + 1] == 's') {
          return F_TS;
        }
        return b[s] == 'i' && b[s + 1] == 'd' ? F_ID : 0;
      case 4:
        return b[s] == 'd' && b[s + 1] == 'i' && b[s + 2] == 'm' && b[s + 3] == 's' ? F_DIMS : 0;
      case 6:
        if (b[s] == 's' && b[s + 1] == 't' && b[s + 2] == 'r' && b[s + 3] == 'e' && b[s + 4] == 'a'
            && b[s + 5] == 'm') {
          return F_STREAM;
        }
        return b[s] == 'v' && b[s + 1] == 'a' && b[s + 2] == 'l' && b[s + 3] == 'u' && b[s + 4] == 'e'
            && b[s + 5] == 's' ? F_VALUES : 0;
      default:
        return 0;
    }
  }

  /** Whether the literal {@code word} stands at {@link #qi} and ends there; moves past it. */
  private boolean literal(byte[] b, String word, int last) {
    int n = word.length();
    if (qi + n > last) {
      return false;
    }
    for (int k = 0; k < n; k++) {
      if (b[qi + k] != word.charAt(k)) {
        return false;
      }
    }
    qi += n;
    return delimited(b, last);
  }

  /** Whether a value that ends at {@link #qi} is followed by whitespace, a comma or a closing brace. */
  private boolean delimited(byte[] b, int last) {
    if (qi >= last) {
      return false;
    }
    byte c = b[qi];
    return c == ',' || c == '}' || c == ' ' || c == '\t';
  }

  /**
   * The end of a JSON integer token (-?(0|[1-9][0-9]*)) at {@code i} followed by a delimiter, or -1
   * when there is none (a float is not one).
   */
  private int integerToken(byte[] b, int i, int last) {
    int start = i;
    if (i < last && b[i] == '-') {
      i++;
    }
    if (i >= last || b[i] < '0' || b[i] > '9') {
      return -1;
    }
    if (b[i] == '0') {
      i++;
    } else {
      while (i < last && b[i] >= '0' && b[i] <= '9') {
        i++;
      }
    }
    if (i - start > 100 || i >= last) {
      return -1;
    }
    byte c = b[i];
    return c == ',' || c == '}' || c == ' ' || c == '\t' ? i : -1;
  }

  /** Skips an unknown field's value when it is a plain string, a number, true, false or null. */
  private boolean skipScalar(byte[] b, int c, int last) {
    switch (c) {
      case '"': {
        int e = plainString(b, qi + 1, last);
        if (e < 0) {
          return false;
        }
        qi = e + 1;
        return true;
      }
      case 't':
        return literal(b, "true", last);
      case 'f':
        return literal(b, "false", last);
      case 'n':
        return literal(b, "null", last);
      default:
        return !Double.isNaN(number(b, last));
    }
  }

  /**
   * A JSON integer of at most 18 digits at {@link #qi} that is not negative (what a valid ts is);
   * Long.MIN_VALUE when it is anything else. Moves past what it read.
   */
  private long wholeNumber(byte[] b, int last) {
    int i = qi;
    if (i >= last || b[i] < '0' || b[i] > '9') {
      return Long.MIN_VALUE;
    }
    if (b[i] == '0' && i + 1 < last && b[i + 1] >= '0' && b[i + 1] <= '9') {
      return Long.MIN_VALUE; // a leading zero: not JSON
    }
    long v = 0;
    int start = i;
    if (i + 8 <= last) {
      long w = (long) LONGS.get(b, i);
      if (eightDigits(w)) {
        v = eightDigitsValue(w); // a 13-digit ts: the first 8 digits at once
        i += 8;
      }
    }
    while (i < last && b[i] >= '0' && b[i] <= '9') {
      v = v * 10 + (b[i] - '0');
      i++;
    }
    qi = i;
    if (i - start > 18 || !delimited(b, last)) {
      return Long.MIN_VALUE;
    }
    return v;
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /** Whether the 8 bytes of {@code w} (little-endian) are all ASCII digits. */
  private static boolean eightDigits(long w) {
    return ((w & 0xF0F0F0F0F0F0F0F0L) | (((w + 0x0606060606060606L) & 0xF0F0F0F0F0F0F0F0L) >>> 4))
        == 0x3333333333333333L;
  }

  /** The value of 8 ASCII digits read as one little-endian long, the first digit the most significant. */
  private static long eightDigitsValue(long w) {
    w -= 0x3030303030303030L;
    w = (w * 10) + (w >>> 8);
    return (((w & 0x000000FF000000FFL) * (100 + (1000000L << 32)))
        + (((w >>> 16) & 0x000000FF000000FFL) * (1 + (10000L << 32)))) >>> 32;
  }

  /**
   * A JSON number at {@link #qi} as Jackson's {@code getDoubleValue} gives it: an integer as its
   * long value's double, anything else as {@link Double#parseDouble} reads it (correctly rounded;
   * a short decimal is computed exactly here, one exact power of ten times or into an exact
   * mantissa, which is then the same double). NaN when it is not a plain JSON number, is not
   * followed by a delimiter, or is not finite. Moves past what it read.
   */
  private double number(byte[] b, int last) {
    int i = qi;
    int start = i;
    boolean neg = false;
    if (i < last && b[i] == '-') {
      neg = true;
      i++;
    }
    if (i >= last || b[i] < '0' || b[i] > '9') {
      return Double.NaN;
    }
    long m = 0;
    int digits = 0;
    if (b[i] == '0') {
      i++;
      if (i < last && b[i] >= '0' && b[i] <= '9') {
        return Double.NaN; // a leading zero: not JSON
      }
    } else {
      while (i < last && b[i] >= '0' && b[i] <= '9') {
        if (digits < 18) {
          m = m * 10 + (b[i] - '0');
        }
        digits++;
        i++;
      }
    }
    boolean whole = true;
    int scale = 0;
    if (i < last && b[i] == '.') {
      whole = false;
      i++;
      int from = i;
      while (i < last && b[i] >= '0' && b[i] <= '9') {
        if (digits < 18) {
          m = m * 10 + (b[i] - '0');
          scale++;
          if (m != 0) {
            digits++;
          }
        } else {
          digits++;
        }
        i++;
      }
      if (i == from) {
        return Double.NaN; // "1." is not JSON
      }
    }
    int exp = 0;
    if (i < last && (b[i] == 'e' || b[i] == 'E')) {
      whole = false;
      i++;
      boolean eneg = false;
      if (i < last && (b[i] == '+' || b[i] == '-')) {
        eneg = b[i] == '-';
        i++;
      }
      int from = i;
      while (i < last && b[i] >= '0' && b[i] <= '9') {
        if (i - from < 6) {
          exp = exp * 10 + (b[i] - '0');
        }
        i++;
      }
      if (i == from || i - from > 6) {
        return Double.NaN; // no exponent digits, or an exponent too long to bother with here
      }
      if (eneg) {
        exp = -exp;
      }
    }
    qi = i;
    if (i - start > 100 || !delimited(b, last)) {
      return Double.NaN;
    }
    if (whole && digits <= 18) {
      return (double) (neg ? -m : m); // as Jackson: an integer's long value, so -0 is 0.0
    }
    int e10 = exp - scale;
    if (!whole && digits <= 18 && m <= (1L << 53) && e10 >= -22 && e10 <= 22) {
      double v = e10 >= 0 ? m * POW10[e10] : m / POW10[-e10];
      return neg ? -v : v;
    }
    double v = Double.parseDouble(new String(b, start, i - start, StandardCharsets.ISO_8859_1));
    return Double.isFinite(v) ? v : Double.NaN;
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
      int index, byte[] body, int start, int base) throws IOException {
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
            } else if (OVERFLOW_KEY.equals(key)) {
              error = "dims." + OVERFLOW_KEY + ": reserved: it marks the series that events of new series past the "
                  + "series caps are folded into";
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
      int end = base + (int) p.currentLocation().getByteOffset();
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

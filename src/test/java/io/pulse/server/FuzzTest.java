package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.Mutator;
import io.pulse.testing.PgFixture;
import io.pulse.testing.RawWire;
import io.pulse.testing.RawWire.Answer;
import io.pulse.testing.RawWire.Frame;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against one real server (storage on): random and mutated ingest bodies with random
 * content types, encodings and framing; raw HTTP that breaks the protocol; hostile query
 * parameters; hostile WebSocket messages and frames. Every answer must be a 2xx, or a 4xx (or 503
 * with Retry-After) with a JSON {@code {"error":...}} body, or on WebSocket an error message or a
 * close frame with a reason; the server must stay live and ready; and the good events of stream
 * {@value #SENTINEL}, sent alone and inside fuzzed batches, must be counted exactly as acknowledged,
 * live and stored.
 *
 * <p>Replay: {@code -Dfuzz.seed=<seed>} (printed at the start), {@code -Dfuzz.seconds=<budget>}
 * (split over the families), {@code -Dfuzz.case=<family>:<n>} to run one case.
 * In the suite the budget is 8 s by default: family (a)'s corpus of hostile numbers, types and
 * shapes runs whole whatever the budget, and the random cases of every family run a few hundred
 * times, with the same seed, so a default run is reproducible and takes about 15 s. For the long
 * run (before a release, after touching ingest, HTTP or the live protocol) give it 42 s or more:
 * {@code ./mvnw test -Dtest=FuzzTest -Dfuzz.seconds=42} (about a minute), or another seed too.
 * Each case draws from {@code new Random(seed, family, n)} only, so a case number names the same
 * request whatever ran before it.
 */
class FuzzTest {

  static final String SENTINEL = "zsentinel";
  static final long SEED = Long.getLong("fuzz.seed", 20261203L);
  static final int SECONDS = Integer.getInteger("fuzz.seconds", 8);
  static final String ONLY = System.getProperty("fuzz.case", "");
  static final String FAMILIES = System.getProperty("fuzz.families", "abcd");
  static final int TIMEOUT_MS = 5000;
  static final int WS_TIMEOUT_MS = 3000;

  private static final String[] SEEDS = {
      "{\"stream\":\"fz\",\"ts\":%NOW%,\"dims\":{\"region\":\"eu\",\"store\":\"s1\"},\"values\":{\"amount\":12.5,\"items\":3}}",
      "{\"stream\":\"fz\",\"values\":{\"v\":1}}",
      "{\"stream\":\"fz\",\"ts\":\"%ISO%\",\"id\":\"abc\",\"dims\":{\"k\":\"v\"},\"values\":{\"x\":-1e3,\"y\":0.25}}",
      "{\"stream\":\"fz2\",\"ts\":%NOW%,\"dims\":{\"region\":\"us\"},\"values\":{\"ms\":7}}"};

  private TestPulse pulse;
  private LiveClient live;
  private long liveTotal;
  private long acknowledged;
  /** (time, acknowledged so far) after each acknowledgement, to see when the live total stops following. */
  private final java.util.ArrayDeque<long[]> ackHistory = new java.util.ArrayDeque<>();
  private int lagCheckedAt;
  private int sentinelPosts;
  private final Map<String, Integer> cases = new TreeMap<>();
  private final List<String> failures = new ArrayList<>();
  private final Map<String, Integer> kinds = new TreeMap<>();
  private byte[] gzipBomb;

  @Test
  @DisplayName("hostile bodies, headers, encodings, queries and WebSocket frames: JSON errors only, the server "
      + "stays ready, and good events alongside are counted exactly")
  void fuzz() throws Exception {
    System.out.println("FuzzTest seed " + SEED + " (replay with -Dfuzz.seed=" + SEED + "), budget " + SECONDS + " s");
    PgFixture.Db db = PgFixture.freshDatabase();
    long startMs = System.currentTimeMillis();
    pulse = TestPulse.startWithStorage(db, StorageServerTest.fast());
    try {
      live = LiveClient.websocket(pulse.port());
      live.send(new JsonObject().put("op", "subscribe").put("id", "total").put("stream", SENTINEL));
      live.await(m -> "subscribed".equals(m.type()), 10_000);

      run("a-ingest", SECONDS * 0.35, this::ingestCase);
      run("b-raw-http", SECONDS * 0.15, this::rawCase);
      run("c-query", SECONDS * 0.25, this::queryCase);
      run("d-websocket", SECONDS * 0.25, this::wsCase);

      // the junk streams' aggregates still read back as JSON: nothing a caller sent poisoned them
      for (String path : new String[] {"/api/v1/streams", "/api/v1/streams/fz/series?from=" + (startMs - 60_000)
          + "&step=1s", "/api/v1/streams/fz/series?from=" + (startMs - 60_000) + "&step=1s&groupBy=region"}) {
        try {
          TestPulse.Response r = pulse.get(path);
          if (r.status() != 200) {
            record("end", 0, "GET " + path, "answered " + r.status() + " " + cut(r.body(), 300));
          } else {
            new JsonObject(r.body());
          }
        } catch (RuntimeException e) {
          record("end", 0, "GET " + path, "no JSON answer: " + e);
        }
      }
      health("end");

      // every acknowledged sentinel event is in exactly one final window, live and stored
      long ack = acknowledged;
      long storedTotal = -1;
      long deadline = System.currentTimeMillis() + 15_000;
      while (System.currentTimeMillis() < deadline) {
        drainLive(200);
        storedTotal = stored(startMs);
        if (liveTotal == ack && storedTotal == ack) {
          break;
        }
      }
      System.out.println("FuzzTest cases per family: " + cases + "; sentinel events acknowledged " + ack + " in "
          + sentinelPosts + " answers; live final total " + liveTotal + ", stored total " + storedTotal);
      if (liveTotal != ack) {
        record("end", 0, "sentinel live total", "final rollups of " + SENTINEL + " add up to " + liveTotal
            + ", the 202 answers acknowledged " + ack);
      }
      if (storedTotal != ack) {
        record("end", 0, "sentinel stored total", "stored windows of " + SENTINEL + " add up to " + storedTotal
            + ", the 202 answers acknowledged " + ack);
      }
    } finally {
      if (live != null) {
        live.close();
      }
      try {
        pulse.close();
      } catch (RuntimeException e) {
        record("end", 0, "stopping the server", "it did not stop: " + e.getMessage());
      }
    }
    if (!failures.isEmpty()) {
      StringBuilder sb = new StringBuilder(failures.size() + " failures (seed " + SEED + "), by kind: " + kinds
          + "\n");
      failures.stream().limit(40).forEach(f -> sb.append("  ").append(f).append('\n'));
      System.out.println(sb);
      throw new AssertionError(sb.toString());
    }
    assertTrue(acknowledged > 0, "some sentinel events were acknowledged");
  }

  // ---- bookkeeping ----

  private void run(String family, double seconds, IntFunction<Void> oneCase) {
    String only = ONLY.isEmpty() ? null : ONLY.substring(0, ONLY.indexOf(':'));
    if (only != null && !family.startsWith(only) || FAMILIES.indexOf(family.charAt(0)) < 0) {
      return;
    }
    long end = System.nanoTime() + (long) (seconds * 1e9);
    int n = 0;
    if (only != null) {
      n = Integer.parseInt(ONLY.substring(ONLY.indexOf(':') + 1));
      oneCase.apply(n);
      cases.put(family, 1);
    } else {
      // family (a) runs its whole corpus whatever the budget; then every family runs until its budget is spent
      while ((System.nanoTime() < end || family.startsWith("a") && n < CORPUS.size()) && failures.size() < 300) {
        oneCase.apply(n);
        n++;
        if (n % 25 == 0) {
          sentinel(family, n);
        }
        if (n % 250 == 0) {
          lagCheck(family, n);
        }
        if (family.startsWith("a") && n == CORPUS.size()) {
          catchUp(family + " corpus (cases 0 to " + (n - 1) + ")");
        }
        if (n % 200 == 0 && !pulse.get("/health/live").body().contains("up")) {
          record(family, n, "GET /health/live", "the server is not live: stopping the family");
          break;
        }
      }
      cases.put(family, n);
    }
    health(family);
    catchUp(family);
  }

  private void drainLive(long ms) {
    for (LiveClient.Msg m : live.collect(ms)) {
      if ("rollup".equals(m.type()) && Boolean.TRUE.equals(m.json().getBoolean("final"))) {
        liveTotal += m.json().getLong("count");
      }
    }
  }

  private void noteAck(long events) {
    acknowledged += events;
    ackHistory.add(new long[] {System.currentTimeMillis(), acknowledged});
  }

  /**
   * The live total must have caught up with what was acknowledged 5 s ago (a window, its lateness
   * and a tick take under 1.5 s; the rest is slack for a busy machine).
   */
  private void lagCheck(String family, int n) {
    drainLive(1);
    long cutoff = System.currentTimeMillis() - 5_000;
    long due = 0;
    for (long[] h : ackHistory) {
      if (h[0] <= cutoff) {
        due = h[1];
      }
    }
    if (liveTotal < due) {
      record(family, n, "sentinel live total between cases " + lagCheckedAt + " and " + n, "only " + liveTotal
          + " of the " + due + " events acknowledged 5 s ago or earlier reached a final window (lost, or a shard "
          + "is stuck)");
    }
    lagCheckedAt = n;
  }

  /** After a family: the live total reaches what was acknowledged, within 8 s. */
  private void catchUp(String family) {
    long deadline = System.currentTimeMillis() + 8_000;
    while (liveTotal != acknowledged && System.currentTimeMillis() < deadline) {
      drainLive(200);
    }
    if (liveTotal != acknowledged) {
      record(family, -1, "sentinel live total after the family", liveTotal + " in final windows, "
          + acknowledged + " acknowledged (events lost, or a shard stuck: see the server log)");
    }
  }

  private void health(String family) {
    for (String path : new String[] {"/health/live", "/health/ready"}) {
      try {
        TestPulse.Response r = pulse.get(path);
        if (r.status() != 200) {
          record(family, -1, "GET " + path + " after the family", "answered " + r.status() + " " + r.body());
        }
      } catch (RuntimeException e) {
        record(family, -1, "GET " + path + " after the family", "no answer: " + e);
      }
    }
  }

  private void record(String family, int n, String request, String what) {
    String kind = family + ": " + what.replaceAll("[0-9]+", "N").replaceAll("\\s+", " ");
    kind = kind.length() > 90 ? kind.substring(0, 90) : kind;
    kinds.merge(kind, 1, Integer::sum);
    String f = "[" + family + " seed " + SEED + " case " + n + "] " + request + " -> " + what;
    if (kinds.get(kind) <= 3) {
      failures.add(f);
    }
    if (kinds.get(kind) <= 5) {
      System.out.println("FUZZ FAILURE " + f);
    }
  }

  private static Random random(String family, int n) {
    return new Random(SEED * 1_000_003L + family.hashCode() * 7_919L + n);
  }

  static String cut(String s, int max) {
    String t = s.replace("\r", "\\r").replace("\n", "\\n");
    StringBuilder sb = new StringBuilder();
    for (char c : t.toCharArray()) {
      sb.append(c < 32 || c == 127 ? String.format("\\x%02x", (int) c) : Character.isSurrogate(c) ? "\\u"
          + Integer.toHexString(c) : String.valueOf(c));
      if (sb.length() >= max) {
        return sb + "…(" + s.length() + " chars)";
      }
    }
    return sb.toString();
  }

  private long stored(long startMs) {
    TestPulse.Response r = pulse.get("/api/v1/streams/" + SENTINEL + "/series?from=" + (startMs - 60_000) + "&to="
        + (System.currentTimeMillis() + 60_000) + "&step=1s");
    if (r.status() != 200) {
      return -1;
    }
    long sum = 0;
    for (Object s : r.json().getJsonArray("series", new JsonArray())) {
      for (Object p : ((JsonObject) s).getJsonArray("points")) {
        sum += ((JsonArray) p).getJsonObject(1).getLong("count");
      }
    }
    return sum;
  }

  /** A clean batch of sentinel events; what the answer accepted is acknowledged. */
  private void sentinel(String family, int n) {
    int k = 1 + (n / 25) % 5;
    String body = ("{\"values\":{\"n\":1}}\n").repeat(k);
    Answer a = RawWire.exchange(pulse.port(), request("POST", "/api/v1/streams/" + SENTINEL + "/events",
        "application/x-ndjson", null, false, body.getBytes(StandardCharsets.UTF_8)), false, TIMEOUT_MS);
    if (a.status() == 202) {
      noteAck(new JsonObject(a.text()).getLong("accepted"));
      sentinelPosts++;
    } else if (a.status() != 503) {
      record(family, n, "sentinel batch of " + k, "answered " + a.summary());
    }
  }

  static byte[] request(String method, String path, String contentType, String contentEncoding, boolean chunked,
      byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringBuilder h = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if (contentType != null) {
      h.append("Content-Type: ").append(contentType).append("\r\n");
    }
    if (contentEncoding != null) {
      h.append("Content-Encoding: ").append(contentEncoding).append("\r\n");
    }
    if (body != null) {
      h.append(chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + body.length + "\r\n");
    }
    h.append("\r\n");
    out.writeBytes(h.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      if (chunked) {
        int i = 0;
        int step = Math.max(1, body.length / 3 + 1);
        while (i < body.length) {
          int len = Math.min(step, body.length - i);
          out.writeBytes((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.write(body, i, len);
          out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
          i += len;
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      } else {
        out.writeBytes(body);
      }
    }
    return out.toByteArray();
  }

  /**
   * What is wrong with an HTTP answer, or null: 2xx is fine ({@code json2xx}: with a JSON body);
   * 4xx and 503 (with Retry-After) need Content-Type application/json and a {"error": "..."} body.
   */
  static String problem(Answer a, boolean json2xx) {
    if (!a.answered()) {
      return "no HTTP answer (" + a.outcome() + ")" + (a.status() > 0 ? " after status " + a.status() : "");
    }
    int s = a.status();
    if (s >= 200 && s < 300) {
      String ct = a.header("content-type");
      if (json2xx && (ct == null || !ct.startsWith("text/event-stream"))) {
        try {
          new JsonObject(a.text());
        } catch (RuntimeException e) {
          return "2xx body is not a JSON object: " + a.summary();
        }
      }
      return null;
    }
    if (!(s >= 400 && s < 500) && s != 503 && s != 501 && s != 505) { // 501/505: an unknown method or version
      return "status " + s + " (only 2xx, 4xx, 501, 505 or 503 allowed): " + a.summary();
    }
    if (s == 503 && a.header("retry-after") == null) {
      return "503 without Retry-After: " + a.summary();
    }
    String ct = a.header("content-type");
    if (ct == null || !ct.startsWith("application/json")) {
      return s + " without a JSON Content-Type: " + a.summary();
    }
    try {
      String e = new JsonObject(a.text()).getString("error");
      if (e == null || e.isBlank()) {
        return s + " JSON without \"error\": " + a.summary();
      }
    } catch (RuntimeException e) {
      return s + " body is not a JSON {\"error\"} object: " + a.summary();
    }
    return null;
  }

  // ---- (a) ingest bodies ----

  private static final String[] CONTENT_TYPES = {"application/json", "application/x-ndjson", null, "text/plain",
      "application/json; charset=utf-8", "application/json; charset=utf-16", "application/x-ndjson; charset=latin1",
      "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "", "application/*", "*/*",
      "application/json\u0001", "APPLICATION/JSON", "application/jsonx"};

  /**
   * The first cases of family (a), whatever the time budget: every hostile number as a value and as
   * a time, every hostile string as a dim, a time, a stream and an id, each in an event of its own
   * after a sentinel event in one NDJSON body.
   */
  static final List<String> CORPUS = corpus();

  private static List<String> corpus() {
    List<String> c = new ArrayList<>();
    for (String num : Mutator.NUMBERS) {
      c.add("{\"stream\":\"fz\",\"dims\":{\"k\":\"num\"},\"values\":{\"v\":" + num + "}}");
      c.add("{\"stream\":\"fz\",\"ts\":" + num + ",\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"values\":{\"a\":" + num + ",\"b\":1}}");
    }
    for (String str : Mutator.STRINGS) {
      c.add("{\"stream\":\"fz\",\"dims\":{\"k\":" + str + "},\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"dims\":{" + str + ":\"v\"},\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"ts\":" + str + ",\"values\":{\"v\":1}}");
      c.add("{\"stream\":" + str + ",\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"id\":" + str + ",\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"values\":{" + str + ":1}}");
    }
    for (String v : Mutator.VALUES) {
      c.add("{\"stream\":\"fz\",\"values\":" + v + "}");
      c.add("{\"stream\":\"fz\",\"dims\":" + v + ",\"values\":{\"v\":1}}");
      c.add("{\"stream\":\"fz\",\"values\":{\"v\":" + v + "}}");
    }
    c.add("{\"stream\":\"fz\",\"values\":{\"v\":1},\"values\":{\"v\":2}}");
    c.add("{\"stream\":\"fz\",\"values\":{\"v\":1,\"v\":2}}");
    c.add("{\"stream\":\"fz\",\"values\":{\"v\":" + "[".repeat(5000) + "]".repeat(5000) + "}}");
    c.add("{\"stream\":\"fz\",\"dims\":{\"k\":\"" + "x".repeat(100_000) + "\"},\"values\":{\"v\":1}}");
    return c;
  }

  private Void ingestCase(int n) {
    Random r = random("a", n);
    if (n < CORPUS.size()) {
      String body = "{\"stream\":\"" + SENTINEL + "\",\"values\":{\"n\":1}}\n" + CORPUS.get(n) + "\n";
      byte[] req = request("POST", "/api/v1/events", "application/x-ndjson", null, n % 2 == 1,
          body.getBytes(StandardCharsets.UTF_8));
      Answer a = RawWire.exchange(pulse.port(), req, false, TIMEOUT_MS);
      String bad = problem(a, true);
      if (bad == null && a.status() != 202) {
        bad = "ingest answered " + a.status() + " (expected 202: the sentinel line is good): " + a.summary();
      }
      if (bad == null) {
        JsonObject o = new JsonObject(a.text());
        boolean sentinelRefused = o.getJsonArray("errors", new JsonArray()).stream()
            .anyMatch(e -> e instanceof JsonObject eo && Integer.valueOf(0).equals(eo.getInteger("index")));
        if (sentinelRefused || o.getLong("accepted", 0L) < 1) {
          bad = "the good sentinel line was refused: " + a.summary();
        } else {
          noteAck(1);
          sentinelPosts++;
        }
      }
      if (bad != null) {
        record("a-ingest", n, "corpus: NDJSON sentinel + " + cut(CORPUS.get(n), 160), bad);
      }
      return null;
    }
    boolean withSentinel = r.nextInt(10) < 6;
    boolean ndjson = r.nextBoolean();
    List<byte[]> events = new ArrayList<>();
    if (withSentinel) {
      events.add(("{\"stream\":\"" + SENTINEL + "\",\"values\":{\"n\":1}}").getBytes(StandardCharsets.UTF_8));
    }
    int junk = r.nextInt(6);
    for (int i = 0; i < junk; i++) {
      String seed = SEEDS[r.nextInt(SEEDS.length)].replace("%NOW%", Long.toString(System.currentTimeMillis()))
          .replace("%ISO%", java.time.Instant.now().toString());
      byte[] e = r.nextInt(5) == 0 ? seed.getBytes(StandardCharsets.UTF_8) : Mutator.mutate(seed, r);
      if (ndjson) { // one line per event, so that the sentinel keeps index 0 whatever the junk holds
        e = new String(e, StandardCharsets.ISO_8859_1).replace('\n', ' ').replace('\r', ' ')
            .getBytes(StandardCharsets.ISO_8859_1);
      }
      events.add(e);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (events.isEmpty()) {
      byte[] noise = new byte[r.nextInt(300)];
      r.nextBytes(noise);
      body.writeBytes(r.nextBoolean() ? noise : Mutator.mutate("[" + SEEDS[1] + "]", r));
    } else if (ndjson) {
      for (byte[] e : events) {
        body.writeBytes(e);
        body.write('\n');
      }
    } else {
      body.write('[');
      for (int i = 0; i < events.size(); i++) {
        if (i > 0) {
          body.write(',');
        }
        body.writeBytes(events.get(i));
      }
      body.write(']');
    }
    byte[] raw = body.toByteArray();
    String ct = withSentinel && r.nextInt(4) > 0 ? (ndjson ? "application/x-ndjson" : "application/json")
        : CONTENT_TYPES[r.nextInt(CONTENT_TYPES.length)];
    String ce = null;
    String encNote = "";
    byte[] sent = raw;
    int enc = r.nextInt(14);
    try {
      switch (enc) {
        case 0 -> ce = "identity";
        case 1, 2 -> {
          ce = "gzip";
          sent = gzip(raw);
        }
        case 3 -> { // broken gzip: truncated or a byte flipped
          ce = "gzip";
          sent = gzip(raw);
          if (r.nextBoolean()) {
            sent = java.util.Arrays.copyOf(sent, Math.max(1, sent.length / 2));
            encNote = "(truncated)";
          } else {
            encNote = "(a byte flipped)";
            sent[10 + r.nextInt(Math.max(1, sent.length - 10))] ^= (byte) (1 + r.nextInt(255));
          }
        }
        case 4 -> {
          ce = "deflate";
          sent = deflate(raw);
        }
        case 5 -> {
          ce = "gzip"; // says gzip, is not
          encNote = "(not gzipped)";
        }
        case 6 -> ce = new String[] {"br", "x-garbage", "gzip, gzip", "compress", "deflate, identity",
            "\u0001\u00ff"}[r.nextInt(6)];
        case 7 -> {
          if (r.nextInt(15) == 0) { // a small gzip body that inflates past ingest.maxBodyBytes
            ce = "gzip";
            sent = gzipBomb();
            encNote = "(20 MiB of JSON inflated)";
            withSentinel = false;
          }
        }
        default -> {
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    boolean chunked = r.nextBoolean();
    String path = "/api/v1/events";
    if (!withSentinel && r.nextInt(4) == 0) {
      path = "/api/v1/streams/" + new String[] {"fz", "fz2", "%00", "a%2Fb", "x".repeat(200), "UPPER", "..",
          "%C3%28", "fz%20x", "_overflow"}[r.nextInt(10)] + "/events";
    }
    String summary = "POST " + cut(path, 60) + " ct=" + (ct == null ? null : cut(ct, 60)) + " ce=" + (ce == null ? null : cut(ce, 40)) + encNote + (chunked ? " chunked " : " length ")
        + sent.length + " bytes, " + events.size() + " events" + (withSentinel ? " (sentinel at 0)" : "") + ": "
        + cut(new String(raw, StandardCharsets.UTF_8), 160);
    byte[] req = request("POST", path, ct, ce, chunked, sent);
    Answer a = RawWire.exchange(pulse.port(), req, false, TIMEOUT_MS);
    if (!ONLY.isEmpty()) { // replaying one case: show it whole
      System.out.println("request:\n" + cut(new String(req, StandardCharsets.ISO_8859_1), 4000) + "\nanswer: "
          + a.status() + " " + a.headers() + " " + a.outcome() + "\n" + a.text());
    }
    String bad = problem(a, true);
    if (bad == null && a.status() >= 200 && a.status() < 300) {
      if (a.status() != 202) {
        bad = "ingest answered " + a.status() + " (expected 202): " + a.summary();
      } else {
        JsonObject o = new JsonObject(a.text());
        Long accepted = o.getLong("accepted");
        if (accepted == null) {
          bad = "202 without \"accepted\": " + a.summary();
        } else if (withSentinel && accepted > 0) {
          boolean sentinelRefused = false;
          for (Object e : o.getJsonArray("errors", new JsonArray())) {
            if (e instanceof JsonObject eo && Integer.valueOf(0).equals(eo.getInteger("index"))) {
              sentinelRefused = true;
            }
          }
          if (!sentinelRefused) {
            noteAck(1);
            sentinelPosts++;
          }
        }
      }
    }
    if (bad != null) {
      record("a-ingest", n, summary, bad);
    }
    return null;
  }

  private byte[] gzipBomb() throws IOException {
    if (gzipBomb == null) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        byte[] spaces = new byte[1 << 20];
        java.util.Arrays.fill(spaces, (byte) ' ');
        gz.write('[');
        for (int i = 0; i < 20; i++) {
          gz.write(spaces);
        }
        gz.write(']');
      }
      gzipBomb = out.toByteArray();
    }
    return gzipBomb.clone();
  }

  private static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(b);
    }
    return out.toByteArray();
  }

  private static byte[] deflate(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(out)) {
      d.write(b);
    }
    return out.toByteArray();
  }

  // ---- (b) raw HTTP ----

  private Void rawCase(int n) {
    Random r = random("b", n);
    String body = "{\"stream\":\"fz\",\"values\":{\"v\":1}}";
    String target = new String[] {"/api/v1/events", "/health/live", "/api/v1/streams", "/api/v1/quarantine"}[r
        .nextInt(4)];
    String method = target.equals("/api/v1/events") ? "POST" : "GET";
    String head = "Host: 127.0.0.1\r\nConnection: close\r\n";
    String line = method + " " + target + " HTTP/1.1";
    String extra = "";
    String framing = method.equals("POST") ? "Content-Type: application/json\r\nContent-Length: " + body.length()
        + "\r\n" : "";
    byte[] bodyBytes = method.equals("POST") ? body.getBytes(StandardCharsets.UTF_8) : new byte[0];
    boolean halfClose = false;
    boolean truncated = false; // the request never ends: a clean close is then the only answer HTTP leaves
    String what;
    int kind = r.nextInt(7);
    switch (kind) {
      case 0 -> { // broken request line
        String[] lines = {"GET", "GET " + target, line + " extra", method + "  " + target + " HTTP/1.1",
            "G\u0000T " + target + " HTTP/1.1", method + " " + target + " HTTP/9.9", method + " " + target
                + " HTTP/1.1x", method + " " + target + " HTTP/0.9", method.toLowerCase() + " " + target + " HTTP/1.1",
            method + " http://x" + target + " HTTP/1.1", "CONNECT x:1 HTTP/1.1", method + " " + target
                + "\u0001\u007f HTTP/1.1", method + " /api/v1/\u00e9v\u00ffnts HTTP/1.1", method + " * HTTP/1.1",
            "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000", "", " " + line, method + " " + target + " HTTP/1.1\n",
            "PRI * HTTP/2.0", "TRACE " + target + " HTTP/1.1", "PATCH " + target + " HTTP/1.1",
            method + " " + target + "?%zz=%y HTTP/1.1", method + " " + target + "#frag HTTP/1.1"};
        line = lines[r.nextInt(lines.length)];
        what = "request line";
      }
      case 1 -> { // huge URI
        int len = new int[] {3_000, 5_000, 10_000, 70_000, 1_100_000}[r.nextInt(5)];
        line = method + " " + target + "?q=" + "a".repeat(len) + " HTTP/1.1";
        what = "URI of " + len;
      }
      case 2 -> { // huge or odd headers
        int c = r.nextInt(8);
        extra = switch (c) {
          case 0 -> "X-Big: " + "v".repeat(new int[] {9_000, 70_000, 1_100_000}[r.nextInt(3)]) + "\r\n";
          case 1 -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 3_000; i++) {
              sb.append("X-H").append(i).append(": v\r\n");
            }
            yield sb.toString();
          }
          case 2 -> "No Colon Here\r\n";
          case 3 -> "X-Fold: a\r\n  folded\r\n";
          case 4 -> "X-Nul: a\u0000b\r\n";
          case 5 -> "X-Bytes: \u00ff\u00fe\r\n";
          case 6 -> "Bad Name: v\r\n";
          default -> ": empty name\r\n";
        };
        what = "header " + c;
      }
      case 3 -> { // bad Content-Length
        if (!method.equals("POST")) {
          method = "POST";
          line = "POST /api/v1/events HTTP/1.1";
          bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        }
        int c = r.nextInt(9);
        String cl = new String[] {"abc", "-1", "1e3", "99999999999999999999", "", " " + body.length(),
            body.length() + ", " + (body.length() + 1), "0x20", Integer.toString(body.length() + 20)}[c];
        framing = "Content-Type: application/json\r\nContent-Length: " + cl + "\r\n";
        if (c == 8) { // longer than the body; we close our side: the request never completes
          halfClose = true;
          truncated = true;
        }
        if (c == 6 && r.nextBoolean()) {
          framing = "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nContent-Length: "
              + (body.length() + 1) + "\r\n";
        }
        what = "Content-Length " + cl;
      }
      case 4 -> { // Content-Length with Transfer-Encoding, or an odd Transfer-Encoding
        method = "POST";
        line = "POST /api/v1/events HTTP/1.1";
        String te = new String[] {"chunked", "chunked, gzip", "xchunked", "identity", "chunked\r\nTransfer-Encoding: "
            + "chunked", "gzip"}[r.nextInt(6)];
        framing = "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nTransfer-Encoding: "
            + te + "\r\n";
        bodyBytes = (Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8);
        if (r.nextBoolean()) {
          framing = framing.replaceFirst("Content-Length: [0-9]+\r\n", "");
        }
        what = "Transfer-Encoding " + te.replace("\r\n", "|");
      }
      case 5 -> { // malformed chunks
        method = "POST";
        line = "POST /api/v1/events HTTP/1.1";
        framing = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n";
        int c = r.nextInt(9);
        String chunks = switch (c) {
          case 0 -> "zz\r\n" + body + "\r\n0\r\n\r\n";
          case 1 -> "-1\r\n" + body + "\r\n0\r\n\r\n";
          case 2 -> "ffffffffffffffff\r\n" + body + "\r\n0\r\n\r\n";
          case 3 -> Integer.toHexString(body.length()) + "\r\n" + body + "XX0\r\n\r\n"; // no CRLF after data
          case 4 -> Integer.toHexString(body.length()) + ";ext=\u0001\"\r\n" + body + "\r\n0\r\n\r\n";
          case 5 -> Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\nX-Trailer\u0000: bad\r\n\r\n";
          case 6 -> Integer.toHexString(body.length() + 40) + "\r\n" + body + "\r\n0\r\n\r\n"; // size > data
          case 7 -> "\r\n" + body + "\r\n0\r\n\r\n"; // empty size
          default -> Integer.toHexString(body.length()) + "\r\n" + body + "\r\n"; // no last chunk
        };
        if (c == 6 || c == 8) {
          halfClose = true;
          truncated = true;
        }
        bodyBytes = chunks.getBytes(StandardCharsets.UTF_8);
        what = "chunks " + c;
      }
      default -> { // Host missing or doubled, Expect, or headers never finished
        int c = r.nextInt(4);
        if (c == 0) {
          head = "Connection: close\r\n";
        } else if (c == 1) {
          head = head + "Host: other\r\n";
        } else if (c == 2) {
          extra = "Expect: " + (r.nextBoolean() ? "100-continue" : "teapot") + "\r\n";
        } else {
          halfClose = true;
          truncated = true;
          bodyBytes = new byte[0];
          framing = "X-Unfinished: yes\r\n"; // no blank line: the header block never ends
          what = "unfinished headers";
          byte[] req = (line + "\r\n" + head + framing).getBytes(StandardCharsets.ISO_8859_1);
          check(n, what, line, req, halfClose, truncated);
          return null;
        }
        what = "host/expect " + c;
      }
    }
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    req.writeBytes((line + "\r\n" + head + extra + framing + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    req.writeBytes(bodyBytes);
    check(n, what, line, req.toByteArray(), halfClose, truncated);
    return null;
  }

  private void check(int n, String what, String line, byte[] req, boolean halfClose, boolean truncated) {
    Answer a = RawWire.exchange(pulse.port(), req, halfClose, TIMEOUT_MS);
    if (!ONLY.isEmpty()) { // replaying one case: show it whole
      System.out.println("request:\n" + cut(new String(req, StandardCharsets.ISO_8859_1), 4000) + "\nanswer: "
          + a.status() + " " + a.headers() + " " + a.outcome() + "\n" + a.text());
    }
    if (truncated && "closed".equals(a.outcome())) {
      return; // the request never ended and we closed our side: a clean close is all HTTP allows
    }
    String bad = problem(a, true);
    if (bad != null) {
      record("b-raw-http", n, what + ": " + cut(line, 80) + " (" + req.length + " bytes" + (halfClose
          ? ", half-closed" : "") + ")", bad);
    }
  }

  // ---- (c) query parameters ----

  private static final String[] QVALUES = {"", "%00", "a%00b", "1", "-1", "0", "99999999999999999999",
      "9223372036854775807", "-9223372036854775808", "1e308", "NaN", "Infinity", "15m", "0s", "-5m", "1000000000000d",
      "999999999999999999h", "1ms", "1.5s", "P1D", "PT1H", "2026-12-03T06:00:00Z", "%2B999999999-01-01T00:00:00Z",
      "-999999999-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "region", "region:eu", "region:", ":eu", "%2C%2C%2C",
      "%ZZ", "%", "%C3%28", "%FF%FE", "%ED%A0%80", "1s", "10s", "1h", "1m", "1d", "1y", "abc", "amount", "region,store",
      "1763805600000", "0.5", "1e3", "%0D%0A", "%E2%80%A8", "fz", "zsentinel", "s1", "rule.", "x-1", "1~2",
      "run-5.3~1763805600000"};

  private static final String[][] ENDPOINTS = {
      {"/api/v1/streams/{s}/series", "from", "to", "step", "groupBy", "filter", "metric"},
      {"/api/v1/live/sse", "stream", "groupBy", "filter", "metrics", "since", "lastEventId"},
      {"/api/v1/quarantine", "stream", "limit", "before"},
      {"/api/v1/audit", "limit", "before", "action"},
      {"/api/v1/rules/{id}", "x"},
      {"/api/v1/dashboards/{id}/versions", "limit"}};

  private Void queryCase(int n) {
    Random r = random("c", n);
    String[] ep = ENDPOINTS[r.nextInt(ENDPOINTS.length)];
    String path = ep[0].replace("{s}", value(r, new String[] {"fz", "fz2", SENTINEL, "nope"})).replace("{id}",
        value(r, new String[] {"1", "abc", "00000000-0000-0000-0000-000000000000"}));
    StringBuilder q = new StringBuilder();
    int params = r.nextInt(ep.length + 1);
    for (int i = 0; i < params; i++) {
      String name = r.nextInt(12) == 0 ? value(r, new String[] {"from"}) : ep[1 + r.nextInt(ep.length - 1)];
      q.append(q.length() == 0 ? "?" : "&").append(name).append('=').append(value(r, QVALUES));
    }
    if (ep[0].contains("sse") && q.indexOf("stream=") < 0 && r.nextInt(3) > 0) {
      q.append(q.length() == 0 ? "?" : "&").append("stream=fz");
    }
    String extraHeader = ep[0].contains("sse") && r.nextInt(4) == 0 ? "Last-Event-ID: " + value(r, QVALUES)
        .replace("%", "") + "\r\n" : "";
    String head = "GET " + path + q + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extraHeader + "\r\n";
    Answer a = RawWire.exchange(pulse.port(), head.getBytes(StandardCharsets.UTF_8), false, TIMEOUT_MS);
    String bad = problem(a, true);
    if (bad == null && ep[0].contains("sse") && a.status() == 200 && !a.text().contains("data:")) {
      bad = "SSE 200 but no first event: " + a.summary();
    }
    if (bad != null) {
      record("c-query", n, "GET " + cut(path + q, 200) + (extraHeader.isEmpty() ? "" : " " + cut(extraHeader, 80)),
          bad);
    }
    return null;
  }

  /** A value from the pool, sometimes mutated, sometimes huge, sometimes repeated as a list. */
  private static String value(Random r, String[] pool) {
    String v = pool[r.nextInt(pool.length)];
    switch (r.nextInt(8)) {
      case 0 -> v = URLEncoder.encode(new String(Mutator.mutate(v.isEmpty() ? "x" : v, r), StandardCharsets.UTF_8),
          StandardCharsets.UTF_8);
      case 1 -> v = "x".repeat(new int[] {300, 3_000, 7_000}[r.nextInt(3)]);
      case 2 -> v = (v + ",").repeat(1 + r.nextInt(200));
      default -> {
      }
    }
    return v;
  }

  // ---- (d) WebSocket ----

  private static final String[] OPS = {
      "{\"op\":\"subscribe\",\"id\":\"s1\",\"stream\":\"fz\",\"groupBy\":[\"region\"],\"filter\":{\"region\":\"eu\"},"
          + "\"metrics\":[\"amount\"],\"since\":\"15m\"}",
      "{\"op\":\"subscribe\",\"id\":\"s2\",\"stream\":\"fz2\"}", "{\"op\":\"unsubscribe\",\"id\":\"s1\"}",
      "{\"op\":\"ping\"}"};

  private static final String[] SPECIAL_OPS = {"{\"op\":null}", "{\"op\":1}", "{\"op\":[]}", "{\"op\":{}}", "{}", "[]",
      "\"str\"", "123", "null", "", " ", "{\"op\":\"subscribe\"}", "{\"op\":\"subscribe\",\"id\":1e308,\"stream\":\"fz\"}",
      "{\"op\":\"subscribe\",\"id\":{},\"stream\":\"fz\"}", "{\"op\":\"subscribe\",\"id\":\"" + "i".repeat(100_000)
          + "\",\"stream\":\"fz\"}", "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"since\":\"-5m\"}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"since\":\"+999999999-01-01T00:00:00Z\"}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"since\":1e308}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"since\":[]}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"groupBy\":\"region\"}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"filter\":[1]}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":\"fz\",\"metrics\":{}}",
      "{\"op\":\"subscribe\",\"id\":\"b\",\"stream\":null}", "{\"op\":\"unsubscribe\"}",
      "{\"op\":\"unsubscribe\",\"id\":null}", "{\"op\":\"unsubscribe\",\"id\":\"never\"}", "{\"op\":\"PING\"}"};

  private static final java.util.Set<String> REPLIES = java.util.Set.of("error", "subscribed", "unsubscribed", "pong");

  private Void wsCase(int n) {
    Random r = random("d", n);
    int kind = r.nextInt(10);
    String what;
    RawWire.Ws ws;
    try {
      ws = RawWire.Ws.open(pulse.port(), "/api/v1/live/ws", WS_TIMEOUT_MS);
    } catch (IOException e) {
      record("d-websocket", n, "open", "handshake failed: " + e);
      return null;
    }
    boolean violation = false; // the answer must then be a close frame with a reason
    boolean expectPong = false;
    what = "kind " + kind;
    try {
      switch (kind) {
        case 0, 1, 2 -> {
          String text = r.nextBoolean() ? SPECIAL_OPS[r.nextInt(SPECIAL_OPS.length)] : OPS[r.nextInt(OPS.length)];
          byte[] b = r.nextInt(4) == 0 ? text.getBytes(StandardCharsets.UTF_8) : Mutator.mutate(text, r);
          what = "text " + cut(new String(b, StandardCharsets.UTF_8), 160);
          // invalid UTF-8 may get an error message or a close (RFC 6455 asks for a close with 1007): either is fine
          violation = b.length > 262_144;
          ws.frame(true, 0, 1, b, true);
        }
        case 3 -> {
          byte[] b = new byte[r.nextInt(2000)];
          r.nextBytes(b);
          what = "binary of " + b.length;
          ws.frame(true, 0, 2, b, true);
        }
        case 4 -> {
          int size = new int[] {70_000, 300_000}[r.nextInt(2)];
          what = "one text frame of " + size;
          violation = size > 262_144; // live.maxMessageBytes: a frame within it is a message like any other
          ws.frame(true, 0, 1, ("{\"op\":\"ping\",\"pad\":\"" + "p".repeat(size) + "\"}")
              .getBytes(StandardCharsets.UTF_8), true);
        }
        case 5 -> {
          what = "message of 6 fragments of 60000 (over the message limit)";
          violation = true;
          byte[] part = "p".repeat(60_000).getBytes(StandardCharsets.UTF_8);
          for (int i = 0; i < 6; i++) {
            ws.frame(i == 5, 0, i == 0 ? 1 : 0, part, true);
          }
        }
        case 6 -> {
          what = "a ping op in 3 fragments";
          byte[] b = OPS[3].getBytes(StandardCharsets.UTF_8);
          ws.frame(false, 0, 1, java.util.Arrays.copyOfRange(b, 0, 4), true);
          ws.frame(false, 0, 0, java.util.Arrays.copyOfRange(b, 4, 8), true);
          ws.frame(true, 0, 0, java.util.Arrays.copyOfRange(b, 8, b.length), true);
        }
        case 7 -> {
          what = "a ping control frame";
          expectPong = true;
          ws.frame(true, 0, 9, "hi".getBytes(StandardCharsets.UTF_8), true);
        }
        default -> {
          violation = true;
          int v = r.nextInt(8);
          byte[] ping = OPS[3].getBytes(StandardCharsets.UTF_8);
          switch (v) {
            case 0 -> ws.frame(true, 0, 1, ping, false);
            case 1 -> ws.frame(true, 1 + r.nextInt(7), 1, ping, true);
            case 2 -> ws.frame(true, 0, 3 + r.nextInt(5), ping, true);
            case 3 -> ws.frame(true, 0, 0, ping, true);
            case 4 -> ws.frame(false, 0, 9, ping, true);
            case 5 -> ws.frame(true, 0, 9, new byte[200], true);
            case 6 -> ws.frame(true, 0, 8, new byte[] {3, (byte) 0xe7}, true); // close code 999
            default -> {
              ws.frame(false, 0, 1, ping, true);
              ws.frame(true, 0, 1, ping, true); // a new message while one is open
            }
          }
          what = "protocol violation " + v;
        }
      }
    } catch (IOException e) {
      // the server closed while we wrote (an oversized message): what it said is still to be read
    }
    String bad = wsAnswer(ws, violation, expectPong);
    ws.close();
    if (bad != null) {
      record("d-websocket", n, what, bad);
    }
    return null;
  }

  /**
   * Reads the server's first meaningful frame: a reply or error message, or a close frame with a
   * reason; after a protocol violation, error messages may come first but a close frame must follow.
   */
  private static String wsAnswer(RawWire.Ws ws, boolean violation, boolean expectPong) {
    try {
      while (true) {
        Frame f = ws.next();
        if (f == null) {
          return "connection dropped without a close frame";
        }
        if (f.opcode() == 8) {
          if (f.closeCode() < 0 || f.closeReason().isBlank()) {
            return "close frame without a reason (code " + f.closeCode() + ")";
          }
          if (!violation && !expectPong && f.closeCode() != 1009) {
            return "closed (" + f.closeCode() + " " + f.closeReason() + ") where an error message would do";
          }
          return null;
        }
        if (f.opcode() == 10 && expectPong) {
          return null;
        }
        if (f.opcode() == 1) {
          String type;
          try {
            type = new JsonObject(f.text()).getString("type");
          } catch (RuntimeException e) {
            return "text frame that is not JSON: " + cut(f.text(), 200);
          }
          if ("heartbeat".equals(type) || "rollup".equals(type) || "history".equals(type)) {
            continue;
          }
          if (violation && ("error".equals(type) || "closing".equals(type))) {
            continue; // the server may say why before its close frame, which must follow
          }
          if (violation) {
            return "answered " + cut(f.text(), 200) + " to a protocol violation instead of a close frame";
          }
          return REPLIES.contains(type) ? null : "unexpected message " + cut(f.text(), 200);
        }
      }
    } catch (SocketTimeoutException e) {
      return "no answer within " + WS_TIMEOUT_MS + " ms";
    } catch (IOException e) {
      return "connection failed: " + e;
    }
  }
}

package io.pulse.ingest;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A body taken a slice at a time gives exactly what it gives in one go, and each slice stays small. */
class IngestJobTest {

  private static final long NOW = 1_763_805_600_500L;
  private static final int SHARDS = 3;

  /** One fresh ingest pipeline: what a request leaves behind is read from its quarantine and catalog. */
  private static final class Pipe {
    final PulseConfig config;
    final StreamCatalog catalog;
    final Quarantine quarantine = new Quarantine(10_000, 1000);
    final Ingestor ingestor;
    final EventParser parser;

    Pipe(JsonObject overrides) {
      config = PulseConfig.of(overrides);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      catalog = new StreamCatalog(config.aggregation().maxStreams(), config.aggregation().maxSeriesPerStream(), registry);
      ingestor = new Ingestor(config, catalog, new ViewRegistry(config), quarantine, SHARDS, registry);
      parser = new EventParser(config.ingest());
    }
  }

  /** Everything a request did, in a comparable form. */
  private record Taken(String answer, List<String> routed, List<String> quarantined, long events) {
  }

  private static Taken whole(Pipe p, String body, BodyFormat format) {
    Ingestor.Outcome o = p.ingestor.ingest(p.parser.parse(bytes(body), format, StreamId.DEFAULT_TENANT, null, NOW), StreamId.DEFAULT_TENANT, NOW, "test");
    List<String> routed = new ArrayList<>();
    describe(o.batches(), routed);
    return taken(p, o, routed);
  }

  private static Taken sliced(Pipe p, String body, BodyFormat format, int slice, int sliceBytes) {
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(body), format, io.pulse.core.StreamId.DEFAULT_TENANT, null, NOW, "test", slice, sliceBytes);
    List<String> routed = new ArrayList<>();
    int steps = 0;
    while (!job.done()) {
      ShardBatch[] b = job.step();
      int n = 0;
      for (ShardBatch s : b) {
        n += s.size();
      }
      assertTrue(n <= slice, "a step routes at most a slice of events: " + n + " > " + slice);
      describe(b, routed);
      assertTrue(++steps < 1_000_000, "the job ends");
    }
    return taken(p, job.outcome(), routed);
  }

  private static void describe(ShardBatch[] batches, List<String> out) {
    for (int s = 0; s < batches.length; s++) {
      for (int i = 0; i < batches[s].size(); i++) {
        out.add(s + " " + batches[s].key(i) + " " + batches[s].windowTs(i) + " " + batches[s].event(i).valueMap());
      }
    }
    out.sort(null); // a slice's batches are in body order within a shard; across slices the shards interleave
  }

  private static Taken taken(Pipe p, Ingestor.Outcome o, List<String> routed) {
    StringBuilder answer = new StringBuilder(o.accepted() + " accepted, " + o.late() + " late, " + o.overflowed()
        + " overflowed (" + o.overflowNote() + ")");
    List<Rejection> rej = new ArrayList<>(o.rejections());
    rej.sort(java.util.Comparator.comparingInt(Rejection::index));
    for (Rejection r : rej) {
      answer.append("\n").append(r);
    }
    List<String> q = new ArrayList<>();
    for (Quarantine.Entry e : p.quarantine.list(StreamId.DEFAULT_TENANT, null, Integer.MAX_VALUE)) {
      q.add(e.stream() + " " + e.source() + " " + e.reason() + " " + e.payload());
    }
    long events = p.catalog.all().stream().mapToLong(StreamCatalog.StreamInfo::events).sum();
    return new Taken(answer.toString(), routed, q, events);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String event(int i) {
    return "{\"stream\":\"s" + (i % 3) + "\",\"ts\":" + (NOW - (i % 5 == 0 ? 60_000 : 0)) + ",\"dims\":{\"k\":\"v"
        + (i % 7) + "\"},\"values\":{\"v\":" + i + "}}";
  }

  /** Bodies with good events, bad ones of every kind, late ones, strings and broken lines. */
  private static List<String[]> bodies() {
    List<String[]> out = new ArrayList<>();
    StringBuilder arr = new StringBuilder("[");
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      String e = switch (i % 11) {
        case 3 -> "\"text " + i + "\"";
        case 6 -> "{\"stream\":\"Bad\",\"values\":{\"v\":" + i + "}}";
        case 8 -> "{\"stream\":\"s1\",\"values\":{\"v\":\"x" + i + "\"}}";
        default -> event(i);
      };
      arr.append(i == 0 ? "" : ",").append(e);
      nd.append(i % 13 == 12 ? "{\"stream\":\"s1\",\n\"values\":{\"v\":1}}" : e).append('\n');
      if (i == 40) {
        nd.append("{broken\n");
      }
    }
    out.add(new String[] {arr.append("]").toString(), "JSON"});
    out.add(new String[] {nd.toString(), "NDJSON"});
    // NDJSON where every line is fine: the fast pass all the way
    StringBuilder clean = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      clean.append(event(i)).append('\n');
    }
    out.add(new String[] {clean.toString(), "NDJSON"});
    out.add(new String[] {event(1), "JSON"});
    return out;
  }

  @Test
  @DisplayName("sliced, a body gives the same answer, quarantine, counts and routed events as in one go")
  void sameAsWhole() {
    for (String[] b : bodies()) {
      BodyFormat f = BodyFormat.valueOf(b[1]);
      Taken expected = whole(new Pipe(new JsonObject()), b[0], f);
      assertTrue(expected.answer().contains("late"), expected.answer());
      for (int[] s : new int[][] {{1, Integer.MAX_VALUE}, {2, 1}, {3, 100}, {7, 64}, {4096, 1}, {4096, 512 * 1024}}) {
        Taken got = sliced(new Pipe(new JsonObject()), b[0], f, s[0], s[1]);
        assertEquals(expected, got, b[1] + " in slices of " + s[0] + " events / " + s[1] + " bytes");
      }
    }
  }

  @Test
  @DisplayName("overflow counts and the note add up across slices")
  void overflowAcrossSlices() {
    JsonObject limits = new JsonObject().put("aggregation", new JsonObject().put("maxSeriesPerStream", 4));
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      nd.append("{\"stream\":\"s\",\"dims\":{\"k\":\"v").append(i).append("\"},\"values\":{\"v\":1}}\n");
    }
    Taken expected = whole(new Pipe(limits), nd.toString(), BodyFormat.NDJSON);
    assertTrue(expected.answer().startsWith("30 accepted, 0 late, 26 overflowed (the stream holds"), expected.answer());
    assertEquals(expected, sliced(new Pipe(limits), nd.toString(), BodyFormat.NDJSON, 4, 1 << 20));
  }

  @Test
  @DisplayName("cluster mode: a forwarded body is admitted where it enters, its answer as a single node's, its events folded before they leave")
  void forwardedBodiesAreAdmittedWhereTheyEnter() {
    JsonObject limits = new JsonObject().put("aggregation", new JsonObject().put("maxSeriesPerStream", 4)
        .put("maxStreams", 1));
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      nd.append("{\"stream\":\"s\",\"dims\":{\"k\":\"v").append(i).append("\"},\"values\":{\"v\":1}}\n");
    }
    nd.append("{\"stream\":\"other\",\"values\":{\"v\":1}}\n"); // a second stream, past maxStreams
    Pipe p = new Pipe(limits);
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(nd.toString()), BodyFormat.NDJSON,
        StreamId.DEFAULT_TENANT, null, NOW, "test", 4, 1 << 20);
    List<io.pulse.event.Event> forwarded = new ArrayList<>();
    job.forwardTo(forwarded::addAll);
    while (!job.done()) {
      assertEquals(0, job.step().length, "nothing is routed here: the owner of each partition does that");
    }
    Ingestor.Outcome o = job.outcome();
    assertEquals(30, o.accepted());
    assertEquals(26, o.overflowed());
    assertTrue(o.overflowNote().startsWith("the stream holds its maximum of 4 series"), o.overflowNote());
    assertEquals(1, o.rejections().size());
    assertTrue(o.rejections().get(0).error().startsWith("too many streams"), o.rejections().get(0).error());
    assertEquals(30, forwarded.size());
    assertEquals(26, forwarded.stream().filter(e -> io.pulse.agg.View.isOverflow(e.dims())).count(),
        "the records say which events went to the overflow series");
    assertEquals(0, p.catalog.all().stream().mapToLong(StreamCatalog.StreamInfo::events).sum(),
        "the owner of the partition counts the events, not the instance they entered by");
  }

  @Test
  @DisplayName("a body that turns out unreadable at its end leaves nothing behind, however many slices were parsed")
  void allOrNothing() {
    StringBuilder arr = new StringBuilder("[");
    for (int i = 0; i < 100; i++) {
      arr.append(event(i)).append(',');
    }
    arr.append("{\"stream\":\"s1\""); // never closed
    Pipe p = new Pipe(new JsonObject());
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(arr.toString()), BodyFormat.JSON, io.pulse.core.StreamId.DEFAULT_TENANT, null, NOW, "test", 8, 1 << 20);
    int steps = 0;
    BodyException e = null;
    try {
      while (!job.done()) {
        ShardBatch[] b = job.step();
        assertEquals(0, b.length, "nothing is routed before the whole body is read");
        assertFalse(job.routing(), "still parsing: the job may be dropped");
        steps++;
      }
    } catch (BodyException x) {
      e = x;
    }
    assertTrue(e != null && e.status() == 400, "refused as a whole");
    assertTrue(steps >= 10, "it was read in slices: " + steps);
    assertFalse(job.done());
    assertEquals(0, p.quarantine.total(), "no rejection of it is quarantined");
    assertTrue(p.catalog.all().isEmpty(), "no stream of it is entered");
  }

  @Test
  @DisplayName("too many events is found while parsing, before anything is kept (413)")
  void tooManyEvents() {
    JsonObject limits = new JsonObject().put("ingest", new JsonObject().put("maxEventsPerRequest", 50));
    StringBuilder nd = new StringBuilder("\"bad\"\n");
    for (int i = 0; i < 51; i++) {
      nd.append(event(i)).append('\n');
    }
    Pipe p = new Pipe(limits);
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(nd.toString()), BodyFormat.NDJSON, io.pulse.core.StreamId.DEFAULT_TENANT, null, NOW, "test", 5, 1 << 20);
    BodyException e = assertThrows(BodyException.class, () -> {
      while (!job.done()) {
        assertEquals(0, job.step().length);
      }
    });
    assertEquals(413, e.status());
    assertEquals(0, p.quarantine.total());
  }

  @Test
  @DisplayName("W1-sized bodies (1,000 events) are taken in one step with the default slices")
  void smallInOneStep() {
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      nd.append(event(i)).append('\n');
    }
    Pipe p = new Pipe(new JsonObject());
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(nd.toString()), BodyFormat.NDJSON, io.pulse.core.StreamId.DEFAULT_TENANT, null, NOW, "test");
    job.step();
    assertTrue(job.done());
    assertEquals(1000, job.outcome().accepted());
  }

  @Test
  @DisplayName("a large body takes several steps, each within its slice of events and bytes")
  void largeInSlices() {
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      nd.append(event(i)).append('\n');
    }
    Pipe p = new Pipe(new JsonObject());
    EventParser.Parse parse = p.parser.start(bytes(nd.toString()), BodyFormat.NDJSON, StreamId.DEFAULT_TENANT, null, NOW);
    int steps = 0;
    while (!parse.done()) {
      int n = parse.step(IngestJob.SLICE, 64 * 1024);
      assertTrue(n >= 1 && n <= IngestJob.SLICE, "events in a step: " + n);
      steps++;
    }
    assertEquals(20_000, parse.result().events().size() + parse.result().rejections().size());
    assertTrue(steps >= nd.length() / (64 * 1024), "the byte slice bounds a step: " + steps + " steps");
    // and the job: parse, then route, a slice at a time
    IngestJob job = new IngestJob(p.parser, p.ingestor, bytes(nd.toString()), BodyFormat.NDJSON, io.pulse.core.StreamId.DEFAULT_TENANT, null, NOW, "test");
    int jobSteps = 0;
    int parseSteps = 0;
    while (!job.done()) {
      parseSteps += job.routing() ? 0 : 1;
      job.step();
      jobSteps++;
    }
    assertTrue(parseSteps >= 20_000 / IngestJob.SLICE && parseSteps < jobSteps, parseSteps + " of " + jobSteps);
    assertTrue(jobSteps >= 2 * 20_000 / IngestJob.SLICE, "steps: " + jobSteps);
    assertEquals(20_000, job.outcome().accepted());
  }
}

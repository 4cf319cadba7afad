package io.pulse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cluster mode on a real KRaft broker in this JVM and the real PostgreSQL: HTTP ingest on every
 * instance goes through Kafka, the instances of one consumer group aggregate the partitions they
 * own, and stored history equals the acknowledged events exactly through an instance joining, one
 * leaving and one crashing.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterTest {

  private static final int SERIES = 40;
  private static KafkaClusterTestKit kafka;
  private static PgFixture.Db db;

  @BeforeAll
  static void broker() throws Exception {
    kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1)
        .setNumControllerNodes(1).build())
        .setConfigProp("offsets.topic.replication.factor", "1").setConfigProp("offsets.topic.num.partitions", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("transaction.state.log.min.isr", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0").build();
    kafka.format();
    kafka.startup();
    kafka.waitForReadyBrokers();
    db = PgFixture.freshDatabase();
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  private static JsonObject conf(String group) {
    return new JsonObject()
        .put("kafka", new JsonObject().put("bootstrap", kafka.bootstrapServers()).put("partitions", 6)
            .put("eventsTopic", group + ".events").put("outputTopic", group + ".output").put("group", group)
            // a crashed instance's partitions move after 6 s, not the default 45
            .put("client", new JsonObject().put("session.timeout.ms", "6000").put("heartbeat.interval.ms", "500")))
        .put("aggregation", new JsonObject().put("allowedLatenessMs", 300))
        .put("live", new JsonObject().put("flushMs", 50))
        .put("streams", new JsonObject().put("cl", new JsonObject().put("groupBy", new JsonArray().add(
            new JsonArray().add("k")))));
  }

  /** {@code n} events of stream cl spread over the series k=s00..s39, each with amount 1. */
  private static String body(int n, int seed) {
    StringBuilder sb = new StringBuilder();
    long now = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      sb.append("{\"stream\":\"cl\",\"ts\":").append(now).append(",\"dims\":{\"k\":\"s")
          .append(String.format("%02d", (seed + i) % SERIES)).append("\"},\"values\":{\"amount\":1}}\n");
    }
    return sb.toString();
  }

  private static long stored() {
    return db.queryLong("select coalesce(sum(r.count), 0) from series s join rollup_1s r on r.series_id = s.id "
        + "where s.stream = 'cl' and s.kind = 'series'");
  }

  /** Posts a body; returns the events acknowledged (202), 0 when refused. */
  private static int post(TestPulse p, int n, int seed) {
    TestPulse.Response r = p.post("/api/v1/events", "application/x-ndjson", body(n, seed));
    if (r.status() != 202) {
      return 0;
    }
    assertEquals(n, r.json().getInteger("accepted"), r.body());
    return n;
  }

  /** The series keys in final rollups of the k group-by that a subscriber saw. */
  private static Set<String> seriesSeen(LiveClient c) {
    c.collect(50); // what arrived since the last look
    Set<String> keys = new TreeSet<>();
    for (LiveClient.Msg m : c.seen()) {
      JsonObject j = m.json();
      if ("rollup".equals(m.type()) && "k".equals(j.getString("sub")) && Boolean.TRUE.equals(j.getBoolean("final"))) {
        JsonObject series = j.getJsonObject("series");
        if (series != null && series.getString("k") != null) {
          keys.add(series.getString("k"));
        }
      }
    }
    return keys;
  }

  @Test
  void sourceTopicRecordsAreIngestedAndBadOnesQuarantinedWithTheirOffsets() throws Exception {
    JsonObject conf = conf("s1");
    conf.getJsonObject("kafka").put("sourceTopics", new JsonArray().add("orders")).put("sourceTenant", "default");
    try (TestPulse a = TestPulse.startWithStorage(db, conf)) {
      long now = System.currentTimeMillis();
      String ev = "{\"stream\":\"orders\",\"ts\":" + now + ",\"dims\":{\"shop\":\"%s\"},\"values\":{\"amount\":%d}}";
      List<String> values = List.of(
          String.format(ev, "a", 10), // one JSON event
          String.format(ev, "b", 20) + "\n" + String.format(ev, "c", 30) + "\n{\"stream\":\"orders\",\"values\":{\"amount\":\"x\"}}\n"
              + String.format(ev, "a", 40), // NDJSON: three good lines around a bad one
          "this is not JSON", // a record that is no event at all: quarantined, the next ones still read
          "[" + String.format(ev, "d", 50) + "," + String.format(ev, "e", 60) + "]");
      java.util.Map<String, Object> props = java.util.Map.of("bootstrap.servers", kafka.bootstrapServers());
      try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> p = new org.apache.kafka.clients.producer.KafkaProducer<>(
          props, new org.apache.kafka.common.serialization.ByteArraySerializer(),
          new org.apache.kafka.common.serialization.ByteArraySerializer())) {
        for (String v : values) {
          p.send(new org.apache.kafka.clients.producer.ProducerRecord<>("orders", 0, null,
              v.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        }
      }
      String sql = "select coalesce(sum(r.count), 0) from series s join rollup_1s r on r.series_id = s.id "
          + "where s.stream = 'orders' and s.kind = 'series'";
      Await.until("the six valid events of the source topic are stored", () -> db.queryLong(sql), n -> n == 6,
          60_000, 250);
      JsonObject q = Await.until("both refusals are in quarantine", () -> a.get("/api/v1/quarantine").json(),
          j -> j.getJsonArray("items").size() >= 2, 30_000);
      String text = q.encode();
      assertTrue(text.contains("orders/0@1 event 2"), "the bad NDJSON line names its record and line: " + text);
      assertTrue(text.contains("orders/0@2"), "the record that is not JSON names its offset: " + text);
      assertTrue(a.get("/metrics").body().contains("pulse_kafka_consumer_lag{topic=\"orders\"}"),
          "consumer lag of the source topic is a metric");
    }
  }

  @Test
  void onDemandViewsAndAlertsSpanTheCluster() throws Exception {
    try (TestPulse a = TestPulse.startWithStorage(db, conf("v1")); TestPulse b = TestPulse.startWithStorage(db, conf("v1"));
        LiveClient wa = LiveClient.websocket(a.port()); LiveClient wb = LiveClient.websocket(b.port())) {
      Await.until("both instances own partitions", () -> List.of(a.get("/metrics").body(), b.get("/metrics").body()),
          m -> m.stream().allMatch(t -> t.contains("pulse_kafka_partitions_owned 3.0")), 60_000);
      assertEquals(201, a.post("/api/v1/rules", "application/json", "{\"id\":\"big\",\"name\":\"big\","
          + "\"stream\":\"av\",\"kind\":\"threshold\",\"figure\":\"count\",\"op\":\">\",\"value\":0,"
          + "\"groupBy\":[\"k\"]}").status());
      // an on-demand group-by on b and a filter on a: views no configuration names
      wb.send(new JsonObject().put("op", "subscribe").put("id", "r").put("stream", "av")
          .put("groupBy", new JsonArray().add("region")));
      wa.send(new JsonObject().put("op", "subscribe").put("id", "f").put("stream", "av")
          .put("filter", new JsonObject().put("region", "r0")));
      wb.await(m -> "r".equals(m.json().getString("sub")) && "subscribed".equals(m.type()), 10_000);
      wa.await(m -> "f".equals(m.json().getString("sub")) && "subscribed".equals(m.type()), 10_000);
      // rounds of 16 events over 16 series (8 in region r0), each round in a window of its own, until a
      // round's r0 window on b holds all 8 (its shares come from the partitions of both instances)
      long[] found = new long[2];
      Await.until("a window of the on-demand views holds every partition's share, on both instances", () -> {
        long start = (System.currentTimeMillis() / 1000 + 1) * 1000;
        assertEquals(202, a.post("/api/v1/events", "application/x-ndjson", round(start + 100)).status());
        found[0] = countOf(wb, "r", start, "r0");
        found[1] = countOf(wa, "f", start, null);
        return List.of(found[0], found[1]);
      }, l -> l.get(0) == 8 && l.get(1) == 8, 40_000, 10);
      // the rule fires once per series in the cluster (not once per instance), and both feeds carry it
      // (events keep coming: the rule reaches the other instance, and its view that instance's partitions, within a second)
      Await.until("16 alerts firing", () -> {
        a.post("/api/v1/events", "application/x-ndjson", round(System.currentTimeMillis()));
        return db.queryLong("select count(*) from alerts where rule_id = 'big'");
      }, n -> n == 16, 30_000, 500);
      Await.until("both instances' subscribers get alerts raised on either", () -> {
        wa.collect(50);
        wb.collect(50);
        return List.of(alertsSeen(wa), alertsSeen(wb));
      }, l -> l.get(0).size() == 16 && l.get(1).size() == 16, 30_000);
      assertEquals(16, db.queryLong("select count(*) from alert_transitions t join alerts a on a.id = t.alert_id "
          + "where a.rule_id = 'big' and t.state = 'firing'"), "each series' alert fired once in the cluster");
      // the alerts API answers for the whole cluster on either instance, and an alert raised on one
      // can be acknowledged on the other
      for (TestPulse p : List.of(a, b)) {
        Await.until("every alert listed on each instance", () -> p.get("/api/v1/alerts?state=firing").json(),
            j -> j.getInteger("total") == 16, 10_000);
      }
      // the stream's home partition's owner evaluates its group-by rule: find the alert and the instance that did not raise it
      String id = b.get("/api/v1/alerts?state=firing").json().getJsonArray("alerts").getJsonObject(0).getString("id");
      boolean onB = b.get("/api/v1/alerts/" + id).json().getBoolean("raisedElsewhere", false);
      TestPulse other = onB ? b : a;
      assertTrue(other.get("/api/v1/alerts/" + id).json().getBoolean("raisedElsewhere", false),
          "exactly one of the two raised it: " + a.get("/api/v1/alerts/" + id).body() + " / " + b.get("/api/v1/alerts/" + id).body());
      assertEquals(200, other.post("/api/v1/alerts/" + id + "/ack", "application/json", "{\"comment\":\"elsewhere\"}").status());
      Await.until("the acknowledgement is applied and stored by the instance that raised it", () -> db.queryLong(
          "select count(*) from alerts where id = '" + id + "' and state = 'acknowledged'"), n -> n == 1, 15_000);
      Await.until("and the other instance lists it acknowledged", () -> other.get("/api/v1/alerts/" + id).json()
          .getString("state"), "acknowledged"::equals, 15_000);
    }
  }

  /** 16 events of stream av at {@code ts}, one per series a0..a15, half of them in region r0. */
  private static String round(long ts) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sb.append("{\"stream\":\"av\",\"ts\":").append(ts).append(",\"dims\":{\"k\":\"a").append(i)
          .append("\",\"region\":\"r").append(i % 2).append("\"},\"values\":{\"amount\":1}}\n");
    }
    return sb.toString();
  }

  /** The count of the final window starting at {@code start} for a subscription, waiting up to 3 s; -1 when none came. */
  private static long countOf(LiveClient c, String sub, long start, String region) {
    try {
      LiveClient.Msg m = c.await(x -> "rollup".equals(x.type()) && sub.equals(x.json().getString("sub"))
          && Boolean.TRUE.equals(x.json().getBoolean("final")) && x.json().getLong("start") == start
          && (region == null || region.equals(x.json().getJsonObject("series").getString("region"))), 3_000);
      return m.json().getLong("count");
    } catch (AssertionError e) {
      return -1;
    }
  }

  private static Set<String> alertsSeen(LiveClient c) {
    Set<String> series = new TreeSet<>();
    for (LiveClient.Msg m : c.seen()) {
      if ("alert".equals(m.type()) && m.json().getJsonObject("series") != null) {
        series.add(m.json().getJsonObject("series").getString("k"));
      }
    }
    return series;
  }

  @Test
  void alertsAndDetectorsMoveWithTheirPartitions() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase(); // its rules must not reach the other tests' instances
    try (TestPulse a = TestPulse.startWithStorage(db, conf("h1")); TestPulse b = TestPulse.startWithStorage(db, conf("h1"))) {
      Await.until("both instances own partitions", () -> List.of(a.get("/metrics").body(), b.get("/metrics").body()),
          m -> m.stream().allMatch(t -> t.contains("pulse_kafka_partitions_owned 3.0")), 60_000);
      assertEquals(201, a.post("/api/v1/rules", "application/json", "{\"id\":\"hot\",\"name\":\"hot\","
          + "\"stream\":\"hv\",\"kind\":\"threshold\",\"metric\":\"amount\",\"figure\":\"max\",\"op\":\">\","
          + "\"value\":5,\"groupBy\":[\"k\"]}").status());
      // a stream nobody sends: its absence rule fires once in the cluster, on its home's owner only
      assertEquals(201, a.post("/api/v1/rules", "application/json", "{\"id\":\"quiet\",\"name\":\"quiet\","
          + "\"stream\":\"never\",\"kind\":\"absence\",\"absentFor\":\"3s\"}").status());
      Await.until("16 alerts of hot firing, and the absence alert", () -> {
        a.post("/api/v1/events", "application/x-ndjson", hot(10));
        return List.of(db.queryLong("select count(*) from alerts where rule_id = 'hot' and state = 'firing'"),
            db.queryLong("select count(*) from alerts where rule_id = 'quiet' and state = 'firing'"));
      }, l -> l.get(0) == 16 && l.get(1) == 1, 30_000, 500);
      String id = db.queryString("select id from alerts where rule_id = 'hot' order by id limit 1");
      boolean raisedOnB = a.get("/api/v1/alerts/" + id).json().getBoolean("raisedElsewhere", false);
      TestPulse owner = raisedOnB ? b : a;
      TestPulse survivor = raisedOnB ? a : b;
      assertEquals(200, survivor.post("/api/v1/alerts/" + id + "/ack", "application/json", "{\"comment\":\"mine\"}")
          .status());
      Await.until("acknowledged", () -> db.queryLong("select count(*) from alerts where id = '" + id
          + "' and state = 'acknowledged'"), n -> n == 1, 15_000);
      // a series detector on the owner, with some windows learnt
      JsonObject learnt = Await.until("a series detector of hv on the owner has learnt 8 windows", () -> {
        a.post("/api/v1/events", "application/x-ndjson", hot(10));
        return seriesDetector(owner, null);
      }, d -> d != null && d.getLong("seen") >= 8, 30_000, 500);
      JsonObject series = learnt.getJsonObject("series");
      long seenBefore = seriesDetector(owner, series).getLong("seen");

      owner.close(); // leaves gracefully: its partitions, and what it knows of them, go to the survivor
      Await.until("the survivor owns every partition", () -> survivor.get("/metrics").body(),
          m -> m.contains("pulse_kafka_partitions_owned 6.0"), 60_000);
      JsonObject taken = Await.until("the survivor holds that series' detector as the owner left it", () -> {
        survivor.post("/api/v1/events", "application/x-ndjson", hot(10));
        return seriesDetector(survivor, series);
      }, d -> d != null, 15_000, 250);
      assertTrue(taken.getLong("seen") >= seenBefore, "learnt windows kept: " + taken + " after " + seenBefore);
      // the alerts were taken over, not raised again: the same ids, the acknowledgement kept, raised here now
      Await.until("the acknowledged alert is the survivor's own", () -> survivor.get("/api/v1/alerts/" + id).json(),
          j -> "acknowledged".equals(j.getString("state")) && !j.getBoolean("raisedElsewhere", false), 15_000);
      for (int i = 0; i < 4; i++) {
        survivor.post("/api/v1/events", "application/x-ndjson", hot(10));
      }
      assertEquals(16, db.queryLong("select count(*) from alerts where rule_id = 'hot'"), "no alert raised twice");
      assertEquals(1, db.queryLong("select count(*) from alerts where rule_id = 'quiet'"), "the absence alert once");
      assertEquals(1, db.queryLong("select count(*) from alerts where rule_id = 'quiet' and state = 'firing'"));
      // and the survivor resolves them itself, under the same ids
      Await.until("the hot alerts resolve on the survivor", () -> {
        survivor.post("/api/v1/events", "application/x-ndjson", hot(1));
        return db.queryLong("select count(*) from alerts where rule_id = 'hot' and state = 'resolved'");
      }, n -> n == 16, 30_000, 500);
      assertEquals(16, db.queryLong("select count(*) from alerts where rule_id = 'hot'"));
      assertEquals("resolved", survivor.get("/api/v1/alerts/" + id).json().getString("state"));
    }
  }

  /** 16 events of stream hv, one per series h0..h15 (in partitions of both instances), each with this amount. */
  private static String hot(int amount) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sb.append("{\"stream\":\"hv\",\"dims\":{\"k\":\"h").append(i).append("\"},\"values\":{\"amount\":")
          .append(amount).append("}}\n");
    }
    return sb.toString();
  }

  /** A count detector of a series of hv (this series, or any) held by this instance, or null. */
  private static JsonObject seriesDetector(TestPulse p, JsonObject series) {
    JsonArray items = p.get("/api/v1/streams/hv/detectors").json().getJsonArray("items", new JsonArray());
    for (int i = 0; i < items.size(); i++) {
      JsonObject d = items.getJsonObject(i);
      if ("*|".equals(d.getString("view")) && "count".equals(d.getString("figure"))
          && (series == null || series.equals(d.getJsonObject("series")))) {
        return d;
      }
    }
    return null;
  }

  @Test
  void eventScoringWorksInClusterMode() throws Exception {
    JsonObject conf = conf("e1").put("scoring", new JsonObject().put("streams", new JsonArray().add("pay"))
        .put("sample", 2000).put("minTrain", 200).put("retrainEvery", "1h"));
    try (TestPulse p = TestPulse.startWithStorage(db, conf)) {
      java.util.Random r = new java.util.Random(5);
      long now = System.currentTimeMillis();
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 1500; i++) {
        body.append(pay(r, now - 1500 + i, Math.exp(Math.log(40) + 0.5 * r.nextGaussian()),
            COUNTRIES[r.nextInt(COUNTRIES.length)])).append('\n');
      }
      assertEquals(202, p.postNdjson("pay", body.toString()));
      // the partitions' owner (this instance) has aggregated, and sampled, every event: then one training
      Await.until("the partitions took all 1,500 events", () -> p.get("/metrics").body(),
          m -> m.contains("pulse_events_accepted_total{stream=\"pay\",tenant=\"default\"} 1500.0"), 30_000);
      assertEquals(202, p.post("/api/v1/streams/pay/model/train", null, "").status());
      JsonObject model = p.awaitJson("/api/v1/streams/pay/model", j -> j.getInteger("version", 0) >= 1
          && "done".equals(j.getJsonObject("job").getString("state")), 30_000);
      assertTrue(model.getInteger("trainingSize") >= 1000, model.encode());
      try (LiveClient sse = LiveClient.sse(p.port(), "stream=pay", null)) {
        sse.await(m -> "subscribed".equals(m.type()), 5000);
        long at = (System.currentTimeMillis() / 1000 + 1) * 1000 + 100;
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 100; i++) {
          burst.append(pay(r, at, Math.exp(Math.log(40) + 0.5 * r.nextGaussian()),
              COUNTRIES[r.nextInt(COUNTRIES.length)])).append('\n');
        }
        for (int i = 0; i < 30; i++) {
          burst.append(pay(r, at, 1_000_000 + i, "kp")).append('\n');
        }
        assertEquals(202, p.postNdjson("pay", burst.toString()));
        LiveClient.Msg fin = sse.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final", false)
            && m.json().getLong("start") <= at && at < m.json().getLong("end"), 15_000);
        assertEquals(130, fin.json().getLong("count"));
        long outliers = fin.json().getLong("outliers", 0L);
        assertTrue(outliers >= 30 && outliers <= 40, "the burst's 30 outliers counted in the rollup: " + outliers);
      }
    }
  }

  /** A payment as ScoringServerTest makes them (the single node's figures for the same model). */
  private static String pay(java.util.Random r, long ts, double amount, String country) {
    String[] regions = {"eu", "us", "apac"};
    return new JsonObject().put("ts", ts).put("dims", new JsonObject().put("country", country)
        .put("region", regions[r.nextInt(3)])).put("values", new JsonObject().put("amount", amount)
        .put("items", 1 + r.nextInt(4))).encode();
  }

  private static final String[] COUNTRIES = {"us", "us", "us", "gb", "gb", "de", "fr", "nl"};

  @Test
  void storedHistoryEqualsAcknowledgedEventsThroughJoinLeaveAndCrash() throws Exception {
    long acked = 0;
    TestPulse a = TestPulse.startWithStorage(db, conf("t1"));
    TestPulse b = TestPulse.startWithStorage(db, conf("t1"));
    TestPulse c = null;
    List<LiveClient> clients = new ArrayList<>();
    try {
      LiveClient wa = LiveClient.websocket(a.port());
      LiveClient wb = LiveClient.websocket(b.port());
      clients.add(wa);
      clients.add(wb);
      for (LiveClient w : List.of(wa, wb)) {
        w.send(new JsonObject().put("op", "subscribe").put("id", "k").put("stream", "cl")
            .put("groupBy", new JsonArray().add("k")));
        w.await(m -> "k".equals(m.json().getString("sub")) && "subscribed".equals(m.type()), 10_000);
      }
      for (int i = 0; i < 20; i++) {
        acked += post(i % 2 == 0 ? a : b, 100, i);
      }
      // every series reaches the subscribers of both instances, whichever owns it
      Await.until("both instances' subscribers see all " + SERIES + " series", () -> List.of(seriesSeen(wa).size(),
          seriesSeen(wb).size()), s -> s.get(0) == SERIES && s.get(1) == SERIES, 30_000);

      c = TestPulse.startWithStorage(db, conf("t1")); // joins: partitions move
      for (int i = 0; i < 30; i++) {
        acked += post(List.of(a, b, c).get(i % 3), 100, i);
      }
      b.close(); // leaves gracefully: its partitions go to a and c
      b = null;
      for (int i = 0; i < 20; i++) {
        acked += post(i % 2 == 0 ? a : c, 100, i);
      }
      // a crash: c's Vert.x goes without the stop's drain (no last flush, no last commit)
      c.pulse().vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      c = null;
      for (int i = 0; i < 20; i++) {
        acked += post(a, 100, i);
      }
      long want = acked;
      Await.until("stored history equals the " + want + " acknowledged events", ClusterTest::stored,
          n -> n == want, 90_000, 250);
      // and stays so: replays after the crash do not add to it
      Await.until("the surviving instance owns every partition", () -> a.get("/metrics").body(),
          m -> m.contains("pulse_kafka_partitions_owned 6.0"), 30_000);
    } finally {
      for (LiveClient w : clients) {
        w.close();
      }
      for (TestPulse p : new TestPulse[] {a, b, c}) {
        if (p != null) {
          p.close();
        }
      }
    }
    assertEquals(acked, stored(), "stored history after every instance stopped");
  }
}

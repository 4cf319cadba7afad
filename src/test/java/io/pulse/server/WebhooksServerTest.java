package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Caller;
import io.pulse.notify.Signature;
import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.verticles.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Webhook notifications on a real server and database against a real local HTTP receiver: the
 * signature, retries, a receiver that is down for a while, silenced transitions, give-up, restart.
 */
class WebhooksServerTest {

  private static final String SECRET = "whsec_test_0123456789abcdef";
  /** Short waits so retries happen within a test: group 100 ms, backoff 50 ms doubling to 200 ms. */
  private static final JsonObject FAST = new JsonObject().put("notify", new JsonObject().put("groupWaitMs", 100)
      .put("backoffBaseMs", 50).put("backoffCapMs", 200).put("giveUpAfterMs", 60_000).put("connectTimeoutMs", 500)
      .put("requestTimeoutMs", 2_000));

  private static Vertx receiverVertx;

  @BeforeAll
  static void vertx() {
    receiverVertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() throws Exception {
    receiverVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** What a receiver got: one POST. */
  record Received(String delivery, String timestamp, String signature, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** A webhook receiver: answers the n-th request (from 1) with {@code status.applyAsInt(n)}, records them all. */
  static final class Receiver implements AutoCloseable {
    final List<Received> got = new CopyOnWriteArrayList<>();
    final AtomicInteger n = new AtomicInteger();
    final HttpServer server;

    Receiver(int port, IntUnaryOperator status) throws Exception {
      server = receiverVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
        got.add(new Received(req.getHeader(Signature.DELIVERY_HEADER), req.getHeader(Signature.TIMESTAMP_HEADER),
            req.getHeader(Signature.SIGNATURE_HEADER), b.toString()));
        int s = status.applyAsInt(n.incrementAndGet());
        req.response().setStatusCode(s).end(s == 200 ? "ok" : "receiver says no");
      })).listen(port, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    String url() {
      return "http://127.0.0.1:" + server.actualPort() + "/hook";
    }

    @Override
    public void close() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  private static String createWebhook(TestPulse p, String url) {
    HttpResponse<String> r = p.request("POST", "/api/v1/webhooks", new JsonObject().put("name", "on-call")
        .put("url", url).put("secret", SECRET).encode());
    assertEquals(201, r.statusCode(), r.body());
    return json(r).getString("id");
  }

  private static JsonObject transition(String rule, String series, boolean notify) {
    return new JsonObject().put("type", "alert").put("id", rule + "-" + series).put("rule", rule)
        .put("ruleName", "rule " + rule).put("state", "firing").put("severity", "critical").put("stream", "payments")
        .put("series", new JsonObject().put("region", series)).put("value", 912.0).put("message", "p99 above 800")
        .put("at", System.currentTimeMillis()).put("tenant", "default")
        .put("labels", new JsonObject().put("team", "payments")).put("previous", "pending").put("flapping", false)
        .put("notify", notify);
  }

  private static void publish(TestPulse p, JsonObject transition) {
    p.pulse().vertx().eventBus().publish(Addresses.ALERTS, transition);
  }

  private static JsonArray deliveries(TestPulse p, String hook, String state) {
    return p.awaitJson("/api/v1/webhooks/" + hook + "/deliveries" + (state == null ? "" : "?state=" + state),
        j -> true).getJsonArray("deliveries");
  }

  /** The value of one Prometheus sample line whose name and labels contain every part given. */
  private static double metric(TestPulse p, String name, String... labels) {
    String text = p.get("/metrics").body();
    for (String line : text.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        Matcher m = Pattern.compile(" ([0-9.Ee+-]+)$").matcher(line);
        if (m.find()) {
          return Double.parseDouble(m.group(1));
        }
      }
    }
    return Double.NaN;
  }

  @Test
  @DisplayName("a grouped notification is signed (verifies with the secret, a replay or an old timestamp refused), "
      + "retried after two 500s and delivered; silenced transitions are not sent")
  void signedRetriedDelivered() throws Exception {
    try (Receiver receiver = new Receiver(0, n -> n <= 2 ? 500 : 200);
        TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), FAST)) {
      String hook = createWebhook(p, receiver.url());
      publish(p, transition("r-silenced", "eu", false)); // silenced or flapping: shown, not sent
      publish(p, transition("r1", "eu", true));
      publish(p, transition("r1", "us", true));

      Await.until("three attempts at the receiver", receiver.got::size, n -> n >= 3, 15_000);
      JsonObject done = Await.until("the delivery delivered, seen through the API",
          () -> deliveries(p, hook, "delivered"), a -> a.size() == 1, 10_000).getJsonObject(0);
      assertEquals(3, done.getInteger("attempts"));
      assertEquals(200, done.getInteger("lastStatus"));
      assertEquals(3, receiver.got.size(), "no attempt after the 200");

      Signature.Verifier verifier = new Signature.Verifier(SECRET);
      long now = System.currentTimeMillis();
      for (Received r : receiver.got) {
        Signature.Verifier.Result ok = verifier.verify(r.timestamp(), r.signature(), r.body(), now);
        assertTrue(ok.ok(), ok.reason());
        assertEquals(done.getString("id"), r.delivery(), "every attempt names the same delivery");
        assertEquals(r.delivery(), r.json().getString("delivery"), "and the signed body names it too");
      }
      Received first = receiver.got.get(0);
      assertEquals("replayed: this signature was accepted before",
          verifier.verify(first.timestamp(), first.signature(), first.body(), now).reason());
      Signature.Verifier later = new Signature.Verifier(SECRET);
      Signature.Verifier.Result old = later.verify(first.timestamp(), first.signature(), first.body(),
          Long.parseLong(first.timestamp()) + Signature.DEFAULT_TOLERANCE_MS + 1);
      assertFalse(old.ok());
      assertTrue(old.reason().contains("too old"), old.reason());
      assertFalse(new Signature.Verifier("whsec_another_secret_0000").verify(first.timestamp(), first.signature(),
          first.body(), now).ok(), "another secret does not verify");

      JsonObject body = first.json();
      assertEquals("notification", body.getString("type"));
      assertEquals("r1", body.getString("rule"));
      assertEquals(2, body.getJsonArray("alerts").size(), "both series of the rule in one notification");
      assertEquals("firing", body.getJsonArray("alerts").getJsonObject(0).getString("state"));
      for (Received r : receiver.got) {
        assertEquals("r1", r.json().getString("rule"), "the silenced transition was never sent");
      }
      assertEquals(1.0, metric(p, "pulse_notify_transitions_total", "handled=\"quiet\""));
      assertEquals(1.0, metric(p, "pulse_notify_deliveries_total", "outcome=\"delivered\""));
      assertEquals(2.0, metric(p, "pulse_notify_attempts_total", "result=\"http_error\""));
      assertEquals(0.0, metric(p, "pulse_notify_pending"));
    }
  }

  @Test
  @DisplayName("a receiver that is down for a while (port closed, then opened) gets the delivery once it is up")
  void receiverDownThenUp() throws Exception {
    int port = TestPulse.freePort();
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), FAST)) {
      String hook = createWebhook(p, "http://127.0.0.1:" + port + "/hook");
      publish(p, transition("r1", "eu", true));
      JsonObject waiting = Await.until("attempts failing while the receiver is down",
          () -> deliveries(p, hook, "pending"), a -> a.size() == 1 && a.getJsonObject(0).getInteger("attempts") >= 2,
          15_000).getJsonObject(0);
      assertNull(waiting.getValue("lastStatus"), "no answer while down");
      assertNotNull(waiting.getString("lastError"));
      assertTrue(metric(p, "pulse_notify_attempts_total", "result=\"unreachable\"") >= 2);
      assertEquals(1.0, metric(p, "pulse_notify_pending"));
      assertTrue(metric(p, "pulse_notify_oldest_pending_age_seconds") > 0, "the waiting delivery's age");

      try (Receiver receiver = new Receiver(port, n -> 200)) {
        Await.until("the delivery once the receiver is up", receiver.got::size, n -> n >= 1, 15_000);
        JsonObject done = Await.until("delivered through the API", () -> deliveries(p, hook, "delivered"),
            a -> a.size() == 1, 10_000).getJsonObject(0);
        assertEquals(waiting.getString("id"), done.getString("id"));
        assertTrue(done.getInteger("attempts") >= 3, done.encode());
        assertEquals(done.getString("id"), receiver.got.get(0).delivery());
      }
    }
  }

  @Test
  @DisplayName("a receiver that does not answer in notify.requestTimeoutMs: the attempt fails with the reason, the next one delivers")
  void receiverTooSlow() throws Exception {
    JsonObject conf = FAST.copy();
    conf.getJsonObject("notify").put("requestTimeoutMs", 300).put("backoffBaseMs", 1_000).put("backoffCapMs", 1_000);
    AtomicInteger seen = new AtomicInteger();
    HttpServer silent = receiverVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      if (seen.incrementAndGet() > 1) {
        req.response().setStatusCode(200).end();
      } // the first request gets no answer at all
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), conf)) {
      String hook = createWebhook(p, "http://127.0.0.1:" + silent.actualPort() + "/hook");
      publish(p, transition("r1", "eu", true));
      JsonObject waiting = Await.until("the first attempt timed out", () -> deliveries(p, hook, null),
          a -> a.size() == 1 && a.getJsonObject(0).getInteger("attempts") >= 1, 10_000).getJsonObject(0);
      if (waiting.getString("state").equals("pending")) { // else the retry was quicker than this look
        assertTrue(waiting.getString("lastError").contains("notify.requestTimeoutMs"), waiting.encode());
      }
      JsonObject done = Await.until("delivered by the retry", () -> deliveries(p, hook, "delivered"),
          a -> a.size() == 1, 10_000).getJsonObject(0);
      assertEquals(2, done.getInteger("attempts"));
      assertEquals(1.0, metric(p, "pulse_notify_attempts_total", "result=\"unreachable\""));
    } finally {
      silent.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("a notification that cannot be delivered before the give-up age shows as failed, in the API and the metric")
  void givesUp() throws Exception {
    JsonObject conf = FAST.copy();
    conf.getJsonObject("notify").put("giveUpAfterMs", 1_000);
    try (Receiver receiver = new Receiver(0, n -> 500);
        TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), conf)) {
      String hook = createWebhook(p, receiver.url());
      publish(p, transition("r1", "eu", true));
      JsonObject failed = Await.until("the delivery failed", () -> deliveries(p, hook, "failed"), a -> a.size() == 1,
          15_000).getJsonObject(0);
      assertTrue(failed.getString("lastError").startsWith("gave up after"), failed.encode());
      assertTrue(failed.getString("lastError").contains("HTTP 500"), failed.encode());
      assertEquals(500, failed.getInteger("lastStatus"));
      assertEquals(failed.getInteger("attempts"), receiver.got.size(), "every attempt counted");
      assertEquals(0, deliveries(p, hook, "pending").size());
      Await.until("the failure counted", () -> metric(p, "pulse_notify_deliveries_total", "outcome=\"gave_up\""),
          v -> v == 1.0, 5_000);
      assertEquals(1.0, metric(p, "pulse_notify_failed_total"));
    }
  }

  @Test
  @DisplayName("a pending delivery survives a restart and is delivered by the next run")
  void resumesAfterRestart() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    int port = TestPulse.freePort();
    String hook;
    String id;
    try (TestPulse p = TestPulse.startWithStorage(db, FAST)) {
      hook = createWebhook(p, "http://127.0.0.1:" + port + "/hook");
      publish(p, transition("r1", "eu", true));
      id = Await.until("a pending delivery stored", () -> deliveries(p, hook, "pending"),
          a -> a.size() == 1 && a.getJsonObject(0).getInteger("attempts") >= 1, 15_000).getJsonObject(0).getString("id");
    }
    try (Receiver receiver = new Receiver(port, n -> 200); TestPulse p = TestPulse.startWithStorage(db, FAST)) {
      Await.until("the delivery from the next run", receiver.got::size, n -> n >= 1, 15_000);
      assertEquals(id, receiver.got.get(0).delivery());
      assertTrue(new Signature.Verifier(SECRET).verify(receiver.got.get(0).timestamp(),
          receiver.got.get(0).signature(), receiver.got.get(0).body(), System.currentTimeMillis()).ok());
      Await.until("delivered through the API", () -> deliveries(p, hook, "delivered"), a -> a.size() == 1, 10_000);
    }
  }

  @Test
  @DisplayName("transitions still waiting for their group at a stop are stored and delivered by the next run")
  void openGroupsSurviveStop() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject conf = FAST.copy();
    conf.getJsonObject("notify").put("groupWaitMs", 600_000); // the group is surely still open at the stop
    int port = TestPulse.freePort();
    String hook;
    try (TestPulse p = TestPulse.startWithStorage(db, conf)) {
      hook = createWebhook(p, "http://127.0.0.1:" + port + "/hook");
      publish(p, transition("r1", "eu", true));
      Await.until("the transition grouped", () -> metric(p, "pulse_notify_transitions_total", "handled=\"grouped\""),
          v -> v == 1.0, 5_000);
      assertEquals(0, deliveries(p, hook, null).size(), "still waiting for its group");
    }
    try (Receiver receiver = new Receiver(port, n -> 200); TestPulse p = TestPulse.startWithStorage(db, conf)) {
      Await.until("the notification from the next run", receiver.got::size, n -> n >= 1, 15_000);
      assertEquals("r1", receiver.got.get(0).json().getString("rule"));
      Await.until("delivered through the API", () -> deliveries(p, hook, "delivered"), a -> a.size() == 1, 10_000);
    }
  }

  @Test
  @DisplayName("webhooks API: the secret shown once, CRUD, test notification, 4xx with reasons, per tenant")
  void api() throws Exception {
    try (Receiver receiver = new Receiver(0, n -> 200);
        TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), FAST)) {
      p.pulse().callers((header, param) -> {
        String t = header.apply("X-Test-Tenant");
        return t == null ? Caller.ANONYMOUS : new Caller(t, "user-" + t);
      });
      HttpResponse<String> created = p.request("POST", "/api/v1/webhooks", new JsonObject().put("id", "pager")
          .put("name", "pager").put("url", receiver.url()).put("match", new JsonObject().put("severity",
              new JsonArray().add("critical"))).encode());
      assertEquals(201, created.statusCode(), created.body());
      assertEquals("/api/v1/webhooks/pager", created.headers().firstValue("Location").orElse(""));
      String secret = json(created).getString("secret");
      assertTrue(secret != null && secret.startsWith("whsec_") && secret.length() >= 32, created.body());

      String read = p.request("GET", "/api/v1/webhooks/pager", null).body();
      assertFalse(read.contains(secret), "never shown again: " + read);
      assertEquals(receiver.url(), new JsonObject(read).getString("url"));
      String list = p.request("GET", "/api/v1/webhooks", null).body();
      assertFalse(list.contains(secret), list);
      assertEquals(1, new JsonObject(list).getJsonArray("webhooks").size());
      assertEquals(409, p.request("POST", "/api/v1/webhooks", new JsonObject().put("id", "pager").put("name", "x")
          .put("url", receiver.url()).encode()).statusCode());

      HttpResponse<String> test = p.request("POST", "/api/v1/webhooks/pager/test", null);
      assertEquals(200, test.statusCode(), test.body());
      assertEquals("delivered", json(test).getJsonObject("delivery").getString("state"));
      Received got = receiver.got.get(0);
      assertEquals("test", got.json().getString("type"));
      assertTrue(new Signature.Verifier(secret).verify(got.timestamp(), got.signature(), got.body(),
          System.currentTimeMillis()).ok(), "signed with the secret shown at creation");

      HttpResponse<String> put = p.request("PUT", "/api/v1/webhooks/pager", new JsonObject().put("name", "pager 2")
          .put("url", receiver.url()).put("enabled", false).encode());
      assertEquals(200, put.statusCode(), put.body());
      assertFalse(put.body().contains(secret));
      assertEquals(false, json(p.request("GET", "/api/v1/webhooks/pager", null)).getBoolean("enabled"));
      assertEquals(200, p.request("POST", "/api/v1/webhooks/pager/test", null).statusCode(),
          "a test goes to a disabled webhook too");
      assertTrue(new Signature.Verifier(secret).verify(receiver.got.get(1).timestamp(),
          receiver.got.get(1).signature(), receiver.got.get(1).body(), System.currentTimeMillis()).ok(),
          "a PUT without a secret keeps it");

      // 4xx with reasons
      HttpResponse<String> ftp = p.request("POST", "/api/v1/webhooks", "{\"name\":\"x\",\"url\":\"ftp://h/\"}");
      assertEquals(400, ftp.statusCode());
      assertTrue(json(ftp).getString("error").startsWith("url:"), ftp.body());
      assertEquals(400, p.request("POST", "/api/v1/webhooks", "{\"name\":\"x\",\"url\":\"http://h/\",\"secret\":\"short\"}")
          .statusCode());
      assertEquals(400, p.request("POST", "/api/v1/webhooks", "[1]").statusCode());
      assertEquals(400, p.request("GET", "/api/v1/webhooks/pager/deliveries?state=lost", null).statusCode());
      assertEquals(404, p.request("GET", "/api/v1/webhooks/nope", null).statusCode());
      assertEquals(404, p.request("POST", "/api/v1/webhooks/nope/test", null).statusCode());
      assertEquals(404, p.request("GET", "/api/v1/webhooks/nope/deliveries", null).statusCode());

      // another tenant sees none of it
      assertEquals(0, json(p.request("GET", "/api/v1/webhooks", null, "X-Test-Tenant", "acme"))
          .getJsonArray("webhooks").size());
      assertEquals(404, p.request("GET", "/api/v1/webhooks/pager", null, "X-Test-Tenant", "acme").statusCode());
      assertEquals(404, p.request("POST", "/api/v1/webhooks/pager/test", null, "X-Test-Tenant", "acme").statusCode());
      assertEquals(404, p.request("DELETE", "/api/v1/webhooks/pager", null, "X-Test-Tenant", "acme").statusCode());

      JsonArray tests = deliveries(p, "pager", null);
      assertEquals(2, tests.size());
      assertEquals(200, p.request("DELETE", "/api/v1/webhooks/pager", null).statusCode());
      assertEquals(404, p.request("GET", "/api/v1/webhooks/pager", null).statusCode());
      JsonArray audit = json(p.request("GET", "/api/v1/audit?action=webhook.", null)).getJsonArray("entries");
      assertEquals(List.of("webhook.delete", "webhook.update", "webhook.create"),
          audit.stream().map(e -> ((JsonObject) e).getString("action")).toList());
    }
  }
}

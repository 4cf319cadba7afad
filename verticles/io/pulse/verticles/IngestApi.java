package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;

import io.pulse.core.StreamId;
import io.pulse.ingest.BodyException;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.IngestJob;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.ParseResult;
import io.pulse.ingest.Rejection;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;

/**
 * Ingest over HTTP (API.md "Ingest"): the checks that need no body, the body parsed on this
 * event loop and routed to the shards; and the quarantine's requeue, which puts one stored event
 * through the same path.
 */
final class IngestApi implements QuarantineApi.Requeue {

  private static final int MAX_ERRORS_LISTED = 100;

  private final Vertx vertx;
  private final PulseContext ctx;
  private final EventParser parser;
  private final Ingestor ingestor;
  /** This instance's counts of events sent to each shard (its own; see PulseContext). */
  private final PulseContext.Sender sender;
  /** Bodies being taken in (answered or refused when they leave); this event loop's own count. */
  private int inFlight;
  /** A stop waiting for {@link #inFlight} to reach 0. */
  private final List<io.vertx.core.Promise<Void>> quietWaiters = new java.util.ArrayList<>();

  IngestApi(Vertx vertx, PulseContext ctx) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.parser = new EventParser(ctx.config.ingest());
    this.ingestor = ctx.ingestor;
    this.sender = ctx.sender();
  }

  /** Checks that need no body (draining, overload, path, Content-Type and -Length): they answer before it is read. */
  void checkIngest(RoutingContext rc) {
    if (ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down; retry against another instance or shortly");
      return;
    }
    if (ctx.overloaded()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
      error(rc, 503, "aggregation is behind; retry in a second");
      return;
    }
    if (ctx.store.get().full()) {
      long seconds = Math.max(1, (ctx.config.storage().retryMs() + 999) / 1000 + 1);
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
      error(rc, 503, "storage is behind (" + (ctx.storageProblem() != null ? ctx.storageProblem()
          : "the database is slow") + "); " + ctx.store.get().depth() + " final rollups wait to be written "
          + "(storage.writeQueue); retry in " + seconds + " s");
      return;
    }
    String tenant = Callers.of(rc).tenant();
    if (ctx.store.get().tenantFull(tenant)) {
      long seconds = Math.max(1, (ctx.config.storage().retryMs() + 999) / 1000 + 1);
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
      error(rc, 503, "storage is behind for this tenant: "
          + ctx.quota.refusal(tenant, io.pulse.core.TenantQuota.Resource.STORAGE_BACKLOG)
          + " waiting to be written; retry in " + seconds + " s");
      return;
    }
    String stream = rc.pathParam("stream");
    if (stream != null && !StreamId.validName(stream)) {
      error(rc, 400, "stream: \"" + stream + "\" in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    String len = rc.request().getHeader(HttpHeaders.CONTENT_LENGTH);
    if (len != null) {
      try {
        if (Long.parseLong(len) > ctx.config.ingest().maxBodyBytes()) {
          tooLarge(rc);
          return;
        }
      } catch (NumberFormatException e) {
        error(rc, 400, "Content-Length is not a number");
        return;
      }
    }
    try {
      rc.put("format", BodyFormat.of(rc.request().getHeader(HttpHeaders.CONTENT_TYPE)));
    } catch (BodyException e) {
      error(rc, e.status(), e.getMessage());
      return;
    }
    rc.next();
  }

  void tooLarge(RoutingContext rc) {
    error(rc, 413, "the body is larger than " + ctx.config.ingest().maxBodyBytes() + " bytes (ingest.maxBodyBytes)");
  }

  void ingest(RoutingContext rc) {
    inFlight++;
    Buffer buf = rc.body().buffer();
    byte[] bytes = buf == null ? new byte[0] : buf.getBytes();
    io.pulse.core.Caller caller = Callers.of(rc);
    IngestJob job = new IngestJob(parser, ingestor, bytes, rc.get("format"), caller.tenant(),
        rc.pathParam("stream"), ctx.clock.millis(), "http");
    if (!caller.grants().allowsAll(io.pulse.core.Scope.INGEST)) { // a narrowed ingest scope (ingest:checkout*)
      job.onlyStreams(name -> caller.grants().allows(io.pulse.core.Scope.INGEST, name));
    }
    if (ctx.cluster != null) {
      List<io.pulse.event.Event> valid = new java.util.ArrayList<>();
      job.forwardTo(valid::addAll);
      rc.put("forwarded", valid);
    }
    ingestSlices(rc, job);
  }

  /**
   * One slice of a body (see IngestJob: a few ms at most), then the next one on a later turn of this
   * loop, so a large body does not hold the shard and the sockets that share it. A timer, not
   * runOnContext: the loop runs queued tasks back to back, and only a timer lets its I/O in between.
   * A stop that begins meanwhile refuses a body still being parsed (nothing of it is kept yet) and
   * has one being routed finish at once, before the shards close their windows.
   */
  private void ingestSlices(RoutingContext rc, IngestJob job) {
    // a body that passed the admission check before a stop began, and whose events are not routed yet:
    // refused whole, so that nothing reaches a shard after the stop has waited for this instance
    if (ctx.draining.get() && !job.routing()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down; retry against another instance or shortly");
      left();
      return;
    }
    try {
      do {
        sender.dispatch(vertx.eventBus(), job.step());
      } while (!job.done() && job.routing() && ctx.draining.get());
    } catch (BodyException e) {
      error(rc, e.status(), e.getMessage());
      left();
      return;
    } catch (RuntimeException e) {
      left(); // a stop waiting for this instance must not wait on a body that failed
      rc.fail(e);
      return;
    }
    if (!job.done() && ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down; retry against another instance or shortly");
      left();
      return;
    }
    if (!job.done()) {
      vertx.setTimer(1, t -> ingestSlices(rc, job));
      return;
    }
    Ingestor.Outcome out = job.outcome();
    List<io.pulse.event.Event> forwarded = rc.get("forwarded");
    if (forwarded != null && !forwarded.isEmpty()) {
      // cluster mode: acknowledged only once the broker has every event (acks=all); the instance that
      // owns each partition aggregates and stores them
      ctx.cluster.produce(forwarded, job.now()).onComplete(ar -> {
        left();
        if (ar.failed()) {
          rc.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
          error(rc, 503, "the event log (Kafka) did not take the events (" + ar.cause().getMessage()
              + "); none of them is acknowledged: retry (events of this body that did reach it may be counted twice)");
          return;
        }
        answer(rc, out);
      });
      return;
    }
    left();
    answer(rc, out);
  }

  /** The 202 of a body taken in. */
  private void answer(RoutingContext rc, Ingestor.Outcome out) {
    JsonArray errors = new JsonArray();
    List<Rejection> rej = out.rejections();
    rej.sort(Comparator.comparingInt(Rejection::index));
    for (int i = 0; i < rej.size() && i < MAX_ERRORS_LISTED; i++) {
      errors.add(new JsonObject().put("index", rej.get(i).index()).put("error", rej.get(i).error()));
    }
    JsonObject answer = new JsonObject().put("accepted", out.accepted()).put("rejected", rej.size())
        .put("errors", errors);
    if (rej.size() > MAX_ERRORS_LISTED) {
      answer.put("errorsTruncated", true);
    }
    if (out.late() > 0) {
      answer.put("late", out.late());
    }
    if (out.overflowed() > 0) {
      answer.put("overflowed", out.overflowed()).put("overflowNote", out.overflowNote());
    }
    RateLimitStep.chargeEvents(ctx.edge, rc, out.accepted() + rej.size()); // limits.ingestEventsPer*
    json(rc, 202, answer);
  }

  /** A body left (answered, refused, or failed): a stop waiting for this instance may go on. */
  private void left() {
    if (--inFlight == 0 && !quietWaiters.isEmpty()) {
      List<io.vertx.core.Promise<Void>> ws = new java.util.ArrayList<>(quietWaiters);
      quietWaiters.clear();
      ws.forEach(io.vertx.core.Promise::complete);
    }
  }

  /**
   * Completes once no body of this instance is being taken in. Called by a stop, after it set
   * draining, on this instance's event loop: from then on no event of it reaches a shard.
   */
  io.vertx.core.Future<Void> quiet() {
    if (inFlight == 0) {
      return io.vertx.core.Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    quietWaiters.add(p);
    return p.future();
  }

  // ---- requeue of quarantined events ----

  /** A quarantined payload parsed again as one event: the parse, or why it is not one valid event. */
  private Object parseOne(String tenant, String payload, String stream, long now) {
    ParseResult parsed;
    try {
      parsed = parser.parse(payload.getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, tenant, stream, now);
    } catch (BodyException e) {
      return e.getMessage();
    }
    if (!parsed.rejections().isEmpty()) {
      return parsed.rejections().get(0).error();
    }
    if (parsed.events().size() != 1) {
      return "the stored payload holds " + parsed.events().size() + " events, not one";
    }
    return parsed;
  }

  @Override
  public String check(String tenant, String payload, String stream) {
    Object p = parseOne(tenant, payload, stream, ctx.clock.millis());
    return p instanceof String ? (String) p : null;
  }

  @Override
  public String ingest(String tenant, String payload, String stream) {
    long now = ctx.clock.millis();
    Object p = parseOne(tenant, payload, stream, now);
    if (p instanceof String) {
      return (String) p;
    }
    if (ctx.cluster != null) { // the owner of its partition takes it, as any event of the cluster
      ParseResult parsed = (ParseResult) p;
      List<io.pulse.event.Event> admitted = new java.util.ArrayList<>(1);
      Ingestor.Outcome out = ingestor.admit(parsed, 0, parsed.events().size(), now, "requeue", null, admitted);
      if (!out.rejections().isEmpty()) {
        return out.rejections().get(0).error();
      }
      ctx.cluster.produce(admitted, now).onFailure(e -> org.slf4j.LoggerFactory.getLogger(IngestApi.class)
          .warn("kafka: a requeued event did not reach the events topic: {}", e.toString()));
      return null;
    }
    Ingestor.Outcome out = ingestor.ingest((ParseResult) p, tenant, now, "requeue");
    sender.dispatch(vertx.eventBus(), out.batches());
    if (!out.rejections().isEmpty()) {
      return out.rejections().get(0).error();
    }
    return out.accepted() == 1 ? null : "late again: its window closed long ago (quarantined anew)";
  }
}

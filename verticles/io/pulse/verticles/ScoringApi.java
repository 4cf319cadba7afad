package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;

import io.pulse.core.StreamId;
import io.pulse.core.Times;
import io.pulse.http.QueryParams;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Event scoring over HTTP: a stream's model ({@code GET .../model}), training on demand
 * ({@code POST .../model/train}, 202 with the job) and its outliers ({@code GET .../outliers}).
 * Checks the request, asks the {@link ScoringVerticle} (which owns the models and outliers) over
 * the event bus, and answers what it says; no answer in time is a 503.
 */
final class ScoringApi {

  /** The most outliers one answer lists. */
  static final int MAX_LIMIT = 1000;

  private final PulseContext ctx;

  ScoringApi(PulseContext ctx) {
    this.ctx = ctx;
  }

  void model(RoutingContext rc) {
    ask(rc, "model", new JsonObject());
  }

  void train(RoutingContext rc) {
    ask(rc, "train", new JsonObject());
  }

  /** {@code from}, {@code to}: epoch ms, ISO-8601 or a duration back (15m); default everything; limit 1–1000 (100). */
  void outliers(RoutingContext rc) {
    QueryParams p = Replies.params(rc);
    long now = ctx.clock.millis();
    long from = time(p.raw("from"), "from", 0, now);
    long to = time(p.raw("to"), "to", Long.MAX_VALUE, now);
    int limit = p.intParam("limit", 100, 1, MAX_LIMIT);
    ask(rc, "outliers", new JsonObject().put("from", from).put("to", to).put("limit", limit));
  }

  private static long time(String v, String name, long dflt, long now) {
    if (v == null) {
      return dflt;
    }
    try {
      long ago = Times.durationMs(v.trim());
      return ago >= 0 ? now - ago : Times.parseInstant(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage());
    }
  }

  private void ask(RoutingContext rc, String op, JsonObject q) {
    String name = rc.pathParam("stream");
    if (!StreamId.validName(name)) {
      error(rc, 400, "stream: " + QueryParams.shown(name) + " in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    StreamId id = Callers.of(rc).stream(name);
    q.put("op", op).put("tenant", id.tenant()).put("stream", id.name());
    long timeout = ctx.config.storage().queryTimeoutMs() * 2 + 1_000;
    rc.vertx().eventBus().<JsonObject>request(Addresses.SCORE_API, q, new DeliveryOptions().setSendTimeout(timeout))
        .onSuccess(m -> json(rc, m.body().getInteger("status"), m.body().getJsonObject("body")))
        .onFailure(e -> {
          rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
          error(rc, 503, "scoring did not answer: " + e.getMessage());
        });
  }
}

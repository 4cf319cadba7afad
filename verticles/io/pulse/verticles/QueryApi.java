package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;

import io.pulse.core.Scope;
import io.pulse.core.StreamId;
import io.pulse.query.PanelQuery;
import io.pulse.query.QueryAnswer;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/v1/query?q=<JSON>} and {@code POST /api/v1/query}: a panel's query and derived
 * figure over stored history (wallboard contract section 3; {@link PanelQuery}, {@link QueryAnswer},
 * {@link io.pulse.query.Derive}). History is read and merged by the same code as
 * {@code /api/v1/streams/{stream}/series} ({@link StreamsApi#history}), with its checks and limits.
 */
final class QueryApi {

  private static final List<String> PARAMS = List.of("q", "panel", "from", "to", "tz");

  private final PulseContext ctx;
  private final StreamsApi streams;
  private final WorkerExecutor pool;

  /** {@code pool}: the history pool /series merges on (its StreamsApi, which holds no state of its own, is made here). */
  QueryApi(PulseContext ctx, WorkerExecutor pool) {
    this.ctx = ctx;
    this.streams = new StreamsApi(ctx, pool);
    this.pool = pool;
  }

  /** The request in the query string: {@code q} (or {@code panel}) a JSON object; from, to, tz beside it or in it. */
  void get(RoutingContext rc) {
    Map<String, List<String>> params = Replies.toMap(rc.queryParams());
    for (String k : params.keySet()) {
      if (!PARAMS.contains(k)) {
        throw new IllegalArgumentException(io.pulse.core.Texts.clip(k) + ": not a parameter of this endpoint "
            + "(q: the JSON {\"query\", \"derive\", \"from\", \"to\", \"tz\"}; or from, to, tz beside it)");
      }
      if (params.get(k).size() > 1) {
        throw new IllegalArgumentException(k + ": give it once");
      }
    }
    String q = params.containsKey("q") ? params.get("q").get(0) : params.containsKey("panel")
        ? params.get("panel").get(0) : null;
    if (q == null || (params.containsKey("q") && params.containsKey("panel"))) {
      throw new IllegalArgumentException("q: required (once), the URL-encoded JSON {\"query\": {...}, \"derive\": "
          + "{...}, \"from\", \"to\", \"tz\"}");
    }
    JsonObject doc;
    try {
      doc = new JsonObject(q);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("q: not a JSON object");
    }
    for (String k : List.of("from", "to")) {
      if (params.containsKey(k)) {
        if (doc.containsKey(k)) {
          throw new IllegalArgumentException(k + ": given both in q and beside it");
        }
        doc.put(k, params.get(k).get(0));
      }
    }
    if (params.containsKey("tz")) {
      if (doc.containsKey("tz")) {
        throw new IllegalArgumentException("tz: given both in q and beside it");
      }
      String tz = params.get("tz").get(0).trim();
      try {
        doc.put("tz", Integer.parseInt(tz));
      } catch (NumberFormatException e) {
        doc.put("tz", tz); // refused with its reason by the parse
      }
    }
    run(rc, doc);
  }

  /** The request as the body. */
  void post(RoutingContext rc) {
    run(rc, Replies.bodyObject(rc));
  }

  private void run(RoutingContext rc, JsonObject doc) {
    long now = ctx.clock.millis();
    PanelQuery q = PanelQuery.parse(Callers.of(rc).tenant(), doc, now,
        name -> ctx.config.stream(name).windowMs());
    // the same checks as a route's {stream} (Callers), for every stream named, before saying anything of them
    for (StreamId s : q.streams()) {
      if (!Callers.streamAllowed(rc, Scope.READ, s.name())) {
        return;
      }
    }
    for (StreamId s : q.streams()) {
      if (!streams.historyReadable(rc, s)) { // as /series: storage on, stream seen
        return;
      }
    }
    Future<JsonObject> den = q.den() == null ? Future.succeededFuture(null) : streams.history(q.den());
    streams.history(q.num())
        .compose(num -> den.compose(d -> pool.executeBlocking(() -> QueryAnswer.render(q, num, d, now), false)))
        .onSuccess(body -> json(rc, 200, body))
        .onFailure(e -> {
          if (e instanceof IllegalArgumentException) {
            error(rc, 400, e.getMessage());
          } else {
            streams.historyFailed(rc, e);
          }
        });
  }
}

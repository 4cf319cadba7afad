package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.pulse.score.EventModel;
import io.pulse.score.ModelTrainer;
import io.pulse.score.Outlier;
import io.pulse.score.OutlierBatch;
import io.pulse.score.OutlierRecord;
import io.pulse.score.Reservoir;
import io.pulse.score.SampleMerge;
import io.pulse.score.ScoringBook;
import io.pulse.store.EventModelStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event models of the scored streams ({@code scoring.streams}): collects a stream's recent
 * events from the shards (request/reply), trains its model on the {@code pulse-score-train} worker
 * pool (never this event loop) on a schedule ({@link ScoringBook}) and on demand, publishes each
 * new model to every shard as one immutable object, keeps the outliers the shards report (newest
 * {@code scoring.keepOutliers} per stream in memory; in PostgreSQL too when storage is on, written
 * every second) and answers the scoring API ({@link ScoringApi}) over {@link Addresses#SCORE_API}.
 */
public final class ScoringVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ScoringVerticle.class);
  /** Outliers waiting to be stored at most; past it the oldest are dropped, counted. */
  static final int MAX_UNSAVED = 20_000;
  private static final int SAVE_BATCH = 5_000;

  private final PulseContext ctx;
  private final PulseConfig.Scoring settings;
  private ScoringBook book;
  private ModelTrainer trainer;
  private WorkerExecutor worker;
  private EventModelStore store;
  private final ArrayDeque<OutlierRecord> unsaved = new ArrayDeque<>();
  private Future<Void> saving = Future.succeededFuture();
  /** Completes once the stored model versions are read (or could not be). */
  private Future<Void> versionsRead = Future.succeededFuture();
  private Counter outliers;
  private Counter dropped;
  private Counter trained;
  private Counter failed;

  public ScoringVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.settings = ctx.config.scoring();
  }

  @Override
  public Future<?> start() {
    book = new ScoringBook(settings.retrainEveryMs(), settings.keepOutliers());
    trainer = new ModelTrainer(settings.nu(), settings.maxFeatures(), ctx.clock);
    worker = vertx.createSharedWorkerExecutor("pulse-score-train", 1, 10, TimeUnit.MINUTES);
    store = ctx.db == null ? null : new EventModelStore(ctx.db.pool());
    outliers = Counter.builder("pulse.score.outliers").description("Events scored as outliers (reported ones)")
        .register(ctx.registry);
    dropped = Counter.builder("pulse.score.outliers.unsaved")
        .description("Outliers not stored: the database was away or slower than they came").register(ctx.registry);
    trained = Counter.builder("pulse.score.trainings").tag("result", "done")
        .description("Event model trainings by result (done, failed)").register(ctx.registry);
    failed = Counter.builder("pulse.score.trainings").tag("result", "failed")
        .description("Event model trainings by result (done, failed)").register(ctx.registry);
    var reports = vertx.eventBus().<OutlierBatch>consumer(Addresses.SCORE_OUTLIERS, m -> onOutliers(m.body()));
    var api = vertx.eventBus().<JsonObject>consumer(Addresses.SCORE_API, this::onApi);
    if (!settings.streams().isEmpty()) {
      long tick = Math.min(settings.retrainEveryMs(), 5_000);
      vertx.setPeriodic(tick, t -> schedule());
      LOG.info("scoring: streams {} (nu {}, retrained every {} ms on up to {} events, at least {})",
          settings.streams(), settings.nu(), settings.retrainEveryMs(), settings.sample(), settings.minTrain());
    }
    if (store != null) {
      vertx.setPeriodic(1_000, t -> save());
      vertx.setPeriodic(3_600_000, t -> store.prune(ctx.clock.millis() - settings.outlierRetentionMs())
          .onFailure(e -> LOG.warn("scoring: pruning stored outliers failed: {}", e.toString())));
    }
    // versions count on from the stored ones (trainings wait for them, start does not: a slow database must
    // not hold the server's start); a database that does not answer only restarts them at 1
    versionsRead = store == null ? Future.succeededFuture()
        : StoreErrors.bounded(store.versions(), ctx.config.storage().queryTimeoutMs())
            .<Void>map(v -> {
              v.forEach(book::versionUsed);
              return null;
            })
            .recover(e -> {
              LOG.warn("scoring: stored model versions could not be read ({}); versions start at 1", e.toString());
              return Future.succeededFuture();
            });
    return Future.all(reports.completion(), api.completion());
  }

  /** Trains every live scored stream whose training is due. */
  private void schedule() {
    long now = ctx.clock.millis();
    for (var info : ctx.catalog.all()) {
      StreamId id = info.id();
      if (settings.scored(id.name()) && book.due(id, now)) {
        train(id, "schedule");
      }
    }
  }

  /** Starts a training of the stream (or answers the one running): sample from the shards, train on the worker. */
  private ScoringBook.Job train(StreamId id, String reason) {
    ScoringBook.Start start = book.start(id, reason, ctx.clock.millis());
    if (!start.started()) {
      return start.job();
    }
    ScoringBook.Job job = start.job();
    versionsRead.compose(v -> collect(id))
        .compose(slices -> worker.executeBlocking(() -> {
          List<Event> sample = SampleMerge.merge(slices, settings.sample(), job.id());
          if (sample.size() < settings.minTrain()) {
            throw new IllegalStateException("only " + sample.size() + " recent events of the stream; training needs "
                + settings.minTrain() + " (scoring.minTrain)");
          }
          return sample;
        }, false))
        .compose(sample -> {
          int version = book.nextVersion(id); // on this loop, once the stored versions are known
          return worker.executeBlocking(() -> trainer.train(id, sample, version), false);
        })
        .onSuccess(m -> {
          vertx.eventBus().publish(Addresses.SCORE_MODEL, m); // to the shards first, then the job says done
          book.succeeded(job, m, ctx.clock.millis());
          trained.increment();
          LOG.info("scoring: {} trained: version {}, {} events, {} ms, features {}", id, m.version(), m.trainingSize(),
              m.trainingMs(), m.features().names());
          if (store != null) {
            StoreErrors.bounded(store.saveModel(m), ctx.config.storage().queryTimeoutMs())
                .onFailure(e -> LOG.warn("scoring: the record of {} version {} was not stored: {}", id, m.version(),
                    e.toString()));
          }
        })
        .onFailure(e -> {
          book.failed(job, e.getMessage() == null ? e.toString() : e.getMessage(), ctx.clock.millis());
          failed.increment();
          LOG.debug("scoring: training {} failed: {}", id, e.toString());
        });
    return job;
  }

  /** Every shard's sample of the stream. */
  private Future<List<Reservoir.Slice>> collect(StreamId id) {
    JsonObject ask = new JsonObject().put("tenant", id.tenant()).put("stream", id.name());
    List<Future<Reservoir.Slice>> parts = new ArrayList<>();
    // cluster mode: one sampler, the cluster verticle's, for every partition this instance owns
    int samplers = ctx.cluster != null ? 1 : ctx.shards;
    for (int i = 0; i < samplers; i++) {
      parts.add(vertx.eventBus().<Reservoir.Slice>request(Addresses.scoreSample(i), ask,
          new DeliveryOptions().setSendTimeout(5_000)).map(Message::body));
    }
    return Future.all(parts).map(all -> all.<Reservoir.Slice>list());
  }

  private void onOutliers(OutlierBatch batch) {
    for (Outlier o : batch.outliers()) {
      OutlierRecord r = OutlierRecord.of(o);
      book.outlier(r);
      outliers.increment();
      if (store != null) {
        if (unsaved.size() >= MAX_UNSAVED) {
          unsaved.poll();
          dropped.increment();
        }
        unsaved.add(r);
      }
    }
  }

  /** Stores what is waiting, after any save still running; a batch the database refuses is dropped, counted. */
  private Future<Void> save() {
    saving = saving.transform(x -> {
      List<OutlierRecord> batch = new ArrayList<>();
      while (!unsaved.isEmpty() && batch.size() < SAVE_BATCH) {
        batch.add(unsaved.poll());
      }
      if (batch.isEmpty()) {
        return Future.succeededFuture();
      }
      return StoreErrors.bounded(store.saveOutliers(batch), ctx.config.storage().queryTimeoutMs())
          .<Void>mapEmpty()
          .recover(e -> {
            dropped.increment(batch.size());
            LOG.warn("scoring: {} outliers not stored: {}", batch.size(), e.toString());
            return Future.succeededFuture();
          });
    });
    return saving;
  }

  /** One scoring API call; the reply is the HTTP answer: {"status", "body"}. */
  private void onApi(Message<JsonObject> m) {
    JsonObject q = m.body();
    StreamId id = StreamId.of(q.getString("tenant"), q.getString("stream"));
    String name = id.name();
    switch (q.getString("op")) {
      case "model" -> {
        EventModel model = book.model(id);
        ScoringBook.Job job = book.job(id);
        if (model == null) {
          JsonObject err = new JsonObject().put("error", !settings.scored(name)
              ? "stream " + name + " is not scored (scoring.streams)" : "stream " + name + " has no model yet");
          m.reply(answer(404, job == null ? err : err.put("job", job.toJson())));
        } else {
          m.reply(answer(200, model.describe().put("job", job == null ? null : job.toJson())));
        }
      }
      case "train" -> {
        if (!settings.scored(name)) {
          m.reply(answer(409, new JsonObject().put("error", "stream " + name
              + " is not scored: name it in scoring.streams (PULSE_SCORING_STREAMS)")));
        } else if (ctx.catalog.get(id) == null) {
          m.reply(answer(404, new JsonObject().put("error", "no events of stream " + name
              + " have come in this run: a model trains on recent events")));
        } else {
          m.reply(answer(202, new JsonObject().put("job", train(id, "api").toJson())));
        }
      }
      case "outliers" -> {
        long from = q.getLong("from");
        long to = q.getLong("to");
        int limit = q.getInteger("limit");
        if (store == null) {
          m.reply(answer(200, list(name, book.outliers(id, from, to, limit)).put("stored", false)));
          return;
        }
        save().compose(v -> StoreErrors.bounded(store.outliers(id, from, to, limit),
                ctx.config.storage().queryTimeoutMs()))
            .onSuccess(rows -> m.reply(answer(200, list(name, rows).put("stored", true))))
            .onFailure(e -> m.reply(answer(503, new JsonObject().put("error",
                "storage: the database does not answer: " + StoreErrors.describe(e)))));
      }
      default -> m.reply(answer(400, new JsonObject().put("error", "unknown scoring operation")));
    }
  }

  private static JsonObject list(String stream, List<OutlierRecord> rows) {
    JsonArray a = new JsonArray();
    rows.forEach(r -> a.add(r.toJson()));
    return new JsonObject().put("stream", stream).put("outliers", a);
  }

  private static JsonObject answer(int status, JsonObject body) {
    return new JsonObject().put("status", status).put("body", body);
  }

  @Override
  public Future<?> stop() {
    return worker == null ? Future.succeededFuture() : worker.close();
  }
}

package io.pulse.verticles;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Pulse: a Vert.x instance and its verticles, deployed in dependency order (shards,
 * the combiner, the live sequencer, then the HTTP instances that feed and read them, the demo).
 * {@link Main} starts one from the command line; tests start as many as they like in-process.
 */
public final class Pulse {

  private static final Logger LOG = LoggerFactory.getLogger(Pulse.class);

  private final Vertx vertx;
  private final PulseContext ctx;
  private final int port;
  private final String demoDeployment;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private Pulse(Vertx vertx, PulseContext ctx, int port, String demoDeployment) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.port = port;
    this.demoDeployment = demoDeployment;
  }

  public static Future<Pulse> start(PulseConfig config) {
    return start(config, Clock.SYSTEM);
  }

  public static Future<Pulse> start(PulseConfig config, Clock clock) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    int loops = Runtime.getRuntime().availableProcessors();
    int shards = config.aggregation().shards() > 0 ? config.aggregation().shards() : loops;
    int httpInstances = config.http().instances() > 0 ? config.http().instances() : loops;
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(Math.max(loops, 1))
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));
    Vertx vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    Addresses.registerCodecs(vertx);
    PulseContext ctx = new PulseContext(config, clock, registry, shards);

    List<Future<String>> shardDeployments = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      shardDeployments.add(vertx.deployVerticle(new AggregateVerticle(ctx, i)));
    }
    List<HttpVerticle> https = new ArrayList<>();
    Future<Pulse> started = Future.all(shardDeployments)
        .compose(v -> vertx.deployVerticle(new CombineVerticle(ctx)))
        .compose(v -> vertx.deployVerticle(new LiveVerticle(ctx)))
        .compose(v -> vertx.deployVerticle(() -> {
          HttpVerticle h = new HttpVerticle(ctx);
          synchronized (https) {
            https.add(h);
          }
          return h;
        }, new DeploymentOptions().setInstances(httpInstances)))
        .compose(v -> config.demo()
            ? vertx.deployVerticle(new DemoVerticle(events -> ingestDemo(vertx, ctx, events), clock, 42L))
            : Future.succeededFuture((String) null))
        .map(demo -> {
          vertx.setPeriodic(1000, t -> ctx.catalog.tick(clock.millis()));
          return new Pulse(vertx, ctx, https.get(0).port(), demo);
        });
    return started.recover(e -> vertx.close().transform(x -> Future.failedFuture(e)));
  }

  private static void ingestDemo(Vertx vertx, PulseContext ctx, List<Event> events) {
    if (ctx.draining.get() || events.isEmpty()) {
      return;
    }
    Ingestor.Outcome out = ctx.ingestor.ingest(events, ctx.clock.millis(), "demo");
    ctx.dispatch(vertx.eventBus(), out.batches());
  }

  /** The HTTP port bound. */
  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public PulseConfig config() {
    return ctx.config;
  }

  /**
   * Graceful stop, as on SIGTERM: refuse new events, close every open window and push the final
   * rollups to live subscribers, tell them the server is going, then close Vert.x. Blocks; call it
   * from a thread of your own (a shutdown hook, a test), never from an event loop.
   *
   * <p>Closing Vert.x is deliberately not chained onto the drain's futures: those complete on
   * event loops that the close itself shuts down, so a chained completion would never arrive.
   */
  public void stop(Duration timeout) throws Exception {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    LOG.info("stopping: closing open windows and pushing them to live subscribers");
    try {
      drain().toCompletionStage().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()),
          TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      LOG.warn("drain did not finish, closing anyway: {}", e.toString());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    LOG.info("stopped");
  }

  private Future<Void> drain() {
    ctx.draining.set(true);
    Future<?> demo = demoDeployment == null ? Future.succeededFuture() : vertx.undeploy(demoDeployment);
    return demo.compose(v -> {
      List<Future<Object>> closes = new ArrayList<>();
      for (int i = 0; i < ctx.shards; i++) {
        closes.add(vertx.eventBus().request(Addresses.shardCloseAll(i), "close").map(m -> m.body()));
      }
      return Future.all(closes);
    }).compose(v -> vertx.eventBus().request(Addresses.COMBINE_CLOSE_ALL, "close"))
        .compose(v -> vertx.eventBus().request(Addresses.LIVE_SHUTDOWN, "stop"))
        .compose(v -> {
          // let the hubs write what they were handed before the listeners go
          io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
          vertx.setTimer(300, t -> p.complete());
          return p.future();
        });
  }
}

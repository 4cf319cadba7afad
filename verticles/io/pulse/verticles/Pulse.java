package io.pulse.verticles;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pulse.catalog.CatalogSweeper;
import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.store.Database;
import java.nio.file.Path;
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
  /** The HTTP instances: a stop waits until none is taking in a body. */
  private final List<HttpVerticle> https;
  private final AtomicBoolean stopped = new AtomicBoolean();
  /** Cluster mode: this instance's part of the cluster; null on a single node. */
  private ClusterVerticle clusterPart;

  /** How long a stop waits for the last final rollups to reach the database. */
  private static final long STORE_FLUSH_MS = 10_000;
  /**
   * How long a stop waits for the quarantine's last save: bounded, so that a hung database cannot
   * hold a stop past what an orchestrator's grace period allows (30 s in Kubernetes by default).
   */
  private static final long JOBS_FLUSH_MS = 5_000;

  private Pulse(Vertx vertx, PulseContext ctx, int port, String demoDeployment, List<HttpVerticle> https) {
    this.https = List.copyOf(https);
    this.vertx = vertx;
    this.ctx = ctx;
    this.port = port;
    this.demoDeployment = demoDeployment;
  }

  /**
   * Installs how requests find their caller (tenant and subject); {@link io.pulse.core.CallerResolver#ANONYMOUS}
   * until then. In-process only: no setting or request can choose it.
   */
  public Pulse callers(io.pulse.core.CallerResolver resolver) {
    ctx.auth = io.pulse.auth.Authenticator.of(java.util.Objects.requireNonNull(resolver));
    return this;
  }

  /** Installs which token ids are revoked (the token store's list); {@link io.pulse.auth.Revocations#NONE} until then. */
  public Pulse revocations(io.pulse.auth.Revocations revocations) {
    ctx.revocations = java.util.Objects.requireNonNull(revocations);
    return this;
  }

  /** Signs tokens with this server's key; null when it holds no private key (only a public key or JWKS). */
  public io.pulse.auth.TokenSigner signer() {
    return ctx.signer;
  }

  /** Whether requests need a token ({@code auth.enabled}). */
  public boolean authEnabled() {
    return ctx.config.auth().enabled();
  }

  /**
   * Installs the signer of display tokens (the server's key); in-process only. The authentication
   * work sets it at start when authentication is on; tests install a test signer.
   */
  public Pulse signer(io.pulse.auth.TokenSigner signer) {
    ctx.signer = signer;
    return this;
  }

  /** The revoked token ids, as every request's caller resolution sees them. */
  public io.pulse.auth.Revocations revocations() {
    return ctx.revocations;
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
    io.pulse.auth.AuthKeys[] authKeys = new io.pulse.auth.AuthKeys[1];
    Future<Database> storage = config.storage().enabled()
        ? Database.start(vertx, config.storage(), Path.of(config.dataDir()))
        : Future.succeededFuture(null);
    // keys are files (and, the first time, a key pair to generate): off the event loop
    Future<io.pulse.auth.AuthKeys> keys = config.auth().enabled()
        ? vertx.executeBlocking(() -> io.pulse.auth.AuthKeys.load(config.auth(), Path.of(config.dataDir())))
        : Future.succeededFuture(null);
    Future<Pulse> started = keys.compose(k -> storage.map(db -> {
      authKeys[0] = k;
      return db;
    })).compose(db -> deploy(vertx, config, clock, registry, shards, httpInstances, db, authKeys[0])
        .recover(e -> db == null ? Future.failedFuture(e)
            : vertx.executeBlocking(() -> {
              db.close();
              return null;
            }).transform(x -> Future.failedFuture(e))));
    if (!config.storage().enabled()) {
      LOG.info("storage: off (storage.enabled / PULSE_STORAGE=false): nothing is kept across restarts; history "
          + "(/series, since=), rules, dashboards, displays, the audit log and quarantine requeue/purge answer 503, the "
          + "quarantine is the in-memory ring only, and token revocations are kept in memory only (lost with a restart)");
    }
    return started.recover(e -> vertx.close().transform(x -> Future.failedFuture(e)));
  }

  /** Deploys the verticles in dependency order; storage before the HTTP instances open ingest. */
  private static Future<Pulse> deploy(Vertx vertx, PulseConfig config, Clock clock, PrometheusMeterRegistry registry,
      int shards, int httpInstances, Database db, io.pulse.auth.AuthKeys keys) {
    PulseContext ctx = new PulseContext(config, clock, registry, shards, db);
    Future<Void> authStarted = authenticate(vertx, ctx, keys);
    boolean cluster = config.kafka().cluster();
    List<Future<String>> shardDeployments = new ArrayList<>();
    ClusterVerticle[] clusterPart = new ClusterVerticle[1];
    if (cluster) {
      // no local shards: the events go to Kafka, and this instance aggregates the partitions it owns
      shardDeployments.add(ClusterLink.open(vertx, config, ctx.bootId + "-" + Long.toString(
          new java.security.SecureRandom().nextLong() & Long.MAX_VALUE, 36), new io.pulse.cluster.OutputCodec(ctx.codec))
          .map(link -> {
            ctx.cluster = link;
            LOG.info("cluster mode: Kafka at {}; events topic {} ({} partitions), output topic {}, consumer group {}",
                config.kafka().bootstrap(), link.config.eventsTopic(), link.config.partitions(),
                link.config.outputTopic(), link.config.group());
            return "cluster";
          }));
    } else {
      for (int i = 0; i < shards; i++) {
        shardDeployments.add(vertx.deployVerticle(new AggregateVerticle(ctx, i)));
      }
    }
    List<HttpVerticle> https = new ArrayList<>();
    return authStarted.compose(a -> Future.all(shardDeployments))
        .compose(v -> vertx.deployVerticle(new CombineVerticle(ctx)))
        .compose(v -> vertx.deployVerticle(new LiveVerticle(ctx)))
        .compose(v -> db != null ? vertx.deployVerticle(new StoreVerticle(ctx)) : Future.succeededFuture((String) null))
        .compose(v -> vertx.deployVerticle(new AlertVerticle(ctx)))
        .compose(v -> db != null ? vertx.deployVerticle(new StorageJobsVerticle(ctx))
            : Future.succeededFuture((String) null))
        .compose(v -> db != null && config.notifications().enabled() ? vertx.deployVerticle(new NotifyVerticle(ctx))
            : Future.succeededFuture((String) null))
        .compose(v -> vertx.deployVerticle(new ScoringVerticle(ctx)))
        .compose(v -> {
          if (!cluster) {
            return Future.succeededFuture((String) null);
          }
          clusterPart[0] = new ClusterVerticle(ctx);
          return vertx.deployVerticle(clusterPart[0]);
        })
        // the revocation list is loaded before any HTTP instance lets a request in
        .compose(v -> vertx.deployVerticle(new TokensVerticle(ctx)))
        .compose(v -> TlsServer.prepare(vertx, config.tls()))
        .compose(tls -> {
          ctx.tls = tls;
          if (tls != null) {
            ctx.tlsMeters.current.set(tls);
          }
          BrowserPolicy.announce(config);
          return vertx.deployVerticle(() -> {
            HttpVerticle h = new HttpVerticle(ctx);
            synchronized (https) {
              https.add(h);
            }
            return h;
          }, new DeploymentOptions().setInstances(httpInstances));
        })
        .onSuccess(v -> TlsServer.watch(vertx, config.tls(), https, ctx.tlsMeters))
        .compose(v -> config.demo()
            ? vertx.deployVerticle(new DemoVerticle(demoIngest(vertx, ctx), clock, 42L, db == null ? null : db.pool()))
            : Future.succeededFuture((String) null))
        .map(demo -> {
          CatalogSweeper sweeper = new CatalogSweeper(config, ctx.catalog, ctx.views);
          AtomicBoolean sweeping = new AtomicBoolean();
          long[] ticks = {0};
          vertx.setPeriodic(1000, t -> {
            long now = clock.millis();
            ctx.catalog.tick(now);
            if (++ticks[0] % 10 == 0) {
              ctx.catalog.meters().rebalance(); // per-stream counters: the busiest streams get their own (10 s)
            }
            // not while stopping: closing Vert.x shuts the worker pool, and a pass handed to it then is refused
            if (!ctx.draining.get() && sweeping.compareAndSet(false, true)) { // may look at every series: off the loop
              // with storage on, a stream goes only once the stored catalogue has caught up with it
              // (the store verticle syncs it every few seconds, and not while the database is away)
              vertx.executeBlocking(() -> sweeper.run(now, info -> ctx.db == null || stored(ctx, info)), false)
                  .onComplete(r -> sweeping.set(false))
                  .onSuccess(r -> {
                    if (!r.streams().isEmpty()) {
                      LOG.info("forgot {} stream(s) idle for aggregation.streamIdleMs: {}", r.streams().size(),
                          r.streams().size() <= 10 ? r.streams() : r.streams().subList(0, 10) + "...");
                    }
                  })
                  .onFailure(e -> LOG.warn("catalog sweep failed", e));
            }
          });
          Pulse p = new Pulse(vertx, ctx, https.get(0).port(), demo, https);
          p.clusterPart = clusterPart[0];
          return p;
        });
  }

  /**
   * Installs the JWT authenticator and the signer when {@code auth.enabled}, and fetches the JWKS
   * URLs once; without authentication every request is anonymous, said loudly in the log.
   */
  private static Future<Void> authenticate(Vertx vertx, PulseContext ctx, io.pulse.auth.AuthKeys keys) {
    io.pulse.config.PulseConfig.Auth a = ctx.config.auth();
    if (!a.enabled()) {
      LOG.warn("\n**************************************************************************************\n"
          + "*  AUTHENTICATION IS OFF (auth.enabled / PULSE_AUTH=false{}): every request is\n"
          + "*  accepted without a token and sees the \"default\" tenant. Keep this server on a\n"
          + "*  trusted network, or start it with PULSE_AUTH=true.\n"
          + "**************************************************************************************",
          a.explicit() ? "" : ", the demo's default");
      return Future.succeededFuture();
    }
    io.pulse.auth.JwtAuthenticator jwt = new io.pulse.auth.JwtAuthenticator(vertx, a, keys, ctx.clock,
        () -> ctx.revocations);
    ctx.auth = jwt;
    ctx.signer = io.pulse.auth.JwtSigner.of(vertx, keys, a.signedIssuer(), ctx.clock);
    LOG.info("auth: on; tokens are checked with {}; tenant claim \"{}\"{}{}; {}", keys.description(),
        a.tenantClaim(), a.issuer().isEmpty() ? "" : ", issuer " + a.issuer(),
        a.audience().isEmpty() ? "" : ", audience " + a.audience(),
        ctx.signer == null ? "this server cannot sign tokens (no private key)" : "signs with " + keys.signAlgorithm());
    if (!a.hs256Secret().isEmpty()) {
      LOG.warn("auth: HS256 tokens are accepted (auth.hs256Secret / PULSE_AUTH_HS256_SECRET is set): anyone holding "
          + "the shared secret can mint tokens for any tenant");
    }
    // its refresh timer and HTTP client end with the Vert.x instance
    return jwt.start();
  }

  /** Whether the stored catalogue has the stream as last seen (so forgetting it loses nothing). */
  private static boolean stored(PulseContext ctx, io.pulse.catalog.StreamCatalog.StreamInfo info) {
    io.pulse.store.CatalogStore.Stream s = ctx.storedStreams.get(info.id());
    return s != null && s.lastSeen() >= info.lastSeen();
  }

  /** The demo's way in; its sender is owned by the demo verticle, on whose event loop it runs. */
  private static io.pulse.event.EventSink demoIngest(Vertx vertx, PulseContext ctx) {
    PulseContext.Sender sender = ctx.sender();
    return events -> {
      if (ctx.draining.get() || events.isEmpty() || ctx.store.get().full() || ctx.overloaded()) {
        return; // the demo's events are not worth a full write queue or an overloaded shard
      }
      if (ctx.cluster != null) { // admitted here like any event entering the cluster, then the owner's
        java.util.List<io.pulse.event.Event> admitted = new java.util.ArrayList<>(events.size());
        ctx.ingestor.admit(events, ctx.clock.millis(), "demo", admitted);
        ctx.cluster.produce(admitted, ctx.clock.millis());
        return;
      }
      Ingestor.Outcome out = ctx.ingestor.ingest(events, ctx.clock.millis(), "demo");
      sender.dispatch(vertx.eventBus(), out.batches());
    };
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

  /** The database history is stored in, or null when storage is off. */
  public Database database() {
    return ctx.db;
  }

  /**
   * Graceful stop, as on SIGTERM: refuse new events, close every open window and push the final
   * rollups to live subscribers and to storage, wait (bounded) until storage has written them, tell
   * subscribers the server is going, then close the database and Vert.x. Blocks; call it from a
   * thread of your own (a shutdown hook, a test), never from an event loop.
   *
   * <p>Closing Vert.x is deliberately not chained onto the drain's futures: those complete on
   * event loops that the close itself shuts down, so a chained completion would never arrive.
   */
  public void stop(Duration timeout) throws Exception {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    LOG.info("stopping: closing open windows, pushing them to live subscribers{}", ctx.db != null ? " and storage" : "");
    try {
      drain().toCompletionStage().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()),
          TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      LOG.warn("drain did not finish, closing anyway: {}", e.toString());
    }
    if (ctx.db != null) {
      ctx.db.close(); // after the last write; the embedded server stops here
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    LOG.info("stopped");
  }

  /** Waits (bounded) until the store verticle has written every final it was handed; says how it went. */
  private Future<Void> flushStorage() {
    if (ctx.db == null) {
      return Future.succeededFuture();
    }
    long t0 = System.nanoTime();
    return vertx.eventBus().request(Addresses.STORE_FLUSH, "flush",
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(STORE_FLUSH_MS)).<Void>mapEmpty()
        .onSuccess(v -> LOG.info("storage: every final rollup written ({} ms)", (System.nanoTime() - t0) / 1_000_000))
        .recover(e -> {
          LOG.warn("storage: {} final rollups not written within {} ms of the stop ({}): they are lost",
              ctx.store.get().depth(), STORE_FLUSH_MS, ctx.storageProblem() != null ? ctx.storageProblem() : e.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Completes when every shard has aggregated every event sent to it, or at the deadline (logged). */
  private static Future<Void> shardsCaughtUp(Vertx vertx, PulseContext ctx, long deadlineNanos) {
    if (ctx.pendingTotal() == 0) {
      return Future.succeededFuture();
    }
    if (System.nanoTime() > deadlineNanos) {
      LOG.warn("stopping: {} events still wait for their shards after 5 s; closing the windows anyway",
          ctx.pendingTotal());
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    vertx.setTimer(5, t -> shardsCaughtUp(vertx, ctx, deadlineNanos).onComplete(p));
    return p.future();
  }

  private Future<Void> drain() {
    ctx.draining.set(true); // the owner of this flag
    Future<?> demo = demoDeployment == null ? Future.succeededFuture() : vertx.undeploy(demoDeployment);
    // every body taken in before the stop has reached its shards (FIFO from each HTTP loop) and been
    // aggregated before the windows close: an acknowledged event is never left out of its final
    return demo.compose(v -> Future.all(https.stream().map(HttpVerticle::quiet).toList())
            .timeout(5, java.util.concurrent.TimeUnit.SECONDS)
            .recover(e -> {
              LOG.warn("stopping: request bodies still being taken in after 5 s; closing the windows anyway");
              return Future.succeededFuture();
            }))
        .compose(v -> clusterPart == null ? shardsCaughtUp(vertx, ctx, System.nanoTime() + 5_000_000_000L)
            // cluster mode: windows are not closed early; what is stored is committed, the next owner replays the rest
            : clusterPart.quiesce().compose(x -> ctx.cluster.close()).recover(e -> {
              LOG.warn("stopping: leaving the cluster did not finish cleanly ({})", e.toString());
              return Future.succeededFuture();
            }))
        .compose(v -> {
      List<Future<Object>> closes = new ArrayList<>();
      for (int i = 0; clusterPart == null && i < ctx.shards; i++) {
        closes.add(vertx.eventBus().request(Addresses.shardCloseAll(i), "close").map(m -> m.body()));
      }
      return Future.all(closes);
    }).compose(v -> vertx.eventBus().request(Addresses.COMBINE_CLOSE_ALL, "close"))
        .compose(v -> flushStorage())
        .compose(v -> ctx.db == null ? Future.succeededFuture()
            : vertx.eventBus().request(Addresses.JOBS_FLUSH, "flush",
                new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(JOBS_FLUSH_MS)).<Void>mapEmpty()
                .recover(e -> {
                  LOG.warn("storage: quarantined events not yet saved could not be written within {} ms of the "
                      + "stop ({}): they are lost", JOBS_FLUSH_MS, e.getMessage());
                  return Future.succeededFuture();
                }))
        .compose(v -> NotifyVerticle.stopSending(vertx, ctx, JOBS_FLUSH_MS))
        .compose(v -> vertx.eventBus().request(Addresses.LIVE_SHUTDOWN, "stop"))
        .compose(v -> {
          // let the hubs write what they were handed before the listeners go
          io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
          vertx.setTimer(300, t -> p.complete());
          return p.future();
        });
  }
}

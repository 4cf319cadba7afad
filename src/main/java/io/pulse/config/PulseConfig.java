package io.pulse.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pulse's configuration, read once at start and validated before anything is deployed.
 *
 * <p>Sources, in the order they apply (the last wins): the defaults in {@code conf/pulse.json}
 * (bundled in the jar), the file named by {@code PULSE_CONFIG} if set, then the {@code PULSE_*}
 * environment variables of {@link #ENV}, then {@code -Dpulse.<key>} system properties. The
 * environment mapping is explicit so that a typo'd variable is not silently a new setting.
 */
public final class PulseConfig {

  /** Environment variable -> configuration key. */
  public static final Map<String, String> ENV;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("PULSE_HTTP_HOST", "http.host");
    m.put("PULSE_HTTP_PORT", "http.port");
    m.put("PULSE_HTTP_INSTANCES", "http.instances");
    m.put("PULSE_DATA_DIR", "dataDir");
    m.put("PULSE_DEMO", "demo");
    m.put("PULSE_MAX_BODY_BYTES", "ingest.maxBodyBytes");
    m.put("PULSE_MAX_EVENTS_PER_REQUEST", "ingest.maxEventsPerRequest");
    m.put("PULSE_SHARDS", "aggregation.shards");
    m.put("PULSE_WINDOW", "aggregation.window");
    m.put("PULSE_ALLOWED_LATENESS_MS", "aggregation.allowedLatenessMs");
    m.put("PULSE_LATE_POLICY", "aggregation.latePolicy");
    m.put("PULSE_MAX_STREAMS", "aggregation.maxStreams");
    m.put("PULSE_MAX_SERIES_PER_STREAM", "aggregation.maxSeriesPerStream");
    m.put("PULSE_MAX_SERIES", "aggregation.maxSeries");
    m.put("PULSE_STREAM_IDLE_MS", "aggregation.streamIdleMs");
    m.put("PULSE_SERIES_IDLE_MS", "aggregation.seriesIdleMs");
    m.put("PULSE_FLUSH_MS", "live.flushMs");
    m.put("PULSE_HEARTBEAT_MS", "live.heartbeatMs");
    m.put("PULSE_QUARANTINE_CAPACITY", "quarantine.capacity");
    m.put("PULSE_STORAGE", "storage.enabled");
    m.put("PULSE_DETECT", "detect.enabled");
    m.put("PULSE_HTTP_MAX_CONNECTIONS", "http.maxConnections");
    m.put("PULSE_MAX_BUFFERED_BODY_BYTES", "ingest.maxBufferedBodyBytes");
    m.put("PULSE_PG_URL", "storage.url");
    m.put("PULSE_PG_POOL_SIZE", "storage.poolSize");
    m.put("PULSE_PG_SSL_MODE", "storage.ssl.mode");
    m.put("PULSE_PG_SSL_CA_FILE", "storage.ssl.caFile");
    m.put("PULSE_PG_QUERY_TIMEOUT_MS", "storage.queryTimeoutMs");
    m.put("PULSE_SCORING_STREAMS", "scoring.streams");
    m.put("PULSE_TRUSTED_PROXIES", "http.trustedProxies");
    m.put("PULSE_LIMIT_INGEST_PER_TOKEN", "limits.ingestPerToken.rate");
    m.put("PULSE_LIMIT_INGEST_PER_ADDRESS", "limits.ingestPerAddress.rate");
    m.put("PULSE_LIMIT_QUERY_PER_TOKEN", "limits.queryPerToken.rate");
    m.put("PULSE_LIMIT_QUERY_PER_ADDRESS", "limits.queryPerAddress.rate");
    m.put("PULSE_LIMIT_INGEST_EVENTS_PER_TOKEN", "limits.ingestEventsPerToken.rate");
    m.put("PULSE_LIMIT_INGEST_EVENTS_PER_ADDRESS", "limits.ingestEventsPerAddress.rate");
    m.put("PULSE_LIMIT_LIVE_CONNECTIONS_PER_TOKEN", "limits.liveConnectionsPerToken");
    m.put("PULSE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION", "limits.subscriptionsPerConnection");
    m.put("PULSE_TLS", "tls.enabled");
    m.put("PULSE_TLS_CERT", "tls.cert");
    m.put("PULSE_TLS_KEY", "tls.key");
    m.put("PULSE_TLS_SELF_SIGNED", "tls.selfSigned");
    m.put("PULSE_TLS_PROTOCOLS", "tls.protocols");
    m.put("PULSE_TLS_RELOAD_CHECK_MS", "tls.reloadCheckMs");
    m.put("PULSE_ALLOWED_ORIGINS", "http.allowedOrigins");
    m.put("PULSE_AUTH", "auth.enabled");
    m.put("PULSE_AUTH_TENANT_CLAIM", "auth.tenantClaim");
    m.put("PULSE_AUTH_ISSUER", "auth.issuer");
    m.put("PULSE_METRICS_TOKEN", "auth.metricsToken");
    m.put("PULSE_AUTH_AUDIENCE", "auth.audience");
    m.put("PULSE_AUTH_PUBLIC_KEY_FILE", "auth.publicKeyFile");
    m.put("PULSE_AUTH_PRIVATE_KEY_FILE", "auth.privateKeyFile");
    m.put("PULSE_AUTH_PUBLIC_KEY", "auth.publicKey");
    m.put("PULSE_AUTH_JWKS_URL", "auth.jwksUrl");
    m.put("PULSE_AUTH_HS256_SECRET", "auth.hs256Secret");
    m.put("PULSE_AUTH_REQUIRE_JTI", "auth.requireJti");
    m.put("PULSE_AUTH_REQUIRE_EXP", "auth.requireExp");
    m.put("PULSE_KAFKA_BOOTSTRAP", "kafka.bootstrap");
    m.put("PULSE_KAFKA_EVENTS_TOPIC", "kafka.eventsTopic");
    m.put("PULSE_KAFKA_OUTPUT_TOPIC", "kafka.outputTopic");
    m.put("PULSE_KAFKA_GROUP", "kafka.group");
    m.put("PULSE_KAFKA_PARTITIONS", "kafka.partitions");
    m.put("PULSE_KAFKA_SOURCE_TOPICS", "kafka.sourceTopics");
    m.put("PULSE_KAFKA_SOURCE_TENANT", "kafka.sourceTenant");
    ENV = Collections.unmodifiableMap(m);
  }

  /** HTTP listener. {@code instances} 0 means one per event loop. */
  public record Http(String host, int port, int instances) {
  }

  /**
   * TLS on the HTTP port ({@code tls.*}), always with the OpenSSL engine and HTTP/2 by ALPN. On when
   * {@code tls.enabled}, when both {@code tls.cert} and {@code tls.key} are set, or in {@code
   * tls.selfSigned} mode.
   *
   * @param cert PEM file of the certificate (chain), "" for none
   * @param key PEM file of its private key, "" for none
   * @param selfSigned a certificate for localhost made at start (for trying TLS out; browsers warn)
   * @param protocols the TLS versions served: TLSv1.3, and TLSv1.2 only when listed
   * @param reloadCheckMs how often the certificate and key files are looked at for a change (0: never)
   */
  public record Tls(boolean enabled, String cert, String key, boolean selfSigned, List<String> protocols,
      long reloadCheckMs) {

    /** The TLS versions Pulse serves at most: anything older is refused by the configuration. */
    public static final List<String> SUPPORTED = List.of("TLSv1.3", "TLSv1.2");

    /** Whether the certificate comes from files (and is watched for changes). */
    public boolean fromFiles() {
      return enabled && !selfSigned;
    }
  }

  /** Limits on what one request and one event may carry. */
  public record Ingest(int maxBodyBytes, int maxEventsPerRequest, int maxDims, int maxValues,
      int maxNameLength, int maxDimValueLength, int maxIdLength, long maxFutureSkewMs) {
  }

  /** What to do with an event whose window has already closed. */
  public enum LatePolicy { FOLD, QUARANTINE }

  public record Aggregation(int shards, long windowMs, long allowedLatenessMs, LatePolicy latePolicy,
      int maxStreams, int maxSeriesPerStream, int maxViewsPerStream, double sketchRelativeAccuracy,
      int sketchMaxBins) {
  }

  /**
   * What the catalog holds and for how long. {@code maxSeries} bounds series across all streams
   * (past it, a new series of any stream folds into that stream's overflow series);
   * {@code streamIdleMs} and {@code seriesIdleMs} are how long a stream or series without events
   * is kept (0: kept for the life of the process). {@code maxMeteredStreams} bounds the streams
   * with per-stream event counters of their own (configured streams always have them; the rest
   * count under {@code stream="_other"}).
   */
  public record Holding(int maxSeries, long streamIdleMs, long seriesIdleMs, int maxMeteredStreams) {
  }

  public record Live(long flushMs, long heartbeatMs, int maxPendingFinals, long slowClientTimeoutMs,
      int resumeBufferSize, long viewGraceMs) {
  }

  public record Quarantine(int capacity, int maxPayloadChars) {
  }

  /**
   * What one caller may hold of the server, at the HTTP edge and on a live socket.
   *
   * @param maxConnections HTTP connections open at once (WebSocket and SSE included); past it a new one is answered
   *     503 and closed
   * @param headerTimeoutMs from a request's first byte to the end of its headers
   * @param bodyTimeoutMs longest wait for the next bytes of a request body
   * @param idleTimeoutMs a connection with nothing read or written for this long is closed (live connections
   *     write a heartbeat, so they are never idle that long)
   * @param maxBufferedBodyBytes request-body bytes held at once across all connections (503 past it)
   * @param wsMaxMessageBytes largest WebSocket message, fragmented or not (close 1009 past it)
   * @param wsMaxPendingReplies replies (pong, subscribed, error, ...) waiting for a socket that does not read
   *     (close 1008 past it)
   * @param wsMaxOpsPerSecond messages a socket may send per second, sustained (twice that in a burst)
   * @param wsMaxViewsPerStream distinct views (filter and group-by) one socket may watch on one stream
   */
  public record Edge(int maxConnections, long headerTimeoutMs, long bodyTimeoutMs, long idleTimeoutMs,
      long maxBufferedBodyBytes, int wsMaxMessageBytes, int wsMaxPendingReplies, int wsMaxOpsPerSecond,
      int wsMaxViewsPerStream) {
  }

  /**
   * What one tenant may hold of the server ({@code limits.perTenant.*}), under the global limits; 0
   * is no per-tenant cap (the global limits alone, as a single-tenant install wants).
   *
   * @param maxStreams streams a tenant holds in the catalog (its new streams' events are rejected past it)
   * @param maxSeries series across a tenant's streams (new ones fold into the overflow series past it)
   * @param maxLiveConnections WebSocket and SSE connections a tenant holds open
   * @param maxSubscriptions live subscriptions a tenant holds
   * @param maxViews views (filter and group-by) a tenant's subscriptions hold
   * @param maxStorageBacklog a tenant's final rollups waiting in the store's write queue (ingest answers it 503 past it)
   */
  public record PerTenant(int maxStreams, int maxSeries, int maxLiveConnections, int maxSubscriptions, int maxViews,
      int maxStorageBacklog) {

    /** The engine's per-tenant quota with these caps (0: none). */
    public io.pulse.core.TenantQuota quota() {
      java.util.Map<io.pulse.core.TenantQuota.Resource, Long> caps =
          new java.util.EnumMap<>(io.pulse.core.TenantQuota.Resource.class);
      put(caps, io.pulse.core.TenantQuota.Resource.STREAMS, maxStreams);
      put(caps, io.pulse.core.TenantQuota.Resource.SERIES, maxSeries);
      put(caps, io.pulse.core.TenantQuota.Resource.CONNECTIONS, maxLiveConnections);
      put(caps, io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS, maxSubscriptions);
      put(caps, io.pulse.core.TenantQuota.Resource.VIEWS, maxViews);
      put(caps, io.pulse.core.TenantQuota.Resource.STORAGE_BACKLOG, maxStorageBacklog);
      return new io.pulse.core.TenantQuota(caps);
    }

    private static void put(java.util.Map<io.pulse.core.TenantQuota.Resource, Long> caps,
        io.pulse.core.TenantQuota.Resource r, int cap) {
      if (cap > 0) {
        caps.put(r, (long) cap);
      }
    }
  }

  /**
   * A request rate: {@code rate} requests a second, {@code burst} saved up at most; rate 0 is no limit.
   *
   * @param setting the key it was read from ("limits.queryPerToken"), for messages
   */
  public record Rate(String setting, int rate, int burst) {

    public boolean unlimited() {
      return rate == 0;
    }
  }

  /**
   * Fair use ({@code limits.*} and {@code http.trustedProxies}): request rates per token and per
   * client address, for ingest and for queries; live connections per token; subscriptions per
   * WebSocket. A request without a token (authentication off) is limited per address only.
   *
   * @param ingestEventsPerToken events a second per token, counted once a body is read (a token that sent more
   *     than its share has its next ingest refused until the rate paid it back); rate 0: no limit (the default)
   * @param ingestEventsPerAddress the same per client address
   * @param liveConnectionsPerToken WebSocket and SSE connections one token holds open; 0: no cap
   * @param subscriptionsPerConnection subscriptions one WebSocket holds
   * @param maxKeys token and address buckets held per limit (least recently used first out)
   * @param trustedProxies addresses and CIDR ranges whose X-Forwarded-For is believed; empty: none
   */
  public record FairUse(Rate ingestPerToken, Rate ingestPerAddress, Rate queryPerToken, Rate queryPerAddress,
      Rate ingestEventsPerToken, Rate ingestEventsPerAddress, int liveConnectionsPerToken, int subscriptionsPerConnection, int maxKeys, List<String> trustedProxies) {
  }

  /** TLS to an external PostgreSQL: none, encrypted, or encrypted with the server's certificate and name checked. */
  public enum SslMode { DISABLE, REQUIRE, VERIFY_FULL }

  /** {@code caFile}: PEM file of the CA to trust for {@link SslMode#VERIFY_FULL}; empty for the JVM's trust store. */
  public record Ssl(SslMode mode, String caFile) {
  }

  /** How long stored rollups are kept, per resolution (1 s, 1 min, 1 h). */
  public record Retention(long secondMs, long minuteMs, long hourMs) {
  }

  /**
   * PostgreSQL history. {@code url} null means the embedded server under {@code <dataDir>/pg}.
   *
   * @param writeQueue final rollups held in memory while the database is slow or away; ingest answers
   *     503 when it is full
   * @param writeBatch rows per insert statement
   * @param retryMs wait before retrying a failed write
   * @param downsample whether the background job merges 1 s into 1 min and 1 h windows and applies
   *     retention (off only for tests that keep hand-made history as it is)
   * @param queryTimeoutMs how long a read (and a wait for a pooled connection) may take before the
   *     caller gets 503, and how long the database may leave a query unanswered before readiness
   *     says it does not answer
   */
  public record Storage(boolean enabled, PgUrl url, int poolSize, Ssl ssl, int writeQueue, int writeBatch,
      long retryMs, Retention retention, boolean downsample, long queryTimeoutMs) {

    /** Whether Pulse runs its own PostgreSQL. */
    public boolean embedded() {
      return url == null;
    }
  }

  /**
   * Webhook notifications ({@code notify.*}; see {@code io.pulse.notify.Notifier}).
   *
   * @param enabled whether alert transitions are sent to webhooks at all (needs storage)
   * @param groupWaitMs how long the first transition of a tenant's rule waits for others of the same rule
   *     before they go out together in one notification
   * @param maxGroupSize alerts in one notification at most; a full group goes out at once
   * @param backoffBaseMs the first retry waits up to this long; each further one up to twice as long (full jitter)
   * @param backoffCapMs no retry waits longer than this
   * @param giveUpAfterMs a delivery not delivered this long after it was made is marked failed
   * @param maxPendingPerTenant deliveries waiting per tenant; a new one past it is stored as failed
   * @param maxInFlight requests to receivers at once
   * @param connectTimeoutMs a receiver's TCP (and TLS) connect at most
   * @param requestTimeoutMs one attempt, from sending to the end of the answer, at most
   * @param keepMs delivered and failed deliveries are deleted this long after their last change
   */
  public record Notify(boolean enabled, long groupWaitMs, int maxGroupSize, long backoffBaseMs, long backoffCapMs,
      long giveUpAfterMs, int maxPendingPerTenant, int maxInFlight, long connectTimeoutMs, long requestTimeoutMs,
      long keepMs) {
  }

  /**
   * Per-stream settings: its window, the group-bys it always keeps, the figures its anomaly
   * detectors watch (null: the event count and each value's mean) and their sensitivity (NaN: the
   * global {@code detect.sensitivity}).
   */
  public record StreamSettings(long windowMs, List<List<String>> groupBy, List<String> watch, double sensitivity) {

    public StreamSettings(long windowMs, List<List<String>> groupBy) {
      this(windowMs, groupBy, null, Double.NaN);
    }
  }

  /**
   * Time-series anomaly detection on rollups (issue 12): on or off, the default sensitivity, the
   * score at which a detector counts a window as flagged (its refractory period starts there, and
   * "not an anomaly" can name the window), the cap on detectors held, and how often a detector's
   * state is saved. Anomaly rules and the anomalies list have levels of their own.
   */
  public record Detect(boolean enabled, double sensitivity, double alertLevel, int maxDetectors, long saveEveryMs) {
  }

  /**
   * Event scoring (io.pulse.score): which streams get a one-class SVM model of their normal events
   * and a score per event. Off for a stream unless it is named in {@code streams} (names, in every
   * tenant, like {@code streams.<name>}; {@code PULSE_SCORING_STREAMS=a,b}).
   *
   * @param retrainEveryMs a stream's model is trained again this long after the last one
   * @param sample events kept per stream and shard for training (the training sample is at most this)
   * @param minTrain fewest events a model is trained on; until then the stream is not scored
   * @param nu the one-class SVM's nu: about the fraction of training events left outside (false positives)
   * @param maxFeatures features per model at most (values, then dims, by how often events have them)
   * @param keepOutliers newest outliers kept in memory per stream for inspection
   * @param outlierRetentionMs stored outliers older than this are deleted
   */
  public record Scoring(java.util.Set<String> streams, long retrainEveryMs, int sample, int minTrain, double nu,
      int maxFeatures, int keepOutliers, long outlierRetentionMs) {

    /** Whether events of streams named {@code name} are scored. */
    public boolean scored(String name) {
      return streams.contains(name);
    }
  }

  /**
   * Authentication ({@code auth.*}; see {@code io.pulse.auth}). Keys: {@code publicKeyFile} /
   * {@code publicKey} (PEM, RS256 or ES256 by the key's type), {@code jwksUrls} (a partner's
   * identity provider), {@code hs256Secret} (symmetric, only when set on purpose); none of them:
   * a generated ES256 pair under {@code <dataDir>/auth}. {@code privateKeyFile} (with a public key)
   * is what the {@code token} command and display tokens sign with.
   *
   * @param enabled whether every non-public route needs a valid token
   * @param explicit whether {@code enabled} was set (not the default "auto")
   * @param tenantClaim the claim that names the caller's tenant
   * @param issuer the {@code iss} tokens must carry (empty: not checked); also what minted tokens carry
   * @param audience an {@code aud} tokens must carry (empty: not checked)
   * @param jwksRefreshMs how often the JWKS URLs are fetched again
   * @param jwksMinRefreshMs an unknown {@code kid} fetches them again at most this often
   * @param leewayMs clock skew allowed on {@code exp} and {@code nbf}
   * @param requireJti whether a token without an id ({@code jti}, which revocation needs) is refused
   * @param requireExp whether a token without an expiry ({@code exp}) is refused
   * @param tokenIssuer the {@code iss} of tokens Pulse signs when {@code issuer} is empty
   */
  public record Auth(boolean enabled, boolean explicit, String tenantClaim, String issuer, String audience,
      String publicKeyFile, String privateKeyFile, String publicKey, List<String> jwksUrls, long jwksRefreshMs,
      long jwksMinRefreshMs, String hs256Secret, long leewayMs, boolean requireJti, boolean requireExp, String tokenIssuer) {

    /** Whether a verification key is configured (else Pulse uses its generated pair). */
    public boolean keyConfigured() {
      return !publicKeyFile.isBlank() || !publicKey.isBlank() || !jwksUrls.isEmpty() || !hs256Secret.isEmpty();
    }

    /** The iss Pulse writes into tokens it signs. */
    public String signedIssuer() {
      return issuer.isBlank() ? tokenIssuer : issuer;
    }

    @Override
    public String toString() { // never the secret
      return "Auth[enabled=" + enabled + ", tenantClaim=" + tenantClaim + ", issuer=" + issuer + ", audience="
          + audience + ", publicKeyFile=" + publicKeyFile + ", privateKeyFile=" + privateKeyFile + ", jwksUrls="
          + jwksUrls + ", hs256=" + !hs256Secret.isEmpty() + "]";
    }
  }

  /**
   * Display tokens for wallboards ({@code displays.*}).
   *
   * @param defaultTtlMs how long a display token is valid when its creation names no ttl
   * @param maxTtlMs the longest ttl a creation may ask for
   */
  public record Displays(long defaultTtlMs, long maxTtlMs) {
  }

  private final JsonObject json;
  private final Auth auth;
  private final String metricsToken;
  private final Http http;
  private final String dataDir;
  private final boolean demo;
  private final Ingest ingest;
  private final Aggregation aggregation;
  private final Live live;
  private final Detect detect;
  private final Holding holding;
  private final Quarantine quarantine;
  private final Map<String, StreamSettings> streams;
  private final Storage storage;
  private final Edge edge;
  private final PerTenant perTenant;
  private final Notify notify;
  private final Scoring scoring;
  private final FairUse fairUse;
  private final Tls tls;
  private final List<String> allowedOrigins;
  private final Displays displays;
  private final Kafka kafka;

  private PulseConfig(JsonObject json, Map<String, String> sources) {
    this.json = json;
    Reader r = new Reader(json, sources);
    r.checkKnown(defaults(), json, "");
    this.http = new Http(r.string("http.host"), r.intIn("http.port", 0, 65535), r.intIn("http.instances", 0, 256));
    this.dataDir = r.string("dataDir");
    this.demo = r.bool("demo");
    this.ingest = new Ingest(r.intIn("ingest.maxBodyBytes", 1024, Integer.MAX_VALUE),
        r.intIn("ingest.maxEventsPerRequest", 1, 10_000_000), r.intIn("ingest.maxDims", 0, 1024),
        r.intIn("ingest.maxValues", 1, 1024), r.intIn("ingest.maxNameLength", 1, 1024),
        r.intIn("ingest.maxDimValueLength", 1, 65536), r.intIn("ingest.maxIdLength", 1, 65536),
        r.longIn("ingest.maxFutureSkewMs", 0, Long.MAX_VALUE / 4));
    String policy = r.string("aggregation.latePolicy");
    LatePolicy late;
    if ("fold".equals(policy)) {
      late = LatePolicy.FOLD;
    } else if ("quarantine".equals(policy)) {
      late = LatePolicy.QUARANTINE;
    } else {
      throw r.bad("aggregation.latePolicy", "must be \"fold\" or \"quarantine\", got \"" + policy + "\"");
    }
    this.aggregation = new Aggregation(r.intIn("aggregation.shards", 0, 256), r.duration("aggregation.window"),
        r.longIn("aggregation.allowedLatenessMs", 0, 3_600_000L), late,
        r.intIn("aggregation.maxStreams", 1, 1_000_000), r.intIn("aggregation.maxSeriesPerStream", 1, 10_000_000),
        r.intIn("aggregation.maxViewsPerStream", 2, 10_000),
        r.fraction("aggregation.sketchRelativeAccuracy", 0.0001, 0.5), r.intIn("aggregation.sketchMaxBins", 16, 1 << 20));
    this.holding = new Holding(r.intIn("aggregation.maxSeries", 1, 100_000_000),
        idle(r, "aggregation.streamIdleMs"), idle(r, "aggregation.seriesIdleMs"),
        r.intIn("aggregation.maxMeteredStreams", 0, 100_000));
    this.live = new Live(r.longIn("live.flushMs", 10, 60_000), r.longIn("live.heartbeatMs", 100, 600_000),
        r.intIn("live.maxPendingFinals", 1, 10_000_000), r.longIn("live.slowClientTimeoutMs", 100, 3_600_000),
        r.intIn("live.resumeBufferSize", 1, 10_000_000), r.longIn("live.viewGraceMs", 0, 86_400_000L));
    this.quarantine = new Quarantine(r.intIn("quarantine.capacity", 1, 10_000_000),
        r.intIn("quarantine.maxPayloadChars", 16, 10_000_000));
    this.detect = new Detect(r.bool("detect.enabled"), r.fraction("detect.sensitivity", 0, 1),
        r.fraction("detect.alertLevel", 0.01, 0.99), r.intIn("detect.maxDetectors", 1, 100_000_000),
        r.durationAtLeast("detect.saveEvery", 1_000L, "1s"));
    Map<String, StreamSettings> configured = readStreams(r, json.getValue("streams"));
    if (demo && !configured.containsKey("payments")) {
      // the demo's payments roll up in 10 s windows: an outlier count per 10 s tells a burst of
      // suspicious payments (tens) from the model's ordinary false positives (about two) by a wide margin
      configured = new LinkedHashMap<>(configured);
      configured.put("payments", new StreamSettings(DEMO_PAYMENTS_WINDOW_MS, List.of()));
    }
    this.streams = Map.copyOf(configured);
    this.storage = readStorage(r);
    this.edge = readEdge(r, ingest.maxBodyBytes(), aggregation.maxViewsPerStream());
    this.perTenant = new PerTenant(perTenant(r, "maxStreams", "aggregation.maxStreams", aggregation.maxStreams()),
        perTenant(r, "maxSeries", "aggregation.maxSeries", holding.maxSeries()),
        perTenant(r, "maxLiveConnections", "http.maxConnections", edge.maxConnections()),
        perTenant(r, "maxSubscriptions", null, 10_000_000), perTenant(r, "maxViews", null, 10_000_000),
        perTenant(r, "maxStorageBacklog", "storage.writeQueue", storage.writeQueue()));
    this.notify = readNotify(r);
    this.scoring = readScoring(r, demo);
    this.fairUse = readFairUse(r);
    this.tls = readTls(r);
    this.allowedOrigins = readOrigins(r);
    this.auth = readAuth(r, demo);
    this.metricsToken = r.optString("auth.metricsToken");
    if (!metricsToken.isEmpty() && (metricsToken.length() < 16 || !metricsToken.matches("[\\x21-\\x7e]+"))) {
      throw r.bad("auth.metricsToken", "must be at least 16 printable characters without spaces (or empty: /metrics is public)");
    }
    this.kafka = readKafka(r, json);
    this.displays = readDisplays(r);
  }

  private static Tls readTls(Reader r) {
    String cert = r.optString("tls.cert").trim();
    String key = r.optString("tls.key").trim();
    boolean selfSigned = r.bool("tls.selfSigned");
    if (cert.isEmpty() != key.isEmpty()) {
      throw r.bad(cert.isEmpty() ? "tls.cert" : "tls.key", "tls.cert and tls.key (PULSE_TLS_CERT, PULSE_TLS_KEY) "
          + "go together: set both PEM files, or neither");
    }
    if (selfSigned && !cert.isEmpty()) {
      throw r.bad("tls.selfSigned", "is for trying TLS out without files: unset it, or unset tls.cert and tls.key");
    }
    boolean enabled = r.bool("tls.enabled") || selfSigned || !cert.isEmpty();
    if (enabled && !selfSigned && cert.isEmpty()) {
      throw r.bad("tls.enabled", "needs a certificate: tls.cert and tls.key (PULSE_TLS_CERT, PULSE_TLS_KEY), "
          + "or tls.selfSigned (PULSE_TLS_SELF_SIGNED=true) to try it out");
    }
    for (String[] f : new String[][] {{"tls.cert", cert}, {"tls.key", key}}) {
      if (!f[1].isEmpty() && !Files.isReadable(Path.of(f[1]))) {
        throw r.bad(f[0], "cannot read " + Path.of(f[1]).toAbsolutePath());
      }
    }
    List<String> protocols = new ArrayList<>();
    for (String p : r.list("tls.protocols")) {
      String name = p.trim();
      if (!Tls.SUPPORTED.contains(name)) {
        throw r.bad("tls.protocols", "\"" + name + "\" is refused: Pulse serves TLSv1.3, and TLSv1.2 only when listed "
            + "(older versions are insecure); got " + r.raw("tls.protocols"));
      }
      if (!protocols.contains(name)) {
        protocols.add(name);
      }
    }
    if (protocols.isEmpty()) {
      throw r.bad("tls.protocols", "must name at least one TLS version, such as [\"TLSv1.3\"]");
    }
    long reload = r.longIn("tls.reloadCheckMs", 0, 86_400_000L);
    if (reload > 0 && reload < 100) {
      throw r.bad("tls.reloadCheckMs", "must be 0 (never look again) or at least 100 ms, got " + reload);
    }
    return new Tls(enabled, cert, key, selfSigned, List.copyOf(protocols), reload);
  }

  /**
   * The origins (scheme://host[:port]) whose pages may call the API and open the live feed besides
   * the server's own; "*" (any) only when configured so. Normalised: lower case, no default port.
   */
  private static List<String> readOrigins(Reader r) {
    List<String> out = new ArrayList<>();
    for (String o : r.list("http.allowedOrigins")) {
      String t = o.trim();
      if (t.isEmpty()) {
        continue;
      }
      if (t.equals("*")) {
        out.add(t);
        continue;
      }
      String n = io.pulse.http.OriginPolicy.normalise(t);
      if (n == null) {
        throw r.bad("http.allowedOrigins", "\"" + t + "\" is not an origin: write scheme://host[:port] such as "
            + "https://dash.example.com, without a path (or \"*\" for any origin)");
      }
      if (!out.contains(n)) {
        out.add(n);
      }
    }
    return List.copyOf(out);
  }

  private static FairUse readFairUse(Reader r) {
    List<String> proxies = r.stringList("http.trustedProxies", "addresses or CIDR ranges such as [\"10.0.0.0/8\"]");
    try {
      new io.pulse.http.ClientAddress(proxies);
    } catch (IllegalArgumentException e) {
      throw r.bad("http.trustedProxies", e.getMessage());
    }
    return new FairUse(rate(r, "limits.ingestPerToken"), rate(r, "limits.ingestPerAddress"),
        rate(r, "limits.queryPerToken"), rate(r, "limits.queryPerAddress"), rate(r, "limits.ingestEventsPerToken"),
        rate(r, "limits.ingestEventsPerAddress"), r.intIn("limits.liveConnectionsPerToken", 0, 10_000_000), r.intIn("limits.subscriptionsPerConnection", 1, 100_000),
        r.intIn("limits.maxKeys", 16, 10_000_000), List.copyOf(proxies));
  }

  /** {@code key.rate} requests a second (0: no limit) and {@code key.burst} (0: twice the rate). */
  private static Rate rate(Reader r, String key) {
    int rate = r.intIn(key + ".rate", 0, 500_000_000);
    int burst = r.intIn(key + ".burst", 0, 1_000_000_000);
    if (rate == 0) {
      return new Rate(key, 0, 0);
    }
    return new Rate(key, rate, burst == 0 ? (int) Math.min(1_000_000_000L, 2L * rate) : burst);
  }

  private static Auth readAuth(Reader r, boolean demo) {
    Object e = r.raw("auth.enabled");
    boolean explicit = !"auto".equals(e);
    boolean enabled = explicit ? r.bool("auth.enabled") : !demo; // the demo's one command needs no token
    String tenantClaim = r.string("auth.tenantClaim");
    String pubFile = r.optString("auth.publicKeyFile").trim();
    String privFile = r.optString("auth.privateKeyFile").trim();
    String pub = r.optString("auth.publicKey").trim();
    String secret = r.optString("auth.hs256Secret");
    List<String> jwks = new ArrayList<>();
    for (String u : r.optString("auth.jwksUrl").split("[,\\s]+")) {
      if (!u.isBlank()) {
        if (!u.startsWith("https://") && !u.startsWith("http://")) {
          throw r.bad("auth.jwksUrl", "must be http(s) URLs, comma-separated, got \"" + u + "\"");
        }
        jwks.add(u);
      }
    }
    for (String[] f : new String[][] {{"auth.publicKeyFile", pubFile}, {"auth.privateKeyFile", privFile}}) {
      if (!f[1].isEmpty() && !Files.isReadable(Path.of(f[1]))) {
        throw r.bad(f[0], "cannot read " + Path.of(f[1]).toAbsolutePath());
      }
    }
    if (!pubFile.isEmpty() && !pub.isEmpty()) {
      throw r.bad("auth.publicKey", "set either auth.publicKeyFile or auth.publicKey, not both");
    }
    if (!privFile.isEmpty() && pubFile.isEmpty() && pub.isEmpty()) {
      throw r.bad("auth.privateKeyFile", "needs its public key too (auth.publicKeyFile / PULSE_AUTH_PUBLIC_KEY_FILE), "
          + "which is what tokens are checked with");
    }
    if (!secret.isEmpty() && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw r.bad("auth.hs256Secret", "must be at least 32 bytes (256 bits) long");
    }
    return new Auth(enabled, explicit, tenantClaim, r.optString("auth.issuer").trim(),
        r.optString("auth.audience").trim(), pubFile, privFile, pub, List.copyOf(jwks),
        r.longIn("auth.jwksRefreshMs", 1_000, 86_400_000L), r.longIn("auth.jwksMinRefreshMs", 0, 3_600_000L), secret,
        r.longIn("auth.leewayMs", 0, 600_000L), r.bool("auth.requireJti"), r.bool("auth.requireExp"),
        r.string("auth.tokenIssuer"));
  }

  private static Displays readDisplays(Reader r) {
    long max = r.durationAtLeast("displays.maxTtl", 60_000L, "1m");
    long def = r.durationAtLeast("displays.defaultTtl", 60_000L, "1m");
    if (def > max) {
      throw r.bad("displays.defaultTtl", "must be at most displays.maxTtl (" + Durations.format(max) + "), got "
          + Durations.format(def));
    }
    return new Displays(def, max);
  }

  private static Notify readNotify(Reader r) {
    long base = r.longIn("notify.backoffBaseMs", 1, 3_600_000L);
    long cap = r.longIn("notify.backoffCapMs", 1, 86_400_000L);
    if (cap < base) {
      throw r.bad("notify.backoffCapMs", "must be at least notify.backoffBaseMs (" + base + "), got " + cap);
    }
    return new Notify(r.bool("notify.enabled"), r.longIn("notify.groupWaitMs", 0, 600_000L),
        r.intIn("notify.maxGroupSize", 1, 10_000), base, cap, r.longIn("notify.giveUpAfterMs", 100, 30L * 86_400_000L),
        r.intIn("notify.maxPendingPerTenant", 1, 10_000_000), r.intIn("notify.maxInFlight", 1, 10_000),
        r.longIn("notify.connectTimeoutMs", 10, 600_000L), r.longIn("notify.requestTimeoutMs", 10, 600_000L),
        r.longIn("notify.keepMs", 60_000L, 3650L * 86_400_000L));
  }

  /** The window of the demo's payments stream, unless {@code streams.payments} sets one. */
  public static final long DEMO_PAYMENTS_WINDOW_MS = 10_000;

  /**
   * Kafka ({@code kafka.*}). With {@code bootstrap} set Pulse runs in cluster mode (README "Scale-out"):
   * HTTP ingest produces to {@code eventsTopic}, the instances of consumer group {@code group}
   * aggregate the partitions they own, and everything every instance must see travels on
   * {@code outputTopic}. {@code sourceTopics} carry JSON or NDJSON events written by other systems,
   * for tenant {@code sourceTenant}. {@code client} holds Kafka client properties passed as they are
   * (security, SASL), also from {@code PULSE_KAFKA_CLIENT_<NAME>} variables.
   */
  public record Kafka(String bootstrap, String eventsTopic, String outputTopic, String group, int partitions,
      List<String> sourceTopics, String sourceTenant, Map<String, String> client) {

    /** Whether Pulse runs as one instance of a cluster on Kafka. */
    public boolean cluster() {
      return !bootstrap.isEmpty();
    }
  }

  /** Client properties Pulse sets itself: one given in {@code kafka.client} would break its guarantees. */
  private static final java.util.Set<String> KAFKA_OWN = java.util.Set.of("bootstrap.servers", "key.serializer",
      "value.serializer", "key.deserializer", "value.deserializer", "enable.idempotence", "acks", "group.id",
      "enable.auto.commit", "isolation.level", "auto.offset.reset");

  private static Kafka readKafka(Reader r, JsonObject json) {
    Object b = r.raw("kafka.bootstrap");
    String bootstrap = b instanceof String s ? s.trim() : "";
    if (!(b instanceof String)) {
      throw r.bad("kafka.bootstrap", "must be host:port[,host:port...] or \"\" (single node)");
    }
    String events = r.string("kafka.eventsTopic");
    String output = r.string("kafka.outputTopic");
    for (String[] t : new String[][] {{"kafka.eventsTopic", events}, {"kafka.outputTopic", output}}) {
      if (!t[1].matches("[A-Za-z0-9._-]{1,249}")) {
        throw r.bad(t[0], "\"" + t[1] + "\" is not a Kafka topic name ([A-Za-z0-9._-], at most 249)");
      }
    }
    if (events.equals(output)) {
      throw r.bad("kafka.outputTopic", "must differ from kafka.eventsTopic");
    }
    List<String> sources = r.stringList("kafka.sourceTopics", "topic names");
    for (String t : sources) {
      if (!t.matches("[A-Za-z0-9._-]{1,249}") || t.equals(events) || t.equals(output)) {
        throw r.bad("kafka.sourceTopics", "\"" + t + "\" is not a Kafka topic name, or is one of Pulse's own topics");
      }
    }
    String tenant = r.string("kafka.sourceTenant");
    if (!io.pulse.core.StreamId.validName(tenant)) {
      throw r.bad("kafka.sourceTenant", "\"" + tenant + "\" is not a tenant name (" + io.pulse.core.StreamId.NAME_RULE + ")");
    }
    Map<String, String> client = new java.util.TreeMap<>();
    Object c = r.raw("kafka.client");
    if (!(c instanceof JsonObject co)) {
      throw r.bad("kafka.client", "must be an object of Kafka client properties");
    }
    for (Map.Entry<String, Object> e : co) {
      if (KAFKA_OWN.contains(e.getKey())) {
        throw r.bad("kafka.client." + e.getKey(), "is set by Pulse itself (its delivery guarantees depend on it)");
      }
      client.put(e.getKey(), String.valueOf(e.getValue()));
    }
    return new Kafka(bootstrap, events, output, r.string("kafka.group"), r.intIn("kafka.partitions", 1, 10_000),
        List.copyOf(sources), tenant, java.util.Collections.unmodifiableMap(client));
  }

  /** The streams the demo scores when no stream is named: its payments (the payment-anomaly case). */
  public static final List<String> DEMO_SCORED = List.of("payments");

  private static Scoring readScoring(Reader r, boolean demo) {
    Object list = r.raw("scoring.streams");
    List<String> names = new ArrayList<>();
    if (list instanceof String text) { // from PULSE_SCORING_STREAMS or -Dpulse.scoring.streams: "a,b"
      for (String n : text.split(",")) {
        if (!n.isBlank()) {
          names.add(n.trim());
        }
      }
    } else if (list instanceof JsonArray a) {
      for (Object n : a) {
        if (!(n instanceof String)) {
          throw r.bad("scoring.streams", "must be a list of stream names, got " + n);
        }
        names.add((String) n);
      }
    } else {
      throw r.bad("scoring.streams", "must be a list of stream names such as [\"payments\"] (or \"a,b\")");
    }
    for (String n : names) {
      if (!io.pulse.core.StreamId.validName(n)) {
        throw r.bad("scoring.streams", "\"" + n + "\" is not a stream name (" + io.pulse.core.StreamId.NAME_RULE + ")");
      }
    }
    if (names.isEmpty() && demo) {
      names.addAll(DEMO_SCORED);
    }
    int sample = r.intIn("scoring.sample", 100, 1_000_000);
    int minTrain = r.intIn("scoring.minTrain", 10, 1_000_000);
    if (minTrain > sample) {
      throw r.bad("scoring.minTrain", "must be at most scoring.sample (" + sample + "), got " + minTrain);
    }
    return new Scoring(java.util.Set.copyOf(names), r.durationAtLeast("scoring.retrainEvery", 1_000L, "1s"), sample,
        minTrain, r.fraction("scoring.nu", 0.0001, 0.5), r.intIn("scoring.maxFeatures", 1, 256),
        r.intIn("scoring.keepOutliers", 1, 1_000_000), r.durationAtLeast("scoring.outlierRetention", 60_000L, "1m"));
  }

  /** A per-tenant cap: 0 (none) or from 1 to the global limit it sits under ({@code global}, when there is one). */
  private static int perTenant(Reader r, String name, String global, int globalMax) {
    String key = "limits.perTenant." + name;
    int v = r.intIn(key, 0, Integer.MAX_VALUE);
    if (v > globalMax) {
      throw r.bad(key, global == null ? "must be 0 (no per-tenant cap) or at most " + globalMax + ", got " + v
          : "must be 0 (no per-tenant cap) or at most " + global + " (" + globalMax + "), got " + v);
    }
    return v;
  }

  private static Edge readEdge(Reader r, int maxBodyBytes, int maxViewsPerStream) {
    long buffered = r.longIn("ingest.maxBufferedBodyBytes", 0, Long.MAX_VALUE / 4);
    if (buffered == 0) {
      buffered = Math.max(maxBodyBytes, Runtime.getRuntime().maxMemory() / 4); // 0: a quarter of the heap
    } else if (buffered < maxBodyBytes) {
      throw r.bad("ingest.maxBufferedBodyBytes", "must be 0 (a quarter of the heap) or at least ingest.maxBodyBytes ("
          + maxBodyBytes + "), got " + buffered);
    }
    // 0: a quarter of the stream's views, so that one socket never holds more than its share
    int views = r.intIn("live.maxViewsPerStreamPerSocket", 0, 10_000);
    if (views == 0) {
      views = Math.max(1, maxViewsPerStream / 4);
    } else if (views > maxViewsPerStream) {
      throw r.bad("live.maxViewsPerStreamPerSocket", "must be at most aggregation.maxViewsPerStream ("
          + maxViewsPerStream + "), got " + views);
    }
    long idle = r.longIn("http.idleTimeoutMs", 100, 86_400_000L);
    long heartbeat = r.longIn("live.heartbeatMs", 100, 600_000);
    if (idle <= 2 * heartbeat) {
      throw r.bad("http.idleTimeoutMs", "must be more than twice live.heartbeatMs (" + heartbeat
          + "), or live connections that get only heartbeats would be closed as idle; got " + idle);
    }
    return new Edge(r.intIn("http.maxConnections", 1, 10_000_000), r.longIn("http.headerTimeoutMs", 10, 3_600_000L),
        r.longIn("http.bodyTimeoutMs", 10, 3_600_000L), idle, buffered,
        r.intIn("live.maxMessageBytes", 1024, 64 << 20), r.intIn("live.maxPendingReplies", 1, 1_000_000),
        r.intIn("live.maxOpsPerSecond", 1, 1_000_000), views);
  }

  /** An idle time: 0 (never forget) or between 100 ms and 30 days. */
  private static long idle(Reader r, String key) {
    long ms = r.longIn(key, 0, 30L * 86_400_000L);
    if (ms > 0 && ms < 100) {
      throw r.bad(key, "must be 0 (never forget) or at least 100 ms, got " + ms);
    }
    return ms;
  }

  private static Storage readStorage(Reader r) {
    String urlText = r.optString("storage.url");
    PgUrl url = null;
    if (!urlText.isBlank()) {
      try {
        url = PgUrl.parse(urlText);
      } catch (IllegalArgumentException e) {
        throw r.bad("storage.url", e.getMessage());
      }
    }
    String mode = r.string("storage.ssl.mode");
    SslMode sslMode;
    switch (mode) {
      case "disable": sslMode = SslMode.DISABLE; break;
      case "require": sslMode = SslMode.REQUIRE; break;
      case "verify-full": sslMode = SslMode.VERIFY_FULL; break;
      default:
        throw r.bad("storage.ssl.mode", "must be \"disable\", \"require\" or \"verify-full\", got \"" + mode + "\"");
    }
    String caFile = r.optString("storage.ssl.caFile");
    if (!caFile.isBlank() && !Files.isReadable(Path.of(caFile))) {
      throw r.bad("storage.ssl.caFile", "cannot read " + Path.of(caFile).toAbsolutePath());
    }
    int batch = r.intIn("storage.writeBatch", 1, 50_000);
    int queue = r.intIn("storage.writeQueue", 1, 100_000_000);
    if (queue < batch) {
      throw r.bad("storage.writeQueue", "must hold at least one batch (storage.writeBatch = " + batch + ")");
    }
    Retention retention = new Retention(r.durationAtLeast("storage.retention.second", 60_000L, "1m"),
        r.durationAtLeast("storage.retention.minute", 3_600_000L, "1h"),
        r.durationAtLeast("storage.retention.hour", 86_400_000L, "1d"));
    return new Storage(r.bool("storage.enabled"), url, r.intIn("storage.poolSize", 1, 256),
        new Ssl(sslMode, caFile), queue, batch, r.longIn("storage.retryMs", 10, 600_000), retention,
        r.bool("storage.downsample"), r.longIn("storage.queryTimeoutMs", 100, 600_000));
  }

  private Map<String, StreamSettings> readStreams(Reader r, Object node) {
    if (node == null) {
      return Map.of();
    }
    if (!(node instanceof JsonObject)) {
      throw r.bad("streams", "must be an object of stream name -> settings");
    }
    Map<String, StreamSettings> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : (JsonObject) node) {
      String name = e.getKey();
      String at = "streams." + name;
      if (!io.pulse.core.StreamId.validName(name)) {
        throw r.bad(at, "stream names match [a-z0-9_.-]{1,64}");
      }
      if (!(e.getValue() instanceof JsonObject)) {
        throw r.bad(at, "must be an object");
      }
      JsonObject s = (JsonObject) e.getValue();
      long window = aggregation.windowMs();
      if (s.containsKey("window")) {
        window = Durations.parse(String.valueOf(s.getValue("window")));
        if (window < 10) {
          throw r.bad(at + ".window", "must be a duration of at least 10ms such as \"1s\" or \"500ms\"");
        }
      }
      List<List<String>> groupBys = new ArrayList<>();
      Object g = s.getValue("groupBy");
      if (g != null) {
        if (!(g instanceof JsonArray)) {
          throw r.bad(at + ".groupBy", "must be an array of arrays of dim names, e.g. [[\"region\"]]");
        }
        for (Object one : (JsonArray) g) {
          if (!(one instanceof JsonArray)) {
            throw r.bad(at + ".groupBy", "must be an array of arrays of dim names, e.g. [[\"region\"]]");
          }
          List<String> dims = new ArrayList<>();
          for (Object d : (JsonArray) one) {
            dims.add(String.valueOf(d));
          }
          groupBys.add(List.copyOf(dims));
        }
      }
      List<String> watch = null;
      Object wv = s.getValue("watch");
      if (wv != null) {
        if (!(wv instanceof JsonArray) || ((JsonArray) wv).isEmpty()) {
          throw r.bad(at + ".watch", "must be a non-empty array of figures such as [\"count\", \"amount.mean\", \"ms.p99\"]");
        }
        watch = new ArrayList<>();
        for (Object f : (JsonArray) wv) {
          String why = io.pulse.anomaly.RollupScorer.checkFigure(String.valueOf(f));
          if (why != null) {
            throw r.bad(at + ".watch", why);
          }
          watch.add(String.valueOf(f));
        }
        watch = List.copyOf(watch);
      }
      double sensitivity = Double.NaN;
      Object sv = s.getValue("sensitivity");
      if (sv != null) {
        if (!(sv instanceof Number) || !(((Number) sv).doubleValue() >= 0 && ((Number) sv).doubleValue() <= 1)) {
          throw r.bad(at + ".sensitivity", "must be a number from 0 to 1, got " + sv);
        }
        sensitivity = ((Number) sv).doubleValue();
      }
      for (String k : s.fieldNames()) {
        if (!List.of("window", "groupBy", "watch", "sensitivity").contains(k)) {
          throw r.bad(at + "." + k, "is not a stream setting (window, groupBy, watch, sensitivity)");
        }
      }
      out.put(name, new StreamSettings(window, List.copyOf(groupBys), watch, sensitivity));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Defaults only (the bundled file), with {@code overrides} merged over them; for tests and embedding. */
  public static PulseConfig of(JsonObject overrides) {
    JsonObject base = defaults();
    deepMerge(base, overrides == null ? new JsonObject() : overrides);
    return new PulseConfig(base, Map.of());
  }

  /** Environment variables with this prefix are Kafka client properties ({@code kafka.client}). */
  public static final String KAFKA_CLIENT_ENV = "PULSE_KAFKA_CLIENT_";

  /** The full start-up load: defaults, PULSE_CONFIG file, environment, system properties. */
  public static PulseConfig load(Map<String, String> env, Map<Object, Object> sysProps) {
    JsonObject base = defaults();
    Map<String, String> sources = new java.util.HashMap<>();
    String file = env.get("PULSE_CONFIG");
    if (file != null && !file.isBlank()) {
      deepMerge(base, readFile(Path.of(file)));
    }
    for (Map.Entry<String, String> e : ENV.entrySet()) {
      String v = env.get(e.getKey());
      if (v != null) {
        setPath(base, e.getValue(), v, e.getKey());
        sources.put(e.getValue(), e.getKey());
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) { // PULSE_KAFKA_CLIENT_SASL_MECHANISM -> sasl.mechanism
      if (e.getKey().startsWith(KAFKA_CLIENT_ENV) && e.getKey().length() > KAFKA_CLIENT_ENV.length()) {
        String prop = e.getKey().substring(KAFKA_CLIENT_ENV.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
        base.getJsonObject("kafka").getJsonObject("client").put(prop, e.getValue());
        sources.put("kafka.client." + prop, e.getKey());
      }
    }
    for (Map.Entry<Object, Object> e : sysProps.entrySet()) {
      String k = String.valueOf(e.getKey());
      if (k.startsWith("pulse.")) {
        setPath(base, k.substring("pulse.".length()), String.valueOf(e.getValue()), "-D" + k);
        sources.put(k.substring("pulse.".length()), "-D" + k);
      }
    }
    return new PulseConfig(base, sources);
  }

  private static JsonObject defaults() {
    try (InputStream in = PulseConfig.class.getClassLoader().getResourceAsStream("conf/pulse.json")) {
      if (in == null) {
        throw new ConfigException("conf/pulse.json is missing from the classpath (a broken build?)");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("cannot read the bundled conf/pulse.json: " + e.getMessage());
    }
  }

  private static JsonObject readFile(Path p) {
    try {
      return new JsonObject(Files.readString(p));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigException("PULSE_CONFIG: no such file: " + p.toAbsolutePath());
    } catch (IOException e) {
      throw new ConfigException("PULSE_CONFIG: cannot read " + p.toAbsolutePath() + " (" + e.getClass().getSimpleName()
          + ")");
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException("PULSE_CONFIG: " + p.toAbsolutePath() + " is not a valid JSON object");
    }
  }

  /** Sets a dotted key from text, keeping the JSON type of the default so that validation sees numbers as numbers. */
  private static void setPath(JsonObject root, String dotted, String text, String source) {
    String[] parts = dotted.split("\\.");
    JsonObject node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject next = node.getJsonObject(parts[i]);
      if (next == null) {
        next = new JsonObject();
        node.put(parts[i], next);
      }
      node = next;
    }
    String leaf = parts[parts.length - 1];
    Object current = node.getValue(leaf);
    Object value = text;
    if (current instanceof Double || current instanceof Float) {
      try {
        value = Double.parseDouble(text.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException("configuration " + dotted + " (" + source + "): must be a number, got \"" + text
            + "\"");
      }
    } else if (current instanceof Number) {
      try {
        value = Long.parseLong(text.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException("configuration " + dotted + " (" + source + "): must be a whole number, got \""
            + text + "\"");
      }
    } else if (current instanceof Boolean) {
      String t = text.trim().toLowerCase();
      if (!t.equals("true") && !t.equals("false")) {
        throw new ConfigException("configuration " + dotted + " (" + source + "): must be true or false, got \""
            + text + "\"");
      }
      value = Boolean.parseBoolean(t);
    }
    node.put(leaf, value);
  }

  /** Merges {@code from} into {@code into}: objects recursively, anything else replaced. */
  public static void deepMerge(JsonObject into, JsonObject from) {
    for (Map.Entry<String, Object> e : from) {
      Object mine = into.getValue(e.getKey());
      if (mine instanceof JsonObject && e.getValue() instanceof JsonObject) {
        deepMerge((JsonObject) mine, (JsonObject) e.getValue());
      } else {
        into.put(e.getKey(), e.getValue());
      }
    }
  }

  /** Typed reads of dotted keys with messages that name the setting and its variable. */
  private static final class Reader {
    private final JsonObject root;
    private final Map<String, String> sources;

    Reader(JsonObject root, Map<String, String> sources) {
      this.root = root;
      this.sources = sources;
    }

    /** An error naming the key, and the variable or property it came from when it came from one. */
    ConfigException bad(String key, String why) {
      String src = sources.get(key);
      return new ConfigException("configuration " + key + (src != null ? " (" + src + ")" : "") + ": " + why);
    }

    /** Fails on a key the defaults do not have (a typo would otherwise be silently ignored). */
    void checkKnown(JsonObject known, JsonObject given, String prefix) {
      for (Map.Entry<String, Object> e : given) {
        String key = prefix + e.getKey();
        if (key.equals("streams") || key.equals("kafka.client")) {
          continue; // stream names are the user's, and Kafka's client properties are Kafka's
        }
        if (!known.containsKey(e.getKey())) {
          throw bad(key, "is not a setting Pulse knows (see conf/pulse.json for the settings)");
        }
        Object k = known.getValue(e.getKey());
        if (k instanceof JsonObject) {
          if (!(e.getValue() instanceof JsonObject)) {
            throw bad(key, "must be an object");
          }
          checkKnown((JsonObject) k, (JsonObject) e.getValue(), key + ".");
        }
      }
    }

    /** A list of strings: a JSON array, or "a,b" text (from an environment variable or a property). */
    List<String> stringList(String key, String what) {
      Object v = raw(key);
      List<String> out = new ArrayList<>();
      if (v instanceof String text) {
        for (String n : text.split(",")) {
          if (!n.isBlank()) {
            out.add(n.trim());
          }
        }
      } else if (v instanceof JsonArray a) {
        for (Object n : a) {
          if (!(n instanceof String) || ((String) n).isBlank()) {
            throw bad(key, "must be a list of " + what + ", got " + n);
          }
          out.add(((String) n).trim());
        }
      } else {
        throw bad(key, "must be a list of " + what);
      }
      return out;
    }

    Object raw(String key) {
      String[] parts = key.split("\\.");
      Object node = root;
      for (String p : parts) {
        if (!(node instanceof JsonObject)) {
          return null;
        }
        node = ((JsonObject) node).getValue(p);
      }
      if (node == null) {
        throw bad(key, "is missing");
      }
      return node;
    }

    String string(String key) {
      Object v = raw(key);
      if (!(v instanceof String) || ((String) v).isBlank()) {
        throw bad(key, "must be a non-empty string, got " + v);
      }
      return (String) v;
    }

    /** A string that may be empty (an optional setting); "" when so. */
    String optString(String key) {
      Object v = raw(key);
      if (!(v instanceof String)) {
        throw bad(key, "must be a string, got " + v);
      }
      return (String) v;
    }

    /** A duration of at least {@code minMs}, for settings such as retention. */
    long durationAtLeast(String key, long minMs, String minText) {
      Object v = raw(key);
      long ms = Durations.parse(String.valueOf(v));
      if (ms < 0) {
        throw bad(key, "must be a duration such as \"24h\", \"30d\" or \"2y\", got \""
            + v + "\"");
      }
      if (ms < minMs) {
        throw bad(key, "must be at least " + minText + ", got \"" + v + "\"");
      }
      return ms;
    }

    boolean bool(String key) {
      Object v = raw(key);
      if (v instanceof Boolean) {
        return (Boolean) v;
      }
      if ("true".equals(v) || "false".equals(v)) {
        return Boolean.parseBoolean((String) v);
      }
      throw bad(key, "must be true or false, got " + v);
    }

    long longIn(String key, long min, long max) {
      Object v = raw(key);
      long n;
      if (v instanceof String) {
        try {
          v = Long.parseLong(((String) v).trim());
        } catch (NumberFormatException e) {
          throw bad(key, "must be a whole number, got \"" + v + "\"");
        }
      }
      if (v instanceof Number && ((Number) v).doubleValue() == Math.rint(((Number) v).doubleValue())) {
        n = ((Number) v).longValue();
      } else {
        throw bad(key, "must be a whole number, got " + v);
      }
      if (n < min || n > max) {
        throw bad(key, "must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    }

    /** A list of strings: a JSON array, or a comma-separated string (from a variable or -D property). */
    List<String> list(String key) {
      Object v = raw(key);
      List<String> out = new ArrayList<>();
      if (v instanceof String text) {
        for (String part : text.split(",")) {
          if (!part.isBlank()) {
            out.add(part.trim());
          }
        }
      } else if (v instanceof JsonArray a) {
        for (Object o : a) {
          if (!(o instanceof String)) {
            throw bad(key, "must be a list of strings, got " + o);
          }
          out.add((String) o);
        }
      } else {
        throw bad(key, "must be a list of strings (or one comma-separated string), got " + v);
      }
      return out;
    }

    int intIn(String key, int min, int max) {
      return (int) longIn(key, min, max);
    }

    double fraction(String key, double min, double max) {
      Object v = raw(key);
      if (v instanceof String) {
        try {
          v = Double.parseDouble(((String) v).trim());
        } catch (NumberFormatException e) {
          throw bad(key, "must be a number, got \"" + v + "\"");
        }
      }
      if (!(v instanceof Number)) {
        throw bad(key, "must be a number, got " + v);
      }
      double d = ((Number) v).doubleValue();
      if (!(d >= min && d <= max)) {
        throw bad(key, "must be between " + min + " and " + max + ", got " + d);
      }
      return d;
    }

    long duration(String key) {
      Object v = raw(key);
      long ms = Durations.parse(String.valueOf(v));
      if (ms < 10) {
        throw bad(key, "must be a duration of at least 10ms such as \"1s\" or \"500ms\", got \"" + v + "\"");
      }
      return ms;
    }
  }

  public JsonObject json() {
    return json.copy();
  }

  public Http http() {
    return http;
  }

  /**
   * The bearer token a scrape of /metrics must send ({@code auth.metricsToken}); empty: /metrics is
   * public. Apart from the JWTs: a Prometheus scrape config holds one static credential.
   */
  public String metricsToken() {
    return metricsToken;
  }

  /** Authentication: whether it is on, the claims read and the keys tokens are checked with ({@code auth.*}). */
  public Auth auth() {
    return auth;
  }

  public String dataDir() {
    return dataDir;
  }

  public boolean demo() {
    return demo;
  }

  public Ingest ingest() {
    return ingest;
  }

  public Aggregation aggregation() {
    return aggregation;
  }

  /** The catalog's budget and idle times (keys under {@code aggregation}). */
  public Holding holding() {
    return holding;
  }

  public Live live() {
    return live;
  }

  public Detect detect() {
    return detect;
  }

  public Quarantine quarantine() {
    return quarantine;
  }

  public Storage storage() {
    return storage;
  }

  /** Per-connection and edge limits: connections, timeouts, buffered bodies, WebSocket bounds. */
  public Edge edge() {
    return edge;
  }

  /** Kafka: cluster mode when {@code kafka.bootstrap} is set, and the topics other systems send events to. */
  public Kafka kafka() {
    return kafka;
  }

  /** Event scoring: which streams, how often and on how much their models are trained. */
  public Scoring scoring() {
    return scoring;
  }

  /** What one tenant may hold ({@code limits.perTenant.*}; 0: no per-tenant cap). */
  public PerTenant perTenant() {
    return perTenant;
  }

  /** Fair use: request rates per token and address, live connections per token, subscriptions per socket. */
  public FairUse fairUse() {
    return fairUse;
  }

  /** TLS on the HTTP port ({@code tls.*}). */
  public Tls tls() {
    return tls;
  }

  /**
   * Origins besides the server's own whose pages may call {@code /api/v1} (CORS) and open its
   * WebSocket ({@code http.allowedOrigins}); empty by default, "*" only when configured.
   */
  public List<String> allowedOrigins() {
    return allowedOrigins;
  }

  /** Display tokens ({@code displays.*}): their default and longest validity. */
  public Displays displays() {
    return displays;
  }

  /** Webhook notifications ({@code notify.*}). */
  public Notify notifications() {
    return notify;
  }

  /** The longest window of any stream: how far behind processing time a window can still be open. */
  public long maxWindowMs() {
    long max = aggregation.windowMs();
    for (StreamSettings s : streams.values()) {
      max = Math.max(max, s.windowMs());
    }
    return max;
  }

  /**
   * Settings of the stream {@code name}: its own if configured, else the defaults. Configured
   * settings ({@code streams.<name>}) apply to that name in every tenant: configuration is the
   * operator's, and a tenant's stream of that name is rolled up the same way.
   */
  /** The stream names with settings of their own ({@code streams.<name>}). */
  public java.util.Set<String> configuredStreams() {
    return java.util.Collections.unmodifiableSet(streams.keySet());
  }

  public StreamSettings stream(String name) {
    StreamSettings s = streams.get(name);
    return s != null ? s : new StreamSettings(aggregation.windowMs(), List.of());
  }
}

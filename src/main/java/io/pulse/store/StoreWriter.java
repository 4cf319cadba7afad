package io.pulse.store;

import io.pulse.core.Clock;
import io.pulse.core.Health;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage writer's engine: rows (final rollups, encoded) wait in a bounded {@link WriteQueue}
 * and are written one batch at a time through a {@link Sink}, an idempotent upsert; it keeps the
 * storage's health and counts what it wrote, retried and gave up. Plain Java, driven by the calls
 * of its owner (the store verticle) and the time of its {@link Clock}; single-threaded.
 *
 * <ul>
 *   <li><b>Retry.</b> A batch that fails because the database is away or busy ({@link
 *       StoreErrors#transientFailure}) goes back in front of the queue, as it is, and is tried again
 *       {@code retryMs} later (the owner is asked to call {@link #pump()} then, through {@code wakeIn});
 *       sooner when a {@link #tick() ping} finds the database back or a {@link #flush() stop} asks.
 *       Nothing is dropped while the queue has room.</li>
 *   <li><b>Isolation.</b> A batch the database refuses for its content is halved ({@link Isolating})
 *       until the rows at fault are alone: those are given up, each counted once in {@link #failed()},
 *       and every other row of the batch is written.</li>
 *   <li><b>Back-pressure.</b> The queue is {@link Status#full() full} at its capacity (ingest then
 *       answers 503) until it drains to 90% of it; rows that arrive are always taken (see
 *       {@link WriteQueue}).</li>
 *   <li><b>Each tenant's share.</b> With a per-tenant cap ({@code limits.perTenant.maxStorageBacklog}),
 *       the rows of each tenant in the queue (waiting or being written) are counted, and a tenant is in
 *       {@link Status#tenantsFull()} from its cap until its rows drain to 90% of it: ingest answers that
 *       tenant 503 while the others go on. Its rows are still all taken and written in order.</li>
 *   <li><b>Health</b> (component {@value #COMPONENT} of {@link Health}): <i>down</i> while the database
 *       does not answer (a write failed for that reason, a write has waited {@code queryTimeoutMs}
 *       without a reply, or an idle ping failed); <i>degraded</i> for {@link #REFUSED_QUIET_MS} after a
 *       row was given up; <i>clear</i> otherwise. The reason says why, in words for an operator.</li>
 * </ul>
 *
 * <p>Every change of depth, fullness or problem is handed to {@code publish} as an immutable
 * {@link Status}: that is what the other verticles read.
 */
public final class StoreWriter<T> {

  private static final Logger LOG = LoggerFactory.getLogger(StoreWriter.class);

  /** The component name in {@link Health}. */
  public static final String COMPONENT = "storage";
  /** How long readiness says "degraded" after a row was given up. */
  public static final long REFUSED_QUIET_MS = 300_000;
  /** At most one log line of each kind per this many ms: a broken schema would refuse every row. */
  private static final long LOG_EVERY_MS = 10_000;
  /** While idle, the database is pinged when nothing succeeded for this long. */
  private static final long PING_AFTER_MS = 1_000;

  /** Where batches go: one statement each. */
  public interface Sink<T> {

    /** Writes {@code batch} in one statement; fails with the database's error (or a timeout). */
    Future<?> write(List<T> batch);

    /** Asks whether the database answers (bounded by the sink). */
    Future<?> ping();
  }

  /** The writer's limits: queue capacity, rows per batch, delay before a retry, how long a write may go unanswered. */
  public record Settings(int capacity, int batchSize, long retryMs, long queryTimeoutMs) {
  }

  /**
   * What other parts may know of the writer: rows waiting (encoding included), whether ingest
   * should hold off, and what is wrong with the database (null while it answers).
   */
  public record Status(int depth, boolean full, String problem, Set<String> tenantsFull) {

    public static final Status IDLE = new Status(0, false, null);

    /** A status with no tenant over its share. */
    public Status(int depth, boolean full, String problem) {
      this(depth, full, problem, Set.of());
    }

    /** @param tenantsFull the tenants whose rows waiting reached their cap (immutable) */
    public Status {
      tenantsFull = Set.copyOf(tenantsFull);
    }

    /** Whether ingest should hold off for {@code tenant}: its rows waiting reached its share. */
    public boolean tenantFull(String tenant) {
      return !tenantsFull.isEmpty() && tenantsFull.contains(tenant);
    }
  }

  private final Settings settings;
  private final Sink<T> sink;
  private final Clock clock;
  private final Health health;
  private final LongConsumer wakeIn;
  private final Consumer<Status> publish;
  private final Function<T, String> describe;
  private final String database;
  private final WriteQueue<T> queue;
  /** The tenant of a row; null when no tenant has a cap of its own (nothing is counted per tenant). */
  private final Function<T, String> tenantOf;
  /** Rows a tenant may have waiting before it is {@link Status#tenantFull full}. */
  private final long tenantCap;
  /** Rows of each tenant waiting or being written (tenants with none have no entry). */
  private final Map<String, int[]> tenantDepth = new HashMap<>();
  /** Tenants at their share now; {@link #tenantsFull} is its published copy. */
  private final Set<String> tenantsFullNow = new HashSet<>();
  private Set<String> tenantsFull = Set.of();

  /** Rows announced by {@link #expect} and not arrived yet (being encoded). */
  private int expected;
  private boolean writing;
  private long statementStarted;
  /** When the retry after a transient failure is due; -1 when none waits. */
  private long retryAt = -1;
  private long lastSuccess;
  private boolean pinging;
  private String downReason;
  private long degradedUntil = Long.MIN_VALUE;
  private String degradedReason;
  private long written;
  private long retried;
  private long failed;
  private long lastRefusedLog = Long.MIN_VALUE;
  private long refusedSinceLog;
  private final List<Promise<Void>> drainWaiters = new ArrayList<>();
  private Status status = Status.IDLE;

  /**
   * @param wakeIn asked to call {@link #pump()} again after that many ms (a retry is waiting)
   * @param publish handed every new {@link Status}
   * @param describe a row in words, for the log
   * @param database the database in words, for the log
   */
  public StoreWriter(Settings settings, Sink<T> sink, Clock clock, Health health, LongConsumer wakeIn,
      Consumer<Status> publish, Function<T, String> describe, String database) {
    this(settings, sink, clock, health, wakeIn, publish, describe, database, null, Long.MAX_VALUE);
  }

  /**
   * @param tenantOf the tenant of a row
   * @param tenantCap rows one tenant may have waiting before ingest answers it 503
   *     ({@code Long.MAX_VALUE}: no per-tenant cap, nothing counted per tenant)
   */
  public StoreWriter(Settings settings, Sink<T> sink, Clock clock, Health health, LongConsumer wakeIn,
      Consumer<Status> publish, Function<T, String> describe, String database, Function<T, String> tenantOf,
      long tenantCap) {
    this.tenantOf = tenantCap == Long.MAX_VALUE ? null : tenantOf;
    this.tenantCap = tenantCap;
    this.settings = settings;
    this.sink = sink;
    this.clock = clock;
    this.health = health;
    this.wakeIn = wakeIn;
    this.publish = publish;
    this.describe = describe;
    this.database = database;
    if (settings.batchSize() < 1 || settings.capacity() < 1) {
      throw new IllegalArgumentException("batchSize and capacity must be at least 1: " + settings);
    }
    this.queue = new WriteQueue<>(settings.capacity());
    this.lastSuccess = clock.millis();
  }

  // ---- intake ----

  /** {@code n} rows are on their way (being encoded): counted in the depth from now on. */
  public void expect(int n) {
    expected += n;
    publish();
  }

  /** {@code n} announced rows arrived; {@code rows} (those of them that can be stored) are queued and written. */
  public void arrived(int n, List<T> rows) {
    expected -= n;
    for (T row : rows) {
      queue.offer(row); // acknowledged events' finals are never dropped
      countTenant(row, 1);
    }
    publish();
    pump();
  }

  /** {@code n} announced rows are lost before they could be queued (they could not be encoded). */
  public void lost(int n, Throwable cause) {
    expected -= n;
    failed += n;
    LOG.error("storage: {} final rollups could not be encoded", n, cause);
    degraded(n + " final rollups could not be encoded: " + cause, clock.millis());
    publish();
    answerDrainWaiters();
  }

  /** A row given up without trying (it holds what the database cannot store): counted once, logged at most every 10 s. */
  public void refuse(T row, String why) {
    long now = clock.millis();
    failed++;
    refusedSinceLog++;
    if (lastRefusedLog == Long.MIN_VALUE || now - lastRefusedLog >= LOG_EVERY_MS) {
      LOG.error("storage: the final rollup of {} is not stored: {}{}", describe.apply(row), why,
          refusedSinceLog > 1 ? " (" + (refusedSinceLog - 1) + " more refused since the last such line)" : "");
      lastRefusedLog = now;
      refusedSinceLog = 0;
    }
    degraded(failed + " final rollups given up since the start (the last: " + why + ")", now);
  }

  // ---- writing ----

  /** Writes the next batch unless one is being written or a retry is not due yet. */
  public void pump() {
    if (retryAt >= 0 && clock.millis() >= retryAt) {
      retryAt = -1;
    }
    if (writing || retryAt >= 0 || !queue.waiting()) {
      answerDrainWaiters();
      return;
    }
    List<T> batch = queue.take(settings.batchSize());
    writing = true;
    Isolating.write(batch, this::statement).onComplete(ar -> {
      writing = false;
      if (ar.succeeded()) {
        settle(batch, ar.result());
      } else { // Isolating reports failures in its outcome; this is anything else: keep the rows, retry
        settle(batch, new Isolating.Outcome<>(0, List.of(), batch, ar.cause()));
      }
      publish();
      pump();
    });
  }

  private Future<?> statement(List<T> rows) {
    statementStarted = clock.millis();
    return sink.write(rows);
  }

  private void settle(List<T> batch, Isolating.Outcome<T> o) {
    long now = clock.millis();
    queue.requeue(o.remaining()); // in front, in their order
    queue.done(batch.size() - o.remaining().size());
    if (tenantOf != null) {
      for (T row : batch) {
        countTenant(row, -1);
      }
      for (T row : o.remaining()) {
        countTenant(row, 1);
      }
    }
    written += o.written();
    if (o.written() > 0 || (!o.refused().isEmpty() && o.transientCause() == null)) {
      answered(now); // a refusal for the content is an answer too
    }
    for (Isolating.Refusal<T> r : o.refused()) {
      refuse(r.row(), "the database refused it: " + StoreErrors.describe(r.cause()));
    }
    if (o.transientCause() != null) {
      retried += o.remaining().size();
      unanswered(StoreErrors.describe(o.transientCause()), now);
      retryAt = now + settings.retryMs();
      wakeIn.accept(settings.retryMs());
    }
  }

  /** Adds {@code n} to the rows of {@code row}'s tenant, and notes whether it is at its share (cleared at 90%). */
  private void countTenant(T row, int n) {
    if (tenantOf == null) {
      return;
    }
    String tenant = tenantOf.apply(row);
    int[] d = tenantDepth.computeIfAbsent(tenant, t -> new int[1]);
    d[0] += n;
    if (d[0] >= tenantCap) {
      tenantsFullNow.add(tenant);
    } else if (d[0] <= tenantCap * 0.9) {
      tenantsFullNow.remove(tenant);
    }
    if (d[0] <= 0) {
      tenantDepth.remove(tenant);
    }
  }

  /** Rows of {@code tenant} waiting or being written (counted only with a per-tenant cap). */
  public int tenantDepth(String tenant) {
    int[] d = tenantDepth.get(tenant);
    return d == null ? 0 : d[0];
  }

  // ---- health ----

  /**
   * Keeps readiness honest within about {@code queryTimeoutMs}: a write in flight that long means
   * the database does not answer (hung, stopped, unreachable); while idle, a ping asks it. When a
   * ping finds it back, a waiting retry goes at once. Call it every second or so.
   */
  public void tick() {
    long now = clock.millis();
    if (degradedUntil != Long.MIN_VALUE && now >= degradedUntil) {
      degradedUntil = Long.MIN_VALUE;
      degradedReason = null;
      applyHealth(now);
    }
    if (writing) {
      long waited = now - statementStarted;
      if (waited >= settings.queryTimeoutMs()) {
        unanswered("no reply for " + (waited / 1000) + " s to a write in flight", now);
        publish();
      }
      return; // its answer (or its timeout) says more
    }
    if (pinging || now - lastSuccess < PING_AFTER_MS) {
      return;
    }
    pinging = true;
    Future<?> ping;
    try {
      ping = sink.ping();
    } catch (RuntimeException e) {
      ping = Future.failedFuture(e);
    }
    ping.onComplete(ar -> {
      pinging = false;
      long t = clock.millis();
      if (ar.succeeded()) {
        answered(t);
        if (retryAt >= 0) {
          retryAt = -1;
          pump();
        }
      } else {
        unanswered(StoreErrors.describe(ar.cause()), t);
      }
      publish();
    });
  }

  private void answered(long now) {
    lastSuccess = now;
    if (downReason != null) {
      downReason = null;
      LOG.info("storage: {} answers again; writing the {} buffered final rollups", database, queue.depth());
    }
    applyHealth(now);
  }

  private void unanswered(String reason, long now) {
    if (downReason == null) {
      LOG.warn("storage: {} does not answer ({}); the live feed goes on, final rollups are buffered ({} now, "
          + "ingest answers 503 at {}) and written when it is back", database, reason, queue.depth(),
          queue.capacity());
    }
    downReason = "the database does not answer: " + reason;
    applyHealth(now);
  }

  private void degraded(String reason, long now) {
    degradedReason = reason;
    degradedUntil = now + REFUSED_QUIET_MS;
    applyHealth(now);
  }

  private void applyHealth(long now) {
    if (downReason != null) {
      health.down(COMPONENT, downReason, now);
    } else if (degradedReason != null) {
      health.degraded(COMPONENT, degradedReason, now);
    } else {
      health.clear(COMPONENT);
    }
  }

  // ---- draining ----

  /** Completes once every row handed in is written or given up; retries keep their pace. */
  public Future<Void> drained() {
    Promise<Void> p = Promise.promise();
    drainWaiters.add(p);
    pump();
    return p.future();
  }

  /** As {@link #drained()}, but a waiting retry goes at once (a stop has no time to wait for it). */
  public Future<Void> flush() {
    retryAt = -1;
    return drained();
  }

  private void answerDrainWaiters() {
    if (drainWaiters.isEmpty() || expected > 0 || queue.depth() > 0 || writing) {
      return;
    }
    List<Promise<Void>> waiters = new ArrayList<>(drainWaiters);
    drainWaiters.clear();
    waiters.forEach(Promise::tryComplete);
  }

  // ---- what others see ----

  private void publish() {
    if (!tenantsFull.equals(tenantsFullNow)) {
      tenantsFull = Set.copyOf(tenantsFullNow);
    }
    Status now = new Status(queue.depth() + expected, queue.full(), downReason, tenantsFull);
    if (!now.equals(status)) {
      status = now;
      publish.accept(now);
    }
  }

  public Status status() {
    return status;
  }

  /** Rows written. */
  public long written() {
    return written;
  }

  /** Rows of writes that failed because the database was away or busy, and were queued again (each try counts). */
  public long retried() {
    return retried;
  }

  /** Rows given up, each once: refused for their content, not storable, or not encoded. */
  public long failed() {
    return failed;
  }

  /** Whether a retry is waiting for its time. */
  public boolean retryWaiting() {
    return retryAt >= 0;
  }
}

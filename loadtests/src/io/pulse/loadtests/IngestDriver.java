package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends W1 batches over a small fixed pool of keep-alive HTTP/1.1 connections, either closed loop
 * (each connection sends its next batch as soon as the previous one is answered) or open loop at a
 * fixed rate (batches spaced evenly, whatever the answers do). Everything runs on one event-loop
 * context, so the workload's body patching needs no locks.
 */
final class IngestDriver implements AutoCloseable {

  static final String PATH = "/api/v1/events";

  private final Context ctx;
  /** Kept in a field: Vert.x 5 closes a client nothing references. */
  private final HttpClientAgent client;
  private final W1Workload workload;
  private final int connections;
  /** Closed loop: one per connection. Open loop: about 1 s of batches may queue in the client (bounded). */
  private volatile int maxOutstanding;
  static final int MAX_WAIT_QUEUE = 2048;
  private final RequestOptions request;
  final AtomicLong connectionsOpened = new AtomicLong();
  final AtomicLong connectionsClosed = new AtomicLong();

  private volatile PhaseStats stats;
  private volatile boolean closedLoop;
  private volatile boolean paced;
  private final AtomicInteger outstanding = new AtomicInteger();
  // open loop state, touched only on ctx
  private long pacedStartNanos;
  private long pacedSent;
  private double pacedBatchesPerNano;
  private long pacedTimer = -1;

  IngestDriver(Vertx vertx, Context ctx, int port, int connections, W1Workload workload) {
    this(vertx, ctx, port, connections, workload, null);
  }

  /** {@code token}: a JWT sent as {@code Authorization: Bearer} on every request; null sends none. */
  IngestDriver(Vertx vertx, Context ctx, int port, int connections, W1Workload workload, String token) {
    this.ctx = ctx;
    this.workload = workload;
    this.connections = connections;
    this.maxOutstanding = connections * 16;
    this.client = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
            .setKeepAlive(true).setKeepAliveTimeout(120).setPipelining(false).setTcpNoDelay(true))
        .with(new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(MAX_WAIT_QUEUE))
        .withConnectHandler(conn -> {
          connectionsOpened.incrementAndGet();
          conn.closeHandler(v -> connectionsClosed.incrementAndGet());
        })
        .build();
    this.request = new RequestOptions().setMethod(HttpMethod.POST).setURI(PATH)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/x-ndjson");
    if (token != null) {
      request.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
  }

  /** Which phase the answers count towards; null to drop them. */
  void record(PhaseStats s) {
    this.stats = s;
  }

  int maxOutstanding() {
    return maxOutstanding;
  }

  int outstanding() {
    return outstanding.get();
  }

  void startClosedLoop() {
    closedLoop = true;
    ctx.runOnContext(v -> {
      for (int i = 0; i < connections; i++) {
        outstanding.incrementAndGet();
        sendClosed();
      }
    });
  }

  void stopClosedLoop() {
    closedLoop = false;
  }

  private void sendClosed() {
    if (!closedLoop) {
      outstanding.decrementAndGet();
      return;
    }
    send().onComplete(ar -> sendClosed());
  }

  /** Open loop at {@code eventsPerSecond}; sends that would exceed the outstanding cap are skipped and counted. */
  void startPaced(double eventsPerSecond) {
    double batchesPerSecond = eventsPerSecond / workload.batchSize();
    // queueing up to ~1 s of batches shows a stall as latency; beyond that, skip and count
    maxOutstanding = (int) Math.min(MAX_WAIT_QUEUE, Math.max(connections * 16, Math.ceil(batchesPerSecond)));
    paced = true;
    ctx.runOnContext(v -> {
      pacedStartNanos = System.nanoTime();
      pacedSent = 0;
      pacedBatchesPerNano = batchesPerSecond / 1e9;
      pacedTick();
    });
  }

  void stopPaced() {
    paced = false;
    ctx.runOnContext(v -> {
      if (pacedTimer >= 0) {
        ctx.owner().cancelTimer(pacedTimer);
        pacedTimer = -1;
      }
    });
  }

  private void pacedTick() {
    pacedTimer = -1;
    if (!paced) {
      return;
    }
    long now = System.nanoTime();
    long due = (long) ((now - pacedStartNanos) * pacedBatchesPerNano) + 1;
    PhaseStats s = stats;
    while (pacedSent < due) {
      pacedSent++;
      if (s != null) {
        s.batchesScheduled.increment();
      }
      if (outstanding.get() >= maxOutstanding) {
        if (s != null) {
          s.batchesSkipped.increment();
        }
        continue;
      }
      outstanding.incrementAndGet();
      send().onComplete(ar -> outstanding.decrementAndGet());
    }
    long nextDueNanos = pacedStartNanos + (long) (pacedSent / pacedBatchesPerNano);
    long delayMs = Math.max(1, (nextDueNanos - System.nanoTime()) / 1_000_000);
    pacedTimer = ctx.owner().setTimer(delayMs, id -> pacedTick());
  }

  /** One batch, ts = now; the answer is recorded in the phase current when it arrives. */
  private Future<Void> send() {
    long t0 = System.nanoTime();
    Buffer body = workload.nextBody(System.currentTimeMillis());
    int expected = workload.batchSize();
    return client.request(request)
        .compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> {
          PhaseStats s = stats;
          if (s == null) {
            return null;
          }
          s.requests.increment();
          s.bytesSent.add(body.length());
          s.httpRttMicros.recordValue(Math.min((System.nanoTime() - t0) / 1000, 60_000_000L));
          if (resp.statusCode() != 202) {
            s.non202.increment();
            if (resp.statusCode() == 401 || resp.statusCode() == 403) {
              s.authRefused.increment();
            }
            s.error("HTTP " + resp.statusCode() + ": " + abbreviate(b.toString()));
            return null;
          }
          try {
            JsonObject j = b.toJsonObject();
            long acc = j.getLong("accepted", -1L);
            long rej = j.getLong("rejected", 0L);
            if (acc < 0) {
              s.error("202 without \"accepted\": " + abbreviate(b.toString()));
            } else {
              s.accepted.add(acc);
              s.rejected.add(rej);
              if (acc + rej != expected || rej > 0) {
                s.error("202 with accepted=" + acc + " rejected=" + rej + " of " + expected + ": "
                    + abbreviate(b.toString()));
              }
            }
          } catch (RuntimeException e) {
            s.error("202 with a body that is not JSON: " + abbreviate(b.toString()));
          }
          return null;
        }))
        .recover(err -> {
          PhaseStats s = stats;
          if (s != null) {
            s.failures.increment();
            s.error("request failed: " + err);
          }
          return Future.succeededFuture();
        })
        .mapEmpty();
  }

  static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  @Override
  public void close() {
    closedLoop = false;
    paced = false;
    client.close();
  }
}

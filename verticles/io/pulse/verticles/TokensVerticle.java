package io.pulse.verticles;

import io.pulse.auth.RevocationList;
import io.pulse.store.TokenStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The revocation list's owner: loads the stored revocations at start (before the HTTP instances
 * open, so no revoked token is let in after a restart) and then installs the list as the
 * server's {@link io.pulse.auth.Revocations}; with storage, follows the table every second for
 * what other processes sharing the database revoke, and tells every live hub
 * ({@link Addresses#TOKENS_REVOKED}); sweeps entries of long-expired tokens. Without storage the
 * list lives in memory only (revocations are lost with a restart).
 */
public final class TokensVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(TokensVerticle.class);
  /** How often storage is asked for revocations made elsewhere. */
  static final long FOLLOW_MS = 1_000;
  /** How often entries of tokens long expired are swept. */
  static final long SWEEP_MS = 10 * 60_000L;
  /**
   * Rows are followed by their seq; a transaction that took a seq earlier may commit later than
   * one that took a later seq: each poll looks this far back (in time) over the seqs it saw.
   */
  private static final long OVERLAP_MS = 10_000;

  private final PulseContext ctx;
  private final RevocationList list;
  private final TokenStore store;
  /** (when polled, the highest seq seen by then): the poll's low mark is the newest one older than the overlap. */
  private final Deque<long[]> seen = new ArrayDeque<>();
  private long highest;
  private boolean following;
  private long followTimer = -1;
  private long sweepTimer = -1;

  public TokensVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.list = ctx.revocationList;
    this.store = ctx.tokens;
  }

  @Override
  public Future<?> start() {
    Future<Void> loaded = store == null ? Future.succeededFuture()
        : store.revokedSince(0, ctx.clock.millis()).map(rows -> {
          take(rows);
          LOG.info("tokens: {} revoked token id(s) loaded from storage", list.size());
          return null;
        });
    return loaded.onSuccess(v -> {
      ctx.revocations = list; // the owner of this slot
      if (store != null) {
        followTimer = vertx.setPeriodic(FOLLOW_MS, t -> follow());
      }
      sweepTimer = vertx.setPeriodic(SWEEP_MS, t -> sweep());
    });
  }

  /** Adds stored rows to the list; tells the hubs about those that were new here. */
  private void take(List<TokenStore.Revoked> rows) {
    List<RevocationList.Entry> entries = new java.util.ArrayList<>(rows.size());
    for (TokenStore.Revoked r : rows) {
      highest = Math.max(highest, r.seq());
      entries.add(r.entry());
    }
    for (RevocationList.Entry e : list.addAll(entries)) {
      vertx.eventBus().publish(Addresses.TOKENS_REVOKED, revokedMessage(e));
    }
  }

  /** What the hubs are told: the tenant whose token it is and its id (a hub closes only that tenant's connections). */
  static JsonObject revokedMessage(RevocationList.Entry e) {
    return new JsonObject().put("tenant", e.tenant()).put("tokenId", e.tokenId()).put("reason", "token revoked");
  }

  private void follow() {
    if (following || ctx.draining.get()) {
      return;
    }
    following = true;
    long now = ctx.clock.millis();
    seen.addLast(new long[] {now, highest});
    // the front stays the newest poll older than the overlap: rows above what it had seen are read again
    while (seen.size() > 1 && second()[0] <= now - OVERLAP_MS) {
      seen.removeFirst();
    }
    long low = seen.peekFirst()[0] <= now - OVERLAP_MS ? seen.peekFirst()[1] : 0;
    store.revokedSince(low, now)
        .onSuccess(this::take)
        .onFailure(e -> LOG.debug("tokens: following revocations: {}", e.toString()))
        .onComplete(ar -> following = false);
  }

  private long[] second() {
    java.util.Iterator<long[]> it = seen.iterator();
    it.next();
    return it.next();
  }

  private void sweep() {
    int n = list.sweep();
    if (n > 0) {
      LOG.info("tokens: {} revocation(s) of tokens expired long ago forgotten", n);
    }
    if (store != null && !ctx.draining.get()) {
      store.sweep(ctx.clock.millis() - RevocationList.SWEEP_GRACE_MS)
          .onFailure(e -> LOG.debug("tokens: sweeping stored revocations: {}", e.toString()));
    }
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(followTimer);
    vertx.cancelTimer(sweepTimer);
    return Future.succeededFuture();
  }
}

package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Health;
import io.pulse.core.ManualClock;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Each tenant's share of the write queue ({@code limits.perTenant.maxStorageBacklog}): the status
 * names the tenants whose rows waiting reached their cap, the others' not, against a fake database
 * that is away and then back. Rows are "tenant:n".
 */
class StoreWriterTenantTest {

  private static final long RETRY_MS = 1_000;

  private final ManualClock clock = new ManualClock(1_000_000);
  private final List<String> stored = new ArrayList<>();
  private final List<StoreWriter.Status> published = new ArrayList<>();
  private boolean away;

  private final StoreWriter.Sink<String> db = new StoreWriter.Sink<>() {
    @Override
    public Future<?> write(List<String> batch) {
      if (away) {
        return Future.failedFuture(new IOException("Connection refused"));
      }
      stored.addAll(batch);
      return Future.succeededFuture();
    }

    @Override
    public Future<?> ping() {
      return away ? Future.failedFuture(new IOException("Connection refused")) : Future.succeededFuture();
    }
  };

  private StoreWriter<String> writer(long tenantCap) {
    return new StoreWriter<>(new StoreWriter.Settings(1_000, 4, RETRY_MS, 3_000), db, clock, new Health(), ms -> { },
        published::add, row -> row, "the fake database", row -> row.substring(0, row.indexOf(':')), tenantCap);
  }

  private static void hand(StoreWriter<String> w, String tenant, int from, int n) {
    List<String> rows = IntStream.range(from, from + n).mapToObj(i -> tenant + ":" + i).toList();
    w.expect(n);
    w.arrived(n, rows);
  }

  @Test
  @DisplayName("a tenant whose rows waiting reach its cap is full, until they drain to 90% of it; the others are not")
  void tenantShare() {
    StoreWriter<String> w = writer(10);
    away = true;
    hand(w, "acme", 0, 9);
    assertFalse(w.status().tenantFull("acme"), "9 of 10");
    hand(w, "globex", 0, 5);
    hand(w, "acme", 9, 1);
    assertEquals(Set.of("acme"), w.status().tenantsFull());
    assertTrue(w.status().tenantFull("acme"));
    assertFalse(w.status().tenantFull("globex"));
    assertFalse(w.status().full(), "the queue as a whole has room");
    assertEquals(10, w.tenantDepth("acme"));
    assertEquals(5, w.tenantDepth("globex"));
    assertTrue(published.get(published.size() - 1).tenantFull("acme"), "published to the other verticles");

    // the database back: everything is written, in order, and the tenant has room again
    away = false;
    clock.advance(RETRY_MS);
    w.pump();
    assertEquals(15, stored.size());
    assertEquals(Set.of(), w.status().tenantsFull());
    assertEquals(0, w.tenantDepth("acme"));
    assertEquals(new StoreWriter.Status(0, false, null), published.get(published.size() - 1));
  }

  @Test
  @DisplayName("without a per-tenant cap nothing is counted per tenant and no tenant is ever full")
  void noCap() {
    StoreWriter<String> w = writer(Long.MAX_VALUE);
    away = true;
    hand(w, "acme", 0, 900);
    assertFalse(w.status().tenantFull("acme"));
    assertEquals(0, w.tenantDepth("acme"));
    assertEquals(900, w.status().depth());
  }
}

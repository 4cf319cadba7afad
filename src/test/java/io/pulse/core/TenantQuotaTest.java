package io.pulse.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.TenantQuota.Resource;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TenantQuotaTest {

  @Test
  @DisplayName("a tenant at its cap is refused with the setting named; another tenant goes on")
  void perTenant() {
    TenantQuota q = new TenantQuota(Map.of(Resource.STREAMS, 2L));
    assertTrue(q.tryAcquire("acme", Resource.STREAMS, 1));
    assertTrue(q.tryAcquire("acme", Resource.STREAMS, 1));
    assertFalse(q.tryAcquire("acme", Resource.STREAMS, 1));
    assertEquals(2, q.used("acme", Resource.STREAMS));
    assertTrue(q.tryAcquire("globex", Resource.STREAMS, 2));
    assertTrue(q.refusal("acme", Resource.STREAMS).contains("limits.perTenant.maxStreams"));
    q.release("acme", Resource.STREAMS, 1);
    assertTrue(q.tryAcquire("acme", Resource.STREAMS, 1));
    assertTrue(q.tryAcquire("acme", Resource.SERIES, 1_000_000), "no cap set: unlimited");
  }

  @Test
  @DisplayName("a request for more than is left takes nothing")
  void allOrNothing() {
    TenantQuota q = new TenantQuota(Map.of(Resource.STORAGE_BACKLOG, 10L));
    assertTrue(q.tryAcquire("t", Resource.STORAGE_BACKLOG, 8));
    assertFalse(q.tryAcquire("t", Resource.STORAGE_BACKLOG, 3));
    assertEquals(8, q.used("t", Resource.STORAGE_BACKLOG));
  }

  @Test
  @DisplayName("concurrent acquires never pass the cap")
  void concurrent() throws InterruptedException {
    TenantQuota q = new TenantQuota(Map.of(Resource.CONNECTIONS, 100L));
    AtomicInteger won = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    for (int i = 0; i < 1000; i++) {
      pool.execute(() -> {
        if (q.tryAcquire("t", Resource.CONNECTIONS, 1)) {
          won.incrementAndGet();
        }
      });
    }
    pool.shutdown();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    assertEquals(100, won.get());
  }

  @Test
  @DisplayName("a cap below 1 is refused at start")
  void badCap() {
    assertThrows(IllegalArgumentException.class, () -> new TenantQuota(Map.of(Resource.VIEWS, 0L)));
  }
}

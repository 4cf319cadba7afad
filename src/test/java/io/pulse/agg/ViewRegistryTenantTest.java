package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.core.TenantQuota;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Each tenant's on-demand views under {@code limits.perTenant.maxViews} (2 here): a tenant whose
 * views are all watched is refused with the reason, another tenant is not; an unwatched view of
 * the tenant (of any of its streams) makes room; dropped views give their places back.
 */
class ViewRegistryTenantTest {

  private final PulseConfig config = PulseConfig.of(new JsonObject().put("limits",
      new JsonObject().put("perTenant", new JsonObject().put("maxViews", 2))));
  private final TenantQuota quota = config.perTenant().quota();
  private final ViewRegistry views = new ViewRegistry(config, quota);

  private View acquire(String tenant, String stream, String region, List<View> evicted)
      throws ViewRegistry.ViewException {
    return views.acquire(StreamId.of(tenant, stream), Map.of("region", Set.of(region)), List.of(), evicted);
  }

  @Test
  @DisplayName("a tenant with maxViews watched views is refused with the reason; another is not; an unwatched one makes room")
  void viewsPerTenant() throws Exception {
    List<View> evicted = new ArrayList<>();
    View a = acquire("acme", "one", "a", evicted);
    acquire("acme", "two", "b", evicted);
    assertSame(a, acquire("acme", "one", "a", evicted), "a watched view shared by two subscribers is one view");
    ViewRegistry.ViewException e = assertThrows(ViewRegistry.ViewException.class,
        () -> acquire("acme", "one", "c", new ArrayList<>()));
    assertTrue(e.getMessage().contains("tenant acme is at its limit of 2 views (limits.perTenant.maxViews)"),
        e.getMessage());
    assertEquals(2, quota.used("acme", TenantQuota.Resource.VIEWS), "the refusal took nothing");

    acquire("globex", "one", "a", evicted);
    acquire("globex", "one", "b", evicted);
    assertTrue(evicted.isEmpty());

    // a's two subscribers go: its view, unwatched, makes room for acme's next one
    views.release(a, 1_000);
    views.release(a, 1_000);
    View c = acquire("acme", "two", "c", evicted);
    assertEquals(List.of(a), evicted, "the tenant's own unwatched view, of another of its streams");
    assertEquals(2, quota.used("acme", TenantQuota.Resource.VIEWS));
    assertEquals(2, quota.used("globex", TenantQuota.Resource.VIEWS), "the other tenant's views untouched");

    // views dropped (retired or forgotten) give their places back; permanent views never counted
    views.release(c, 2_000);
    assertEquals(1, views.retireIdle(10_000, 0).size());
    assertEquals(1, quota.used("acme", TenantQuota.Resource.VIEWS));
    views.views(StreamId.of("acme", "three"));
    assertEquals(1, quota.used("acme", TenantQuota.Resource.VIEWS));
  }
}

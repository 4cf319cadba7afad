package io.pulse.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The notify.* settings: defaults, overrides, and refusals that name the setting. */
class NotifySettingsTest {

  @Test
  @DisplayName("defaults: group 1 s, backoff 1 s doubling to 5 min, give up after 24 h, 10,000 waiting per tenant")
  void defaults() {
    PulseConfig.Notify n = PulseConfig.of(null).notifications();
    assertTrue(n.enabled());
    assertEquals(1_000, n.groupWaitMs());
    assertEquals(100, n.maxGroupSize());
    assertEquals(1_000, n.backoffBaseMs());
    assertEquals(300_000, n.backoffCapMs());
    assertEquals(86_400_000L, n.giveUpAfterMs());
    assertEquals(10_000, n.maxPendingPerTenant());
    assertEquals(16, n.maxInFlight());
    assertEquals(5_000, n.connectTimeoutMs());
    assertEquals(10_000, n.requestTimeoutMs());
    assertEquals(7 * 86_400_000L, n.keepMs());
  }

  @Test
  @DisplayName("overrides from a file or -Dpulse.notify.*; a cap below the base or an unknown key is refused by name")
  void overridesAndRefusals() {
    PulseConfig c = PulseConfig.load(Map.of(), Map.of("pulse.notify.giveUpAfterMs", "3600000"));
    assertEquals(3_600_000L, c.notifications().giveUpAfterMs());
    ConfigException cap = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("notify", new JsonObject().put("backoffBaseMs", 5_000).put("backoffCapMs", 1_000))));
    assertTrue(cap.getMessage().startsWith("configuration notify.backoffCapMs:"), cap.getMessage());
    ConfigException typo = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("notify", new JsonObject().put("giveUpAfter", "24h"))));
    assertTrue(typo.getMessage().contains("notify.giveUpAfter"), typo.getMessage());
    assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("notify", new JsonObject().put("giveUpAfterMs", 10))));
  }
}

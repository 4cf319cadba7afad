package io.pulse.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WebhookTest {

  private static final String SECRET = "whsec_0123456789abcdef";

  private static Webhook parse(String doc) {
    return Webhook.parse("default", "w1", new JsonObject(doc), SECRET);
  }

  private static String refusal(String doc) {
    return assertThrows(Webhook.Invalid.class, () -> parse(doc)).getMessage();
  }

  @Test
  @DisplayName("only absolute http and https URLs with a host, no credentials, are taken")
  void urls() {
    assertEquals("https://hooks.example.com/pulse?x=1",
        parse("{\"name\":\"n\",\"url\":\"https://hooks.example.com/pulse?x=1\"}").url().toString());
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"ftp://example.com/\"}").startsWith("url: must be http"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"file:///etc/passwd\"}").startsWith("url:"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"/relative\"}").startsWith("url:"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"http://user:pw@example.com/\"}").contains("user or password"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"http://exa mple.com/\"}").startsWith("url: not a URL"));
    assertTrue(refusal("{\"name\":\"n\"}").startsWith("url: required"));
    assertTrue(refusal("{\"url\":\"http://example.com/\"}").startsWith("name:"));
  }

  @Test
  @DisplayName("matchers: severity and stream lists, labels all equal; bad matchers are refused with the reason")
  void matchers() {
    Webhook w = parse("{\"name\":\"n\",\"url\":\"http://h/\",\"match\":{\"severity\":[\"critical\",\"warning\"],"
        + "\"stream\":\"payments\",\"labels\":{\"team\":\"pay\"}}}");
    JsonObject alert = new JsonObject().put("severity", "critical").put("stream", "payments")
        .put("labels", new JsonObject().put("team", "pay").put("env", "prod"));
    assertTrue(w.matches(alert));
    assertFalse(w.matches(alert.copy().put("severity", "info")));
    assertFalse(w.matches(alert.copy().put("stream", "checkout")));
    assertFalse(w.matches(alert.copy().put("labels", new JsonObject().put("team", "web"))));
    assertFalse(w.matches(alert.copy().putNull("labels")));
    assertTrue(parse("{\"name\":\"n\",\"url\":\"http://h/\"}").matches(new JsonObject()), "no matcher: everything");
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"http://h/\",\"match\":{\"severity\":[\"loud\"]}}")
        .contains("not a severity"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"http://h/\",\"match\":{\"colour\":\"red\"}}").contains("colour"));
    assertTrue(refusal("{\"name\":\"n\",\"url\":\"http://h/\",\"enabled\":\"yes\"}").startsWith("enabled"));
  }

  @Test
  @DisplayName("the document never shows the secret; short secrets are refused")
  void secret() {
    Webhook w = parse("{\"name\":\"n\",\"url\":\"http://h/\"}");
    assertFalse(w.toJson().encode().contains(SECRET));
    assertFalse(w.toString().contains(SECRET));
    assertThrows(Webhook.Invalid.class, () -> Webhook.parse("default", "w1",
        new JsonObject("{\"name\":\"n\",\"url\":\"http://h/\"}"), "short"));
    assertEquals(w, Webhook.parse("default", "w1", w.toJson(), SECRET), "the document parses back to the same webhook");
  }
}

package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The subscription id spliced into a message once per subscription: escaped, after the first field. */
class LiveJsonSubTest {

  @Test
  @DisplayName("a sub id with quotes, backslashes and control characters stays one JSON string after the type")
  void subFieldIsEscaped() {
    String id = "a\"b\\c\u0001é";
    String out = LiveJson.withSubField("{\"type\":\"rollup\",\"count\":3}", LiveJson.subField(id));
    JsonObject j = new JsonObject(out);
    assertEquals(id, j.getString("sub"));
    assertEquals(3, j.getInteger("count"));
    assertEquals("{\"type\":\"rollup\",\"sub\":\"", out.substring(0, 24));
    assertEquals(out, LiveJson.withSub("{\"type\":\"rollup\",\"count\":3}", id));
    assertEquals("{}", LiveJson.withSubField("{}", LiveJson.subField("s")), "no field to follow: as it is");
  }
}

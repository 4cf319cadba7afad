package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JsonYamlTest {

  @Test
  @DisplayName("objects, arrays, scalars and empty containers in block style; strings always quoted")
  void blockStyle() {
    JsonObject o = new JsonObject().put("openapi", "3.1.0").put("n", 3).put("x", 1.5).put("yes", true)
        .putNull("none").put("empty", new JsonObject()).put("list", new JsonArray())
        .put("tags", new JsonArray().add("a").add(new JsonObject().put("name", "b").put("k", 1))
            .add(new JsonArray().add(1)))
        .put("nested", new JsonObject().put("true", "no").put("s", "line\n\"q\""));
    String expected = """
        "openapi": "3.1.0"
        "n": 3
        "x": 1.5
        "yes": true
        "none": null
        "empty": {}
        "list": []
        "tags":
          - "a"
          - "name": "b"
            "k": 1
          -
            - 1
        "nested":
          "true": "no"
          "s": "line\\n\\"q\\""
        """;
    assertEquals(expected, JsonYaml.write(o));
  }

  @Test
  @DisplayName("a YAML parser reads back the same tree, for words YAML would otherwise take as other types")
  void roundTrip() {
    JsonObject o = new JsonObject().put("a", "yes").put("b", "null").put("c", "1e3").put("d", "- x: y")
        .put("e", "#not a comment").put("f", "ünïcode ✓").put("g", new JsonArray().add(new JsonObject())
            .add(new JsonObject().put("k", new JsonArray().add("on").add(-2))))
        .put("{weird: key}", "tab\there");
    @SuppressWarnings("unchecked")
    Map<String, Object> back = (Map<String, Object>) new org.yaml.snakeyaml.Yaml().load(JsonYaml.write(o));
    assertEquals(o.encode(), new JsonObject(back).encode());
    assertEquals("{}\n", JsonYaml.write(new JsonObject()));
  }
}

package io.pulse.http;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Writes a JSON tree as block-style YAML (for {@code GET /openapi.yaml}; no YAML library is on
 * the classpath). Every string and key is written double-quoted with JSON's escapes, which YAML
 * 1.2 reads the same, so no value is mistaken for a number, a boolean or a null; numbers,
 * booleans and null are written as JSON writes them; empty objects and arrays as {@code {}} and
 * {@code []}. Reading the output with any YAML 1.2 parser gives the same tree back.
 */
public final class JsonYaml {

  private JsonYaml() {
  }

  public static String write(JsonObject root) {
    StringBuilder out = new StringBuilder();
    if (root.isEmpty()) {
      return "{}\n";
    }
    object(out, root, 0);
    return out.toString();
  }

  private static void object(StringBuilder out, JsonObject o, int indent) {
    for (Map.Entry<String, Object> e : o) {
      pad(out, indent).append(quoted(e.getKey())).append(':');
      value(out, e.getValue(), indent);
    }
  }

  private static void array(StringBuilder out, JsonArray a, int indent) {
    for (Object v : a) {
      pad(out, indent).append('-');
      if (v instanceof JsonObject o && !o.isEmpty()) {
        // the first key on the dash's line, the others aligned under it
        out.append(' ');
        boolean first = true;
        for (Map.Entry<String, Object> e : o) {
          if (!first) {
            pad(out, indent + 2);
          }
          first = false;
          out.append(quoted(e.getKey())).append(':');
          value(out, e.getValue(), indent + 2);
        }
      } else {
        value(out, v, indent);
      }
    }
  }

  /** After "key:" or "-": a scalar on the same line, or a nested block on the next lines. */
  private static void value(StringBuilder out, Object v, int indent) {
    if (v instanceof Map<?, ?> m) {
      v = new JsonObject(castMap(m));
    } else if (v instanceof java.util.List<?> l) {
      v = new JsonArray(l);
    }
    if (v instanceof JsonObject o) {
      if (o.isEmpty()) {
        out.append(" {}\n");
      } else {
        out.append('\n');
        object(out, o, indent + 2);
      }
    } else if (v instanceof JsonArray a) {
      if (a.isEmpty()) {
        out.append(" []\n");
      } else {
        out.append('\n');
        array(out, a, indent + 2);
      }
    } else if (v instanceof CharSequence s) {
      out.append(' ').append(quoted(s.toString())).append('\n');
    } else {
      out.append(' ').append(v == null ? "null" : Json.encode(v)).append('\n');
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  private static String quoted(String s) {
    return Json.encode(s);
  }

  private static StringBuilder pad(StringBuilder out, int indent) {
    for (int i = 0; i < indent; i++) {
      out.append(' ');
    }
    return out;
  }
}

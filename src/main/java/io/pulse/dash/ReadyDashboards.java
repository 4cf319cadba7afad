package io.pulse.dash;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The ready dashboards of the six demo cases ({@code dashboards/<name>.json} on the class path),
 * with ids {@code ready-<name>}: created for the tenant "default" when the demo starts with
 * storage, again only where missing (like the ready rules), and listed before the others.
 */
public final class ReadyDashboards {

  /** The cases, in the order they are shown. */
  public static final List<String> NAMES = List.of("pipeline", "payments", "vitals", "checkout", "latency", "sales");
  public static final String PREFIX = "ready-";

  private ReadyDashboards() {
  }

  /** Whether {@code id} is the id of a ready dashboard. */
  public static boolean isReady(String id) {
    return id != null && id.startsWith(PREFIX) && NAMES.contains(id.substring(PREFIX.length()));
  }

  /** The documents, each with its id, in {@link #NAMES} order (read from the class path; blocking, small). */
  public static List<JsonObject> all() {
    List<JsonObject> out = new ArrayList<>(NAMES.size());
    for (String name : NAMES) {
      out.add(one(name));
    }
    return out;
  }

  /** One ready dashboard's document, with its id. */
  public static JsonObject one(String name) {
    String path = "dashboards/" + name + ".json";
    try (InputStream in = ReadyDashboards.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(path + " is missing from the class path");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).put("id", PREFIX + name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

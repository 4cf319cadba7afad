package io.pulse.verticles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Scope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The route table: every route declares a scope, and it serves what API.md and the README document. */
class RoutesTest {

  /**
   * The routes API.md (the public contract, kept outside this repository) names, as it writes them.
   * The WebSocket endpoint is opened with a GET.
   */
  private static final List<String> API_MD = List.of(
      "POST /api/v1/events", "POST /api/v1/streams/{stream}/events",
      "GET /api/v1/live/sse", "GET /api/v1/live/ws",
      "GET /api/v1/streams", "GET /api/v1/streams/{stream}/series",
      "GET /api/v1/alerts", "POST /api/v1/alerts/{id}/ack", "POST /api/v1/alerts/{id}/unack",
      "GET /api/v1/rules", "POST /api/v1/rules", "GET /api/v1/rules/{id}", "PUT /api/v1/rules/{id}",
      "DELETE /api/v1/rules/{id}",
      "GET /api/v1/dashboards", "POST /api/v1/dashboards", "GET /api/v1/dashboards/{id}",
      "PUT /api/v1/dashboards/{id}", "DELETE /api/v1/dashboards/{id}",
      "GET /api/v1/quarantine", "GET /api/v1/whoami",
      "GET /health/live", "GET /health/ready", "GET /metrics", "GET /openapi.json");

  /** API.md routes that later issues bring (none left since issue 13). */
  private static final Set<String> NOT_YET_SERVED = Set.of();

  private static Set<String> served() {
    Set<String> out = new LinkedHashSet<>();
    for (Routes.Route r : Routes.TABLE) {
      out.add(r.describe());
    }
    return out;
  }

  /** "GET /a/{x}/b" with the parameter names dropped, so "{id}" and "{stream}" compare equal. */
  private static String shape(String route) {
    return route.replaceAll("\\{[^}]*}", "{}");
  }

  private static Set<String> servedShapes() {
    Set<String> out = new TreeSet<>();
    served().forEach(r -> out.add(shape(r)));
    return out;
  }

  @Test
  @DisplayName("every route declares a scope; only health, metrics, the UI and the API's 404/405 are public")
  void everyRouteHasAScope() {
    List<String> problems = new ArrayList<>();
    for (Routes.Route r : Routes.TABLE) {
      if (r.scope() == null) {
        problems.add(r.describe() + ": no scope");
      } else if (r.scope() == Scope.PUBLIC && r.path().startsWith("/api/") && !r.path().equals("/api/*")) {
        problems.add(r.describe() + ": an API route cannot be PUBLIC");
      }
      if (r.steps().isEmpty()) {
        problems.add(r.describe() + ": no handler");
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  @DisplayName("no method and path is listed twice")
  void noDuplicates() {
    assertEquals(Routes.TABLE.size(), served().size(), "routes: " + served());
  }

  @Test
  @DisplayName("every route of API.md is served, except those later issues bring")
  void apiMdRoutesServed() {
    Set<String> shapes = servedShapes();
    List<String> missing = new ArrayList<>();
    List<String> nowServed = new ArrayList<>();
    for (String route : API_MD) {
      boolean has = shapes.contains(shape(route));
      if (!has && !NOT_YET_SERVED.contains(route)) {
        missing.add(route);
      }
      if (has && NOT_YET_SERVED.contains(route)) {
        nowServed.add(route); // served now: take it off NOT_YET_SERVED
      }
    }
    assertEquals(List.of(), missing, "API.md routes the table lacks");
    assertEquals(List.of(), nowServed, "routes served now, still listed as not yet served");
  }

  @Test
  @DisplayName("every route in the README's API table is served")
  void readmeRoutesServed() throws Exception {
    Path readme = Path.of("README.md");
    assertTrue(Files.exists(readme), "run from the project folder");
    Pattern cell = Pattern.compile("`((?:GET|POST|PUT|DELETE)(?:, (?:GET|POST|PUT|DELETE))*) (/(?:api/|health/|metrics|openapi)[^`?\\s]*)[^`]*`");
    Set<String> documented = new TreeSet<>();
    for (String line : Files.readAllLines(readme)) {
      if (!line.startsWith("| `")) {
        continue;
      }
      String first = line.substring(0, line.indexOf(" |", 2) + 1);
      Matcher m = cell.matcher(first);
      while (m.find()) {
        for (String method : m.group(1).split(", ")) {
          documented.add(method + " " + m.group(2));
        }
      }
    }
    assertTrue(documented.size() >= 15, "the README's API table was read: " + documented);
    Set<String> shapes = servedShapes();
    List<String> missing = new ArrayList<>();
    for (String route : documented) {
      if (!shapes.contains(shape(route))) {
        missing.add(route);
      }
    }
    assertEquals(List.of(), missing, "README routes the table lacks");
  }

  @Test
  @DisplayName("a route that writes stored history or definitions needs more than read")
  void writesNeedMoreThanRead() {
    for (Routes.Route r : Routes.TABLE) {
      assertNotNull(r.scope(), r.describe());
      // POST /api/v1/query reads only: its GET's request as a body (wallboard contract section 3)
      if (r.method() != null && !r.method().name().equals("GET") && r.path().startsWith("/api/v1/")
          && !r.describe().equals("POST /api/v1/query")) {
        assertTrue(r.scope() != Scope.READ && r.scope() != Scope.PUBLIC, r.describe() + " is " + r.scope());
      }
    }
  }
}

package io.pulse.verticles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Scope;
import io.pulse.testing.TestPulse;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /openapi.json} (issue 13, "API document"): the hand-written document describes every
 * route of {@link Routes#TABLE} with the scope the table gives it, documents no route the server
 * lacks, is a valid OpenAPI 3.1 document (checked by vertx-openapi), and is served with an ETag
 * and in YAML too; every documented operation reaches its route on a running server.
 */
class OpenApiTest {

  /**
   * Operations documented for routes that other work of issue 13 brings (JWT: whoami; tokens:
   * revocation and display tokens) and that this branch does not serve yet. Once they are merged
   * the tests below say so ("served now"): then this list is emptied.
   */
  static final Set<String> EXPECTED_SOON = Set.of();

  /** The router's catch-alls (the API's 404/405 answers, the UI's files, uPlot's files): not operations. */
  private static final Set<String> CATCH_ALLS = Set.of("* /api/*", "* /*", "GET /vendor/uplot/*");

  /** Error answers whose body is not {"error"}: the readiness report says why it is not ready. */
  private static final Set<String> OTHER_ERROR_BODIES = Set.of("GET /health/ready 503");

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");
  private static final String ERROR_SCHEMA = "#/components/schemas/Error";

  private static TestPulse server;

  @BeforeAll
  static void start() {
    server = TestPulse.start(null);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static JsonObject document() throws Exception {
    try (InputStream in = OpenApiTest.class.getClassLoader().getResourceAsStream(OpenApiDoc.RESOURCE)) {
      assertNotNull(in, OpenApiDoc.RESOURCE + " on the classpath");
      return new JsonObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /** "GET /api/v1/streams/{stream}/series" -> its operation object, in document order. */
  static Map<String, JsonObject> operations(JsonObject doc) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (METHODS.contains(method)) {
          out.put(method.toUpperCase() + " " + path, item.getJsonObject(method));
        }
      }
    }
    return out;
  }

  /** The routes the table serves, as "METHOD /path/{param}", with their scopes; catch-alls left out. */
  static Map<String, Routes.Route> served() {
    Map<String, Routes.Route> out = new LinkedHashMap<>();
    for (Routes.Route r : Routes.TABLE) {
      if (!CATCH_ALLS.contains(r.describe())) {
        out.put(r.describe(), r);
      }
    }
    return out;
  }

  @Test
  @DisplayName("every route of the route table is documented, with the table's scope")
  void everyRouteDocumented() throws Exception {
    Map<String, JsonObject> ops = operations(document());
    List<String> missing = new ArrayList<>();
    List<String> wrongScope = new ArrayList<>();
    served().forEach((route, r) -> {
      JsonObject op = ops.get(route);
      if (op == null) {
        missing.add(route);
      } else if (!r.scope().name().equals(op.getString("x-pulse-scope"))) {
        wrongScope.add(route + ": table " + r.scope() + ", document " + op.getString("x-pulse-scope"));
      }
    });
    assertEquals(List.of(), missing, "routes the document lacks");
    assertEquals(List.of(), wrongScope, "scopes that differ");
    assertTrue(ops.size() >= served().size(), "the document was read: " + ops.size() + " operations");
  }

  @Test
  @DisplayName("every documented operation is a route of the table (but those other work of issue 13 brings)")
  void everyDocumentedOperationServed() throws Exception {
    Map<String, Routes.Route> served = served();
    List<String> unknown = new ArrayList<>();
    List<String> servedNow = new ArrayList<>();
    for (String op : operations(document()).keySet()) {
      if (!served.containsKey(op) && !EXPECTED_SOON.contains(op)) {
        unknown.add(op);
      }
      if (served.containsKey(op) && EXPECTED_SOON.contains(op)) {
        servedNow.add(op); // merged: take it off EXPECTED_SOON
      }
    }
    List<String> undocumentedSoon = new ArrayList<>(EXPECTED_SOON);
    undocumentedSoon.removeAll(operations(document()).keySet());
    assertEquals(List.of(), unknown, "documented operations the table does not serve");
    assertEquals(List.of(), servedNow, "served now, still listed in EXPECTED_SOON");
    assertEquals(List.of(), undocumentedSoon, "EXPECTED_SOON names operations the document lacks");
  }

  @Test
  @DisplayName("every operation has an id, responses, its scope, security that matches it and its errors")
  void operationsComplete() throws Exception {
    JsonObject doc = document();
    assertEquals("3.1.0", doc.getString("openapi"));
    JsonObject schemes = doc.getJsonObject("components").getJsonObject("securitySchemes");
    assertEquals("bearer", schemes.getJsonObject("bearerAuth").getString("scheme"));
    assertEquals("access_token", schemes.getJsonObject("accessToken").getString("name"));
    assertEquals("query", schemes.getJsonObject("accessToken").getString("in"));
    Map<String, Routes.Route> served = served();
    Set<String> ids = new TreeSet<>();
    List<String> problems = new ArrayList<>();
    operations(doc).forEach((name, op) -> {
      String path = name.substring(name.indexOf(' ') + 1);
      String id = op.getString("operationId");
      if (id == null || !ids.add(id)) {
        problems.add(name + ": operationId missing or not unique: " + id);
      }
      if (op.getString("summary") == null || op.getString("summary").isBlank()) {
        problems.add(name + ": no summary");
      }
      JsonObject responses = op.getJsonObject("responses");
      if (responses == null || responses.isEmpty()) {
        problems.add(name + ": no responses");
        return;
      }
      if (responses.fieldNames().stream().noneMatch(s -> s.startsWith("2") || s.equals("101"))) {
        problems.add(name + ": no success answer");
      }
      Scope scope;
      try {
        scope = Scope.valueOf(op.getString("x-pulse-scope", "none"));
      } catch (IllegalArgumentException e) {
        problems.add(name + ": x-pulse-scope is not a scope: " + op.getString("x-pulse-scope"));
        return;
      }
      problems.addAll(security(name, op, scope));
      if (scope != Scope.PUBLIC) {
        // any valid token passes an AUTHENTICATED route: it answers 401, never 403
        for (String status : scope == Scope.AUTHENTICATED ? List.of("401") : List.of("401", "403")) {
          if (!responses.containsKey(status)) {
            problems.add(name + ": a " + scope + " operation without its " + status);
          }
        }
      }
      problems.addAll(pathParameters(name, path, op));
      problems.addAll(errorBodies(doc, name, responses));
      Routes.Route route = served.get(name);
      if (route != null && route.onFailure() != null && !responses.containsKey("413")) {
        problems.add(name + ": its route has a body limit, the document no 413");
      }
      if (path.matches("/api/v1/(events|streams/\\{stream}/events)")) {
        for (String status : List.of("400", "413", "415", "503")) {
          if (!responses.containsKey(status)) {
            problems.add(name + ": ingest without its " + status);
          }
        }
      }
      boolean ifMatch = op.getJsonArray("parameters", new JsonArray()).stream()
          .anyMatch(p -> "If-Match".equals(((JsonObject) p).getString("name")));
      if (ifMatch && !responses.containsKey("409")) {
        problems.add(name + ": takes If-Match, documents no 409");
      }
    });
    assertEquals(List.of(), problems);
    assertEquals(List.of(), unresolvedRefs(doc, doc, "#"), "$refs that point nowhere");
  }

  /** PUBLIC: no security; otherwise a bearer token with the scope, and on the live endpoints access_token too. */
  private static List<String> security(String name, JsonObject op, Scope scope) {
    List<String> problems = new ArrayList<>();
    JsonArray security = op.getJsonArray("security");
    if (security == null) {
      problems.add(name + ": no security (PUBLIC operations say [])");
      return problems;
    }
    if (scope == Scope.PUBLIC) {
      if (!security.isEmpty()) {
        problems.add(name + ": PUBLIC, yet security " + security.encode());
      }
      return problems;
    }
    // AUTHENTICATED: any valid token, whatever its scopes (an empty list of bearer scopes)
    JsonArray expected = scope == Scope.AUTHENTICATED ? new JsonArray() : new JsonArray().add(scope.name().toLowerCase());
    Set<String> schemes = new TreeSet<>();
    for (Object o : security) {
      JsonObject requirement = (JsonObject) o;
      for (String scheme : requirement.fieldNames()) {
        schemes.add(scheme);
        if (!expected.equals(requirement.getJsonArray(scheme))) {
          problems.add(name + ": " + scheme + " asks " + requirement.getValue(scheme) + ", the route's scope is " + scope);
        }
      }
    }
    boolean live = name.startsWith("GET /api/v1/live/");
    Set<String> want = live ? Set.of("accessToken", "bearerAuth") : Set.of("bearerAuth");
    if (!schemes.equals(want)) {
      problems.add(name + ": security schemes " + schemes + ", expected " + want);
    }
    boolean tokenParam = op.getJsonArray("parameters", new JsonArray()).stream()
        .anyMatch(p -> "access_token".equals(((JsonObject) p).getString("name")));
    if (live != tokenParam) {
      problems.add(name + (live ? ": a live endpoint without" : ": with") + " the access_token parameter");
    }
    return problems;
  }

  /** The path's {params} are exactly its path parameters, each required. */
  private static List<String> pathParameters(String name, String path, JsonObject op) {
    List<String> problems = new ArrayList<>();
    Set<String> inTemplate = new TreeSet<>();
    Matcher m = Pattern.compile("\\{([^}]+)}").matcher(path);
    while (m.find()) {
      inTemplate.add(m.group(1));
    }
    Set<String> declared = new TreeSet<>();
    for (Object o : op.getJsonArray("parameters", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      if (p.getJsonObject("schema") == null) {
        problems.add(name + ": parameter " + p.getString("name") + " has no schema");
      }
      if ("path".equals(p.getString("in"))) {
        declared.add(p.getString("name"));
        if (!Boolean.TRUE.equals(p.getBoolean("required"))) {
          problems.add(name + ": path parameter " + p.getString("name") + " not required");
        }
      }
    }
    if (!inTemplate.equals(declared)) {
      problems.add(name + ": path parameters " + declared + ", the path has " + inTemplate);
    }
    return problems;
  }

  /** Every 4xx and 5xx answer is JSON {"error": "..."}. */
  private static List<String> errorBodies(JsonObject doc, String name, JsonObject responses) {
    List<String> problems = new ArrayList<>();
    for (String status : responses.fieldNames()) {
      if (status.compareTo("400") < 0 || OTHER_ERROR_BODIES.contains(name + " " + status)) {
        continue;
      }
      JsonObject r = responses.getJsonObject(status);
      if (r.getString("$ref") != null) {
        r = (JsonObject) resolve(doc, r.getString("$ref"));
      }
      String schema = r == null || r.getJsonObject("content") == null
          || r.getJsonObject("content").getJsonObject("application/json") == null ? null
          : r.getJsonObject("content").getJsonObject("application/json").getJsonObject("schema", new JsonObject())
              .getString("$ref");
      if (!ERROR_SCHEMA.equals(schema)) {
        problems.add(name + " " + status + ": not an Error body");
      }
    }
    return problems;
  }

  /** "#/components/schemas/Error" in {@code doc}, or null. */
  private static Object resolve(JsonObject doc, String ref) {
    if (!ref.startsWith("#/")) {
      return null;
    }
    Object at = doc;
    for (String part : ref.substring(2).split("/")) {
      String key = part.replace("~1", "/").replace("~0", "~");
      if (!(at instanceof JsonObject o) || !o.containsKey(key)) {
        return null;
      }
      at = o.getValue(key);
    }
    return at;
  }

  private static List<String> unresolvedRefs(JsonObject doc, Object node, String where) {
    List<String> out = new ArrayList<>();
    if (node instanceof JsonObject o) {
      for (String k : o.fieldNames()) {
        Object v = o.getValue(k);
        if (k.equals("$ref") && v instanceof String ref && resolve(doc, ref) == null) {
          out.add(where + ": " + ref);
        }
        out.addAll(unresolvedRefs(doc, v, where + "/" + k));
      }
    } else if (node instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        out.addAll(unresolvedRefs(doc, a.getValue(i), where + "/" + i));
      }
    }
    return out;
  }

  @Test
  @DisplayName("the document is valid OpenAPI 3.1: its meta-schema, and vertx-openapi builds a contract of it")
  void validOpenApi() throws Exception {
    JsonObject doc = document();
    Vertx vertx = Vertx.vertx();
    try {
      OpenAPIVersion version = OpenAPIVersion.fromContract(doc);
      assertEquals(OpenAPIVersion.V3_1, version);
      SchemaRepository repo = version.getRepository(vertx, "app://").toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      OutputUnit result = version.validateContract(vertx, repo, doc).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      assertTrue(result.getValid(), () -> "the OpenAPI 3.1 schema refuses the document: " + reasons(result));
      // vertx-openapi builds contracts for the media types it can validate requests and answers of; the
      // others (NDJSON ingest, the SSE stream, YAML) are described in the document but left out here
      OpenAPIContract contract = OpenAPIContract.from(vertx, supportedMediaTypesOnly(doc.copy()))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(operations(doc).size(), contract.operations().size());
      assertNotNull(contract.findOperation("/api/v1/streams/checkout/series", io.vertx.core.http.HttpMethod.GET));
      assertEquals("bearer", contract.securityScheme("bearerAuth").getScheme());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** The innermost reasons of a validation failure: where, and what. */
  private static List<String> reasons(OutputUnit result) {
    List<String> out = new ArrayList<>();
    for (OutputUnit e : result.getErrors() == null ? List.<OutputUnit>of() : result.getErrors()) {
      if (!"A subschema had errors".equals(e.getError()) && !e.getError().contains("does not match")) {
        out.add(e.getInstanceLocation() + ": " + e.getError());
      }
    }
    return out.isEmpty() ? List.of(result.toString()) : out;
  }

  private static final Set<String> VERTX_OPENAPI_MEDIA_TYPES = Set.of("application/json", "text/plain");

  private static JsonObject supportedMediaTypesOnly(JsonObject node) {
    strip(node);
    return node;
  }

  private static void strip(Object node) {
    if (node instanceof JsonObject o) {
      JsonObject content = o.getValue("content") instanceof JsonObject c ? c : null;
      if (content != null) {
        for (String type : new ArrayList<>(content.fieldNames())) {
          if (!VERTX_OPENAPI_MEDIA_TYPES.contains(type)) {
            content.remove(type);
          }
        }
        if (content.isEmpty()) {
          o.remove("content");
        }
      }
      o.forEach(e -> strip(e.getValue()));
    } else if (node instanceof JsonArray a) {
      a.forEach(OpenApiTest::strip);
    }
  }

  @Test
  @DisplayName("GET /openapi.json: the document, as JSON, with an ETag that a conditional GET answers 304 to")
  void servedAsJson() throws Exception {
    HttpResponse<String> r = server.request("GET", "/openapi.json", null);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    assertEquals(OpenApiDoc.CACHE_CONTROL, r.headers().firstValue("Cache-Control").orElse(""));
    String etag = r.headers().firstValue("ETag").orElse("");
    assertTrue(etag.matches("\"[0-9a-f]{24}\""), "ETag " + etag);
    JsonObject served = new JsonObject(r.body());
    assertEquals("3.1.0", served.getString("openapi"));
    assertEquals(document(), served);

    HttpResponse<String> again = server.request("GET", "/openapi.json", null, "If-None-Match", etag);
    assertEquals(304, again.statusCode());
    assertEquals("", again.body());
    assertEquals(etag, again.headers().firstValue("ETag").orElse(""));
    HttpResponse<String> changed = server.request("GET", "/openapi.json", null, "If-None-Match", "\"other\"");
    assertEquals(200, changed.statusCode());
  }

  @Test
  @DisplayName("GET /openapi.yaml: the same document as YAML, with its own ETag")
  void servedAsYaml() throws Exception {
    HttpResponse<String> r = server.request("GET", "/openapi.yaml", null);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/yaml"));
    String etag = r.headers().firstValue("ETag").orElse("");
    assertFalse(etag.isEmpty());
    Object parsed = new org.yaml.snakeyaml.Yaml().load(r.body());
    assertTrue(parsed instanceof Map, "YAML of a mapping");
    @SuppressWarnings("unchecked")
    JsonObject back = new JsonObject((Map<String, Object>) parsed);
    assertEquals(document().encode(), back.encode(), "the YAML holds the same tree");
    assertEquals(304, server.request("GET", "/openapi.yaml", null, "If-None-Match", etag).statusCode());
  }

  @Test
  @DisplayName("a running server answers every documented operation from its route, not with the unknown-route 404/405")
  void documentedOperationsReachTheirRoutes() throws Exception {
    // the check can fail: an unknown path and a wrong method are told apart from real answers
    assertTrue(unknownRoute(server.request("GET", "/api/v1/no-such-thing", null)).startsWith("404"));
    assertTrue(unknownRoute(server.request("PUT", "/api/v1/streams", "{}")).startsWith("405"));
    assertTrue(unknownRoute(server.request("GET", "/openapi.xml", null)).startsWith("404"));
    List<String> unknown = new ArrayList<>();
    List<String> servedNow = new ArrayList<>();
    for (String op : operations(document()).keySet()) {
      String method = op.substring(0, op.indexOf(' '));
      String path = op.substring(op.indexOf(' ') + 1).replace("{stream}", "checkout").replace("{id}", "1");
      HttpResponse<String> r = server.request(method, path, method.equals("GET") ? null : "{}");
      String why = unknownRoute(r);
      if (why != null && !EXPECTED_SOON.contains(op)) {
        unknown.add(op + ": " + why);
      }
      if (why == null && EXPECTED_SOON.contains(op)) {
        servedNow.add(op + ": " + r.statusCode());
      }
    }
    assertEquals(List.of(), unknown, "documented operations the server does not route");
    assertEquals(List.of(), servedNow, "served now, still listed in EXPECTED_SOON");
  }

  /**
   * Why an answer is the router's, not a route's: OpsApi.unknownApi's 404 ("no such endpoint: ...")
   * or 405 ("... is not allowed on ..."), or the router's own 404/405 ("not found: ...", "method
   * not allowed: ..."); null for an answer of a route, whatever its status.
   */
  private static String unknownRoute(HttpResponse<String> r) {
    if (r.statusCode() != 404 && r.statusCode() != 405) {
      return null;
    }
    String error;
    try {
      error = new JsonObject(r.body()).getString("error", "");
    } catch (RuntimeException e) {
      return null;
    }
    boolean router = error.startsWith("no such endpoint: ") || error.startsWith("not found: ")
        || error.contains(" is not allowed on ") || error.startsWith("method not allowed: ");
    return router ? r.statusCode() + " " + error : null;
  }
}

package io.pulse.verticles;

import io.pulse.http.JsonYaml;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * {@code GET /openapi.json} and {@code GET /openapi.yaml} (API.md "Operations"): the REST API
 * described, from the resource {@value #RESOURCE} (hand-written; OpenApiTest checks it against the
 * route table and the running server). Read off the event loop on the first request, then served
 * from memory with an ETag (a conditional GET answers 304) and a Cache-Control.
 */
final class OpenApiDoc {

  static final String RESOURCE = "openapi.json";
  /** Clients may reuse the document for five minutes, then revalidate it with its ETag. */
  static final String CACHE_CONTROL = "public, max-age=300";

  /** One rendering of the document: its bytes, content type and ETag. */
  record Rendering(Buffer body, String contentType, String etag) {
  }

  /** Both renderings of the document. */
  record Doc(Rendering json, Rendering yaml) {
  }

  /** This instance's document, loaded once (again after a failed load); used on this instance's event loop. */
  private Future<Doc> doc;

  void json(RoutingContext rc) {
    serve(rc, false);
  }

  void yaml(RoutingContext rc) {
    serve(rc, true);
  }

  private void serve(RoutingContext rc, boolean yaml) {
    if (doc == null || doc.failed()) {
      doc = rc.vertx().executeBlocking(OpenApiDoc::load, false);
    }
    doc.onSuccess(d -> answer(rc, yaml ? d.yaml() : d.json()))
        .onFailure(e -> Replies.error(rc, 500, "the API document could not be read: " + e.getMessage()));
  }

  private static void answer(RoutingContext rc, Rendering r) {
    if (rc.response().ended()) {
      return;
    }
    rc.response().putHeader(HttpHeaders.ETAG, r.etag()).putHeader(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL);
    String ifNoneMatch = rc.request().getHeader(HttpHeaders.IF_NONE_MATCH);
    if (ifNoneMatch != null && matches(ifNoneMatch, r.etag())) {
      rc.response().setStatusCode(304).end();
      return;
    }
    rc.response().putHeader(HttpHeaders.CONTENT_TYPE, r.contentType());
    if (rc.request().method() == io.vertx.core.http.HttpMethod.HEAD) { // its length, no body (see Replies.send)
      rc.response().putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(r.body().length())).end();
    } else {
      rc.response().end(r.body());
    }
  }

  /** Whether an If-None-Match header names this ETag (or is "*"); weak tags compare equal to strong ones. */
  static boolean matches(String ifNoneMatch, String etag) {
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.trim();
      if (t.equals("*") || t.replaceFirst("^W/", "").equals(etag)) {
        return true;
      }
    }
    return false;
  }

  /** Reads and parses the resource (a broken document fails here, not in a client). Blocking. */
  static Doc load() throws IOException {
    byte[] bytes;
    try (InputStream in = OpenApiDoc.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is not on the classpath");
      }
      bytes = in.readAllBytes();
    }
    JsonObject parsed = new JsonObject(Buffer.buffer(bytes));
    byte[] json = parsed.toBuffer().getBytes(); // without the resource's indentation: a third of its size
    byte[] yaml = JsonYaml.write(parsed).getBytes(StandardCharsets.UTF_8);
    return new Doc(new Rendering(Buffer.buffer(json), "application/json", etag(json)),
        new Rendering(Buffer.buffer(yaml), "application/yaml; charset=utf-8", etag(yaml)));
  }

  private static String etag(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}

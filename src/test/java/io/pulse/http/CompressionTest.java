package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Response compression (issue 14, the page's weight): the UI's files and uPlot come gzipped to a
 * client that asks for gzip and as they are to one that does not, with an ETag that makes a second
 * load a 304; large API answers are gzipped, small ones (an ingest's 202) are not; the live feeds
 * never are: SSE stays plain text even when the client offers gzip, and the WebSocket works with
 * or without a client offering permessage-deflate (which the server declines).
 */
@DisplayName("Response compression: static files gzipped, live feeds never")
class CompressionTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject());
  }

  @AfterAll
  static void stop() {
    if (pulse != null) {
      pulse.close();
    }
  }

  private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(pulse.baseUrl() + path)).timeout(Duration.ofSeconds(10));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private static byte[] gunzip(byte[] bytes) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return in.readAllBytes();
    }
  }

  @Test
  @DisplayName("the page, its modules and styles, and uPlot: gzip to a client that asks for it, identity to one that does not")
  void staticFiles() throws Exception {
    String[][] files = {{"/", "webroot/index.html"}, {"/index.html", "webroot/index.html"},
        {"/js/main.js", "webroot/js/main.js"}, {"/js/panels/timeseries.js", "webroot/js/panels/timeseries.js"},
        {"/style.css", "webroot/style.css"}, {"/vendor/uplot/uPlot.esm.js", null}, {"/vendor/uplot/uPlot.min.css", null}};
    for (String[] f : files) {
      String path = f[0];
      HttpResponse<byte[]> plain = get(path);
      assertEquals(200, plain.statusCode(), path);
      assertEquals(null, header(plain, "Content-Encoding"), path + ": not encoded when not asked");
      if (f[1] != null) {
        assertArrayEquals(Files.readAllBytes(Path.of(f[1])), plain.body(), path + " is the file as it is");
      }
      HttpResponse<byte[]> zipped = get(path, "Accept-Encoding", "gzip, deflate, br");
      assertEquals(200, zipped.statusCode(), path);
      assertEquals("gzip", header(zipped, "Content-Encoding"), path);
      assertEquals("Accept-Encoding", header(zipped, "Vary"), path);
      assertEquals(header(plain, "Content-Type"), header(zipped, "Content-Type"), path);
      assertTrue(zipped.body().length < plain.body().length / 2, path + ": " + zipped.body().length + " of " + plain.body().length);
      assertArrayEquals(plain.body(), gunzip(zipped.body()), path + ": the same bytes once gunzipped");
      // a client that refuses gzip (q=0) gets the file as it is
      HttpResponse<byte[]> refused = get(path, "Accept-Encoding", "gzip;q=0, identity");
      assertEquals(null, header(refused, "Content-Encoding"), path);
      assertArrayEquals(plain.body(), refused.body(), path);
    }
    assertEquals("no-cache", header(get("/js/main.js"), "Cache-Control"), "page files are revalidated each load");
    assertTrue(header(get("/vendor/uplot/uPlot.esm.js"), "Cache-Control").contains("max-age=86400"));
  }

  @Test
  @DisplayName("a second load revalidates with the ETag: 304 without a body, for either encoding's tag")
  void revalidation() throws Exception {
    for (String path : new String[] {"/js/data.js", "/vendor/uplot/uPlot.esm.js"}) {
      HttpResponse<byte[]> plain = get(path);
      HttpResponse<byte[]> zipped = get(path, "Accept-Encoding", "gzip");
      String tag = header(plain, "ETag");
      String zipTag = header(zipped, "ETag");
      assertNotNull(tag, path);
      assertNotNull(zipTag, path);
      assertFalse(tag.equals(zipTag), path + ": the two encodings are two representations");
      for (String t : new String[] {tag, zipTag}) {
        HttpResponse<byte[]> again = get(path, "Accept-Encoding", "gzip", "If-None-Match", t);
        assertEquals(304, again.statusCode(), path + " " + t);
        assertEquals(0, again.body().length, path);
      }
      assertEquals(200, get(path, "If-None-Match", "\"something-else\"").statusCode(), path);
    }
  }

  @Test
  @DisplayName("what is not a file stays a 404: a missing name, a hidden one, a directory")
  void notFiles() throws Exception {
    for (String path : new String[] {"/no-such-file.js", "/.hidden", "/js/.x.js", "/js", "/vendor/uplot/nothing.js"}) {
      HttpResponse<byte[]> r = get(path, "Accept-Encoding", "gzip");
      assertEquals(404, r.statusCode(), path);
    }
  }

  @Test
  @DisplayName("large API answers are gzipped to a client that asks; an ingest's 202 is not")
  void apiAnswers() throws Exception {
    HttpResponse<byte[]> doc = get("/openapi.json", "Accept-Encoding", "gzip");
    assertEquals(200, doc.statusCode());
    assertEquals("gzip", header(doc, "Content-Encoding"));
    assertTrue(new JsonObject(new String(gunzip(doc.body()), StandardCharsets.UTF_8)).containsKey("paths"));
    HttpResponse<byte[]> plainDoc = get("/openapi.json");
    assertEquals(null, header(plainDoc, "Content-Encoding"));

    HttpResponse<String> ingest = HTTP.send(HttpRequest.newBuilder(URI.create(pulse.baseUrl() + "/api/v1/streams/cz/events"))
        .header("Content-Type", "application/x-ndjson").header("Accept-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofString("{\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":1}}\n")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, ingest.statusCode(), ingest.body());
    assertEquals(null, header(ingest, "Content-Encoding"), "a small answer is not compressed");
    assertTrue(new JsonObject(ingest.body()).containsKey("accepted"), ingest.body());
  }

  @Test
  @DisplayName("SSE is never compressed, even to a client that offers gzip: its first bytes and its events arrive as text")
  void sseStaysPlain() throws Exception {
    HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(pulse.baseUrl() + "/api/v1/live/sse?stream=cz-sse"))
        .header("Accept", "text/event-stream").header("Accept-Encoding", "gzip, deflate").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      assertEquals(200, r.statusCode());
      assertEquals(null, header(r, "Content-Encoding"));
      assertTrue(header(r, "Content-Type").startsWith("text/event-stream"));
      // read off the thread: a stream held back by a compressor would never give these bytes
      CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(in.readNBytes(11), StandardCharsets.US_ASCII);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      assertEquals("retry: 2000", first.get(10, TimeUnit.SECONDS));
    }
    // events, as a client offering gzip reads them (LiveClient parses the text: gzip would give no messages)
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=cz-sse2", null, Map.of("Accept-Encoding", "gzip"))) {
      assertEquals(200, sse.sseStatus());
      assertEquals(202, pulse.postNdjson("cz-sse2", "{\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":1}}\n"));
      assertNotNull(sse.await(m -> "rollup".equals(m.type()), 15_000), "a rollup arrives over the SSE stream");
    }
  }

  @Test
  @DisplayName("the WebSocket works, with and without a client offering permessage-deflate (declined)")
  void webSocket() throws Exception {
    for (boolean offer : new boolean[] {false, true}) {
      WebSocketClientOptions o = new WebSocketClientOptions().setTryUsePerMessageCompression(offer);
      try (LiveClient ws = LiveClient.websocket(pulse.port(), o, Map.of("Accept-Encoding", "gzip"))) {
        String stream = "cz-ws-" + offer;
        assertEquals("subscribed", ws.subscribe("s", stream).type());
        assertEquals(202, pulse.postNdjson(stream, "{\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":1}}\n"));
        assertNotNull(ws.await(m -> "rollup".equals(m.type()), 15_000), "a rollup arrives over the WebSocket (offer " + offer + ")");
      }
    }
  }
}

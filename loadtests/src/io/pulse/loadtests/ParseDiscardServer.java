package io.pulse.loadtests;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

import java.io.IOException;

/**
 * The W1 baseline: the least a JSON ingest endpoint on Vert.x can do. It reads the whole body (as
 * {@code BodyHandler} would), walks every token of the NDJSON with Jackson's streaming parser,
 * decodes each string and number and throws them away, then answers
 * {@code 202 {"accepted":N,"rejected":0,"errors":[]}}. No validation, no aggregation, no storage,
 * no push. Pulse's ingest throughput is quoted as a fraction of this.
 *
 * <p>Run: {@code java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.ParseDiscardServer <port> [instances]}.
 * Like Pulse, it runs one event loop per core and one HTTP verticle instance per event loop.
 */
public final class ParseDiscardServer extends VerticleBase {

  private static final JsonFactory JSON = new JsonFactory();
  private static final long MAX_BODY_BYTES = 16L * 1024 * 1024;

  private final int port;
  /** Consumes the decoded values so the JIT cannot drop the decoding. Per instance: no sharing. */
  private long sink;

  ParseDiscardServer(int port) {
    this.port = port;
  }

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: ParseDiscardServer <port> [instances]");
      System.exit(64);
    }
    int port = Integer.parseInt(args[0]);
    // like Pulse (verticles/io/pulse/verticles/Pulse.java): one event loop per core, one HTTP instance per loop
    int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
    int instances = args.length > 1 ? Integer.parseInt(args[1]) : loops;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    vertx.deployVerticle(() -> new ParseDiscardServer(port), new DeploymentOptions().setInstances(instances))
        .onSuccess(id -> System.out.println("ParseDiscardServer listening on 127.0.0.1:" + port
            + " with " + instances + " instances"))
        .onFailure(err -> {
          System.err.println("ParseDiscardServer failed to start: " + err);
          System.exit(1);
        });
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
        .requestHandler(this::handle)
        .listen();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (req.method() == HttpMethod.POST
        && (path.equals("/api/v1/events") || path.startsWith("/api/v1/streams/"))) {
      String len = req.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (len != null && Long.parseLong(len) > MAX_BODY_BYTES) {
        json(req, 413, "{\"error\":\"body too large\"}");
        return;
      }
      req.body()
          .onSuccess(body -> ingest(req, body))
          .onFailure(err -> json(req, 400, "{\"error\":\"cannot read body\"}"));
    } else if (req.method() == HttpMethod.GET && path.startsWith("/health/")) {
      json(req, 200, "{\"status\":\"UP\"}");
    } else {
      json(req, 404, "{\"error\":\"not found\"}");
    }
  }

  private void ingest(HttpServerRequest req, Buffer body) {
    long events;
    try {
      events = walk(body.getBytes());
    } catch (IOException | RuntimeException e) {
      json(req, 400, "{\"error\":\"unreadable body\"}");
      return;
    }
    json(req, 202, "{\"accepted\":" + events + ",\"rejected\":0,\"errors\":[]}");
  }

  /** Walks every token; counts top-level objects (one JSON object, an array of them, or NDJSON). */
  long walk(byte[] bytes) throws IOException {
    long objects = 0;
    long s = 0;
    try (JsonParser p = JSON.createParser(bytes)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        switch (t) {
          case END_OBJECT -> {
            // after END_OBJECT the parsing context is the one that held the object
            JsonStreamContext c = p.getParsingContext();
            if (c.inRoot() || (c.inArray() && c.getParent() != null && c.getParent().inRoot())) {
              objects++;
            }
          }
          case FIELD_NAME -> s += p.currentName().length();
          case VALUE_STRING -> s += p.getText().length();
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> s += (long) p.getDoubleValue();
          default -> s++;
        }
      }
    }
    sink += s;
    return objects;
  }

  private static void json(HttpServerRequest req, int status, String body) {
    req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
  }
}

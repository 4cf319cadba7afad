package io.pulse.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Fetches the signing keys of a partner's identity provider from its JWKS URLs (RFC 7517
 * {@code {"keys": [...]}}) with the Vert.x HTTP client. Only signature keys of RS256 and ES256
 * are kept (a key without {@code alg} gets it from its type); keys of other use or type are
 * skipped.
 */
public final class Jwks {

  private static final int MAX_BYTES = 1 << 20;

  private final HttpClient client;
  private final List<String> urls;

  public Jwks(Vertx vertx, List<String> urls) {
    this.urls = List.copyOf(urls);
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000));
  }

  /** Every URL's keys; fails when any URL fails (the keys held before are then kept). */
  public Future<List<JsonObject>> fetch() {
    List<Future<List<JsonObject>>> each = new ArrayList<>();
    for (String u : urls) {
      each.add(fetch(u));
    }
    return Future.all(each).map(all -> {
      List<JsonObject> keys = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        keys.addAll(all.<List<JsonObject>>resultAt(i));
      }
      return keys;
    });
  }

  private Future<List<JsonObject>> fetch(String url) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url).setTimeout(10_000)
        .putHeader("Accept", "application/json");
    return client.request(o).compose(req -> req.send()).compose(res -> {
      if (res.statusCode() != 200) {
        return Future.failedFuture(url + " answered " + res.statusCode());
      }
      return res.body();
    }).map(body -> {
      if (body.length() > MAX_BYTES) {
        throw new IllegalStateException(url + " answered more than 1 MiB");
      }
      return keys(new JsonObject(body));
    });
  }

  /** The usable keys of a JWKS document. */
  static List<JsonObject> keys(JsonObject doc) {
    List<JsonObject> out = new ArrayList<>();
    JsonArray keys = doc.getJsonArray("keys");
    if (keys == null) {
      throw new IllegalArgumentException("not a JWKS document (no \"keys\")");
    }
    for (Object k : keys) {
      if (!(k instanceof JsonObject key)) {
        continue;
      }
      String use = key.getString("use");
      if (use != null && !"sig".equals(use)) {
        continue;
      }
      String kty = key.getString("kty");
      String alg = key.getString("alg");
      JsonObject pub = key.copy();
      for (String secret : new String[] {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}) {
        pub.remove(secret); // a public key set: never a private part, whatever the document holds
      }
      if ("RSA".equals(kty) && (alg == null || "RS256".equals(alg))) {
        out.add(pub.put("alg", "RS256"));
      } else if ("EC".equals(kty) && "P-256".equals(key.getString("crv")) && (alg == null || "ES256".equals(alg))) {
        out.add(pub.put("alg", "ES256"));
      }
    }
    return out;
  }

  public Future<Void> close() {
    return client.close();
  }
}

package io.pulse.verticles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.core.Scope;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Deny by default, checked on every route of {@link Routes#TABLE} against a real server with
 * authentication on: without a token every non-public route answers 401; with a valid token that
 * has every scope but the route's (and not admin) it answers 403 naming the scope. A route added
 * to the table is covered without touching this test.
 */
class AuthRoutesTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.startWithAuth(null);
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  /** The route's path with sample values for its parameters. */
  private static String sample(Routes.Route r) {
    return r.path().replace(":stream", "s1").replaceAll(":[A-Za-z]+", "x1");
  }

  private static HttpResponse<String> call(Routes.Route r, String token) {
    String method = r.method().name();
    String body = method.equals("POST") || method.equals("PUT") ? "{}" : null;
    return token == null ? pulse.request(method, sample(r), body)
        : pulse.request(method, sample(r), body, TestPulse.bearer(token));
  }

  @Test
  @DisplayName("every non-public route: 401 without a token, 403 with a token lacking its scope")
  void everyRoute() {
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Routes.Route r : Routes.TABLE) {
      if (r.scope() == Scope.PUBLIC || r.method() == null) {
        continue;
      }
      checked++;
      HttpResponse<String> none = call(r, null);
      if (none.statusCode() != 401 || none.headers().firstValue("WWW-Authenticate").isEmpty()) {
        problems.add(r.describe() + " without a token: " + none.statusCode() + " " + none.body());
      }
      if (r.scope() == Scope.AUTHENTICATED) {
        continue; // any valid token may call it
      }
      List<String> others = new ArrayList<>();
      for (Scope s : List.of(Scope.INGEST, Scope.READ, Scope.ALERTS)) {
        if (s != r.scope()) {
          others.add(s.name().toLowerCase(Locale.ROOT));
        }
      }
      HttpResponse<String> lacking = call(r, pulse.token("acme", others.toArray(new String[0])));
      String needed = r.scope().name().toLowerCase(Locale.ROOT);
      if (lacking.statusCode() != 403 || !needed.equals(new JsonObject(lacking.body()).getString("scope"))) {
        problems.add(r.describe() + " with " + others + ": " + lacking.statusCode() + " " + lacking.body());
      }
    }
    assertEquals(List.of(), problems);
    assertEquals(true, checked > 40, "routes checked: " + checked);
  }
}

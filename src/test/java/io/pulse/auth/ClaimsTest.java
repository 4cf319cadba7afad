package io.pulse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Caller;
import io.pulse.core.Scope;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A verified token's claims as a caller: no server, milliseconds. */
class ClaimsTest {

  private static JsonObject base() {
    return new JsonObject().put("sub", "alice").put("tenant", "acme").put("jti", "t1").put("exp", 2_000_000_000L);
  }

  @Test
  @DisplayName("the scope claim as a space-separated string, an array, or a scopes array; patterns narrow a scope")
  void scopeForms() {
    Caller a = Claims.read(base().put("scope", "read:chk* ingest"), "tenant", true).caller();
    Caller b = Claims.read(base().put("scope", new JsonArray().add("read:chk*").add("ingest")), "tenant", true).caller();
    Caller c = Claims.read(base().put("scopes", new JsonArray().add("read:chk*").add("ingest")), "tenant", true)
        .caller();
    assertEquals(a.grants(), b.grants());
    assertEquals(a.grants(), c.grants());
    assertTrue(a.grants().allows(Scope.READ, "chk-1"));
    assertFalse(a.grants().allows(Scope.READ, "pay"));
    assertTrue(a.grants().allowsAll(Scope.INGEST));
    assertFalse(a.grants().allows(Scope.ALERTS));
    assertEquals("acme", a.tenant());
    assertEquals("t1", a.tokenId());
    assertEquals(2_000_000_000_000L, a.expiresAtMs());
    assertEquals("alice (token t1)", a.actor());
  }

  @Test
  @DisplayName("unknown scopes and unusable patterns are ignored and reported; read:* is read")
  void ignored() {
    Identity id = Claims.read(base().put("scope", "openid profile read:* alerts: write"), "tenant", true);
    assertEquals(List.of("openid", "profile", "alerts:", "write"), id.ignoredScopes());
    assertTrue(id.caller().grants().allowsAll(Scope.READ));
    assertFalse(id.caller().grants().allows(Scope.ALERTS));
  }

  @Test
  @DisplayName("a display token reads only, whatever its scopes; without a scope claim it reads its tenant")
  void display() {
    Caller d = Claims.read(base().put("scope", "admin ingest").put("display", new JsonObject().put("playlist", "p1")),
        "tenant", true).caller();
    assertEquals("playlist", d.display().kind());
    assertTrue(d.grants().allowsAll(Scope.READ));
    assertFalse(d.grants().allows(Scope.INGEST));
    assertFalse(d.grants().allows(Scope.ADMIN));
    Caller bare = Claims.read(base().put("display", new JsonObject().put("dashboard", "d1")), "tenant", true).caller();
    assertTrue(bare.grants().allowsAll(Scope.READ));
    assertThrows(AuthFailure.class, () -> Claims.read(base().put("display", new JsonObject().put("tv", "x")),
        "tenant", true));
  }

  @Test
  @DisplayName("a custom tenant claim; no tenant, a bad tenant, no subject, no jti (when required) are refused")
  void refusals() {
    assertEquals("globex", Claims.read(base().put("org", "globex"), "org", true).caller().tenant());
    assertThrows(AuthFailure.class, () -> Claims.read(base(), "org", true));
    assertThrows(AuthFailure.class, () -> Claims.read(base().put("tenant", "Not Valid"), "tenant", true));
    assertThrows(AuthFailure.class, () -> Claims.read(base().put("sub", ""), "tenant", true));
    JsonObject noJti = base();
    noJti.remove("jti");
    assertThrows(AuthFailure.class, () -> Claims.read(noJti, "tenant", true));
    assertEquals(null, Claims.read(noJti, "tenant", false).caller().tokenId(), "accepted when not required");
    assertThrows(AuthFailure.class, () -> Claims.read(base().put("scope", 5), "tenant", true));
  }
}

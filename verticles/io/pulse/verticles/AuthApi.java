package io.pulse.verticles;

import io.pulse.auth.Identity;
import io.pulse.core.Caller;
import io.pulse.core.Grants;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /api/v1/whoami} (API.md "Tokens"): what the request's token may do and see. */
final class AuthApi {

  private AuthApi() {
  }

  /**
   * {@code {"tenant", "subject", "tokenId", "scopes": ["read:checkout*", ...], "ignoredScopes": [...],
   * "display": {"kind", "id"} or null, "expiresAt": epoch ms or null, "auth": "jwt" | "off"}}.
   */
  static void whoami(RoutingContext rc) {
    Identity id = Callers.identity(rc);
    Caller c = id.caller();
    JsonArray scopes = new JsonArray();
    for (Grants.Grant g : c.grants().list()) {
      scopes.add(g.toString());
    }
    JsonObject out = new JsonObject().put("tenant", c.tenant()).put("subject", c.subject())
        .put("tokenId", c.tokenId()).put("scopes", scopes).put("ignoredScopes", new JsonArray(id.ignoredScopes()))
        .put("display", c.display() == null ? null
            : new JsonObject().put("kind", c.display().kind()).put("id", c.display().id()))
        .put("expiresAt", c.expiresAtMs() == Long.MAX_VALUE ? null : c.expiresAtMs())
        .put("auth", id.mode());
    Replies.json(rc, 200, out);
  }
}

package io.pulse.auth;

import io.pulse.core.Caller;
import io.pulse.core.DisplayBinding;
import io.pulse.core.Grants;
import io.pulse.core.Scope;
import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A verified token's claims as a {@link Caller}: the subject ({@code sub}), the tenant (the
 * configured claim, "tenant" by default), the grants (the {@code scope} claim, a space-separated
 * string or an array, or a {@code scopes} array: "ingest", "read", "alerts", "admin", each
 * optionally narrowed to a stream pattern as {@code read:checkout*}), the id ({@code jti}), the
 * expiry ({@code exp}) and a display binding ({@code "display": {"dashboard": id}} or
 * {@code {"playlist": id}}; a display caller may only read, whatever else its scopes say).
 * Plain Java: the signature and times are checked before, by {@link JwtAuthenticator}.
 */
public final class Claims {

  /** What a stream pattern may hold: stream-name characters and '*'. */
  private static final Pattern PATTERN = Pattern.compile("[a-z0-9_.*-]{1,64}");

  private Claims() {
  }

  /**
   * @param payload the token's verified claims
   * @param tenantClaim the claim naming the tenant
   * @param requireJti whether a token without an id is refused
   * @throws AuthFailure when a claim Pulse needs is missing or not valid
   */
  public static Identity read(JsonObject payload, String tenantClaim, boolean requireJti) {
    Object sub = payload.getValue("sub");
    if (!(sub instanceof String s) || s.isBlank()) {
      throw new AuthFailure("the token has no subject (sub claim)");
    }
    Object t = payload.getValue(tenantClaim);
    if (t == null) {
      throw new AuthFailure("the token has no \"" + tenantClaim + "\" claim: it names no tenant");
    }
    if (!(t instanceof String tenant) || !StreamId.validTenant(tenant)) {
      throw new AuthFailure("the token's \"" + tenantClaim + "\" claim is not a valid tenant id ("
          + StreamId.NAME_RULE + ")");
    }
    Object jti = payload.getValue("jti");
    if (jti != null && !(jti instanceof String)) {
      throw new AuthFailure("the token's id (jti claim) is not a string");
    }
    if (jti == null && requireJti) {
      throw new AuthFailure("the token has no id (jti claim), so it could not be revoked: Pulse refuses such tokens "
          + "(auth.requireJti)");
    }
    List<String> scopes = scopeList(payload);
    List<Grants.Grant> grants = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    for (String one : scopes) {
      Grants.Grant g = grant(one);
      if (g == null) {
        ignored.add(one);
      } else {
        grants.add(g);
      }
    }
    DisplayBinding display = display(payload.getValue("display"));
    if (display != null) {
      List<Grants.Grant> read = new ArrayList<>();
      for (Grants.Grant g : grants) {
        if (g.scope() == Scope.READ || g.scope() == Scope.ADMIN) {
          read.add(new Grants.Grant(Scope.READ, g.pattern()));
        }
      }
      if (read.isEmpty() && !payload.containsKey("scope") && !payload.containsKey("scopes")) {
        read.add(new Grants.Grant(Scope.READ, null)); // a display token needs no scope claim: it reads
      }
      grants = read;
    }
    long exp = Long.MAX_VALUE;
    Object e = payload.getValue("exp");
    if (e instanceof Number n) {
      exp = n.longValue() >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : n.longValue() * 1000;
    }
    return new Identity(new Caller(tenant, s, (String) jti, new Grants(grants), display, exp), ignored, "jwt");
  }

  /** The scope claim's entries, however the issuer wrote them. */
  static List<String> scopeList(JsonObject payload) {
    List<String> out = new ArrayList<>();
    for (String claim : new String[] {"scope", "scopes"}) {
      Object v = payload.getValue(claim);
      if (v instanceof String text) {
        for (String one : text.trim().split("\\s+")) {
          if (!one.isEmpty()) {
            out.add(one);
          }
        }
      } else if (v instanceof JsonArray a) {
        for (Object one : a) {
          if (one instanceof String str && !str.isBlank()) {
            out.add(str.trim());
          } else {
            out.add(String.valueOf(one));
          }
        }
      } else if (v != null) {
        throw new AuthFailure("the token's " + claim + " claim is neither a string nor an array");
      }
    }
    return out;
  }

  /** "read" or "read:checkout*" as a grant; null for what Pulse does not know (ignored, reported by whoami). */
  static Grants.Grant grant(String text) {
    int colon = text.indexOf(':');
    String name = colon < 0 ? text : text.substring(0, colon);
    String pattern = colon < 0 ? null : text.substring(colon + 1);
    Scope scope;
    switch (name.toLowerCase(Locale.ROOT)) {
      case "ingest": scope = Scope.INGEST; break;
      case "read": scope = Scope.READ; break;
      case "alerts": scope = Scope.ALERTS; break;
      case "admin": scope = Scope.ADMIN; break;
      default: return null;
    }
    if (pattern != null && (!PATTERN.matcher(pattern).matches())) {
      return null; // "read:" or a pattern no stream could match as written: not a grant
    }
    return new Grants.Grant(scope, "*".equals(pattern) ? null : pattern);
  }

  private static DisplayBinding display(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof JsonObject o && o.size() == 1) {
      for (String kind : new String[] {"dashboard", "playlist"}) {
        if (o.getValue(kind) instanceof String id && !id.isBlank()) {
          return new DisplayBinding(kind, id);
        }
      }
    }
    throw new AuthFailure("the token's display claim must be {\"dashboard\": id} or {\"playlist\": id}");
  }
}

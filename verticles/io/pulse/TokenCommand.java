package io.pulse;

import io.pulse.auth.AuthKeys;
import io.pulse.auth.JwtSigner;
import io.pulse.config.ConfigException;
import io.pulse.config.Durations;
import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.pulse.core.StreamId;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code java -jar pulse.jar token --tenant T --scopes ingest,read --ttl 1h [--subject S]
 * [--display dashboard:ID]}: prints a token signed with the server's key, read from the same
 * configuration and data folder as the server (its generated pair under {@code <dataDir>/auth},
 * made here on first use, or the configured private key). Refuses when the configuration holds
 * only a public key or JWKS URL: such tokens come from the identity provider.
 */
final class TokenCommand {

  private TokenCommand() {
  }

  static int run(String[] args, Map<String, String> env, Map<Object, Object> props, PrintStream out, PrintStream err) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || i + 1 >= args.length) {
        err.println("pulse token: unexpected \"" + a + "\"; " + usage());
        return 2;
      }
      opts.put(a.substring(2), args[++i]);
    }
    for (String k : opts.keySet()) {
      if (!java.util.List.of("tenant", "scopes", "ttl", "subject", "display").contains(k)) {
        err.println("pulse token: unknown option --" + k + "; " + usage());
        return 2;
      }
    }
    String tenant = opts.get("tenant");
    if (tenant == null || !StreamId.validTenant(tenant)) {
      err.println("pulse token: --tenant is required and must be " + StreamId.NAME_RULE + "; " + usage());
      return 2;
    }
    String scopes = opts.getOrDefault("scopes", "read");
    long ttl = Durations.parse(opts.getOrDefault("ttl", "1h"));
    if (ttl < 1000) {
      err.println("pulse token: --ttl must be a duration of at least 1s such as 1h, 30d; " + usage());
      return 2;
    }
    PulseConfig config;
    AuthKeys keys;
    try {
      config = PulseConfig.load(env, props);
      keys = AuthKeys.load(config.auth(), Path.of(config.dataDir()));
    } catch (ConfigException e) {
      err.println("pulse token: " + e.getMessage());
      return 2;
    }
    if (keys.sign() == null) {
      err.println("pulse token: this configuration has only public keys (" + keys.description() + "): Pulse cannot "
          + "sign tokens with it. Get tokens from the identity provider, or configure a private key "
          + "(PULSE_AUTH_PRIVATE_KEY_FILE with PULSE_AUTH_PUBLIC_KEY_FILE).");
      return 2;
    }
    JsonObject claims = new JsonObject().put("sub", opts.getOrDefault("subject", "pulse-cli"))
        .put(config.auth().tenantClaim(), tenant).put("scope", scopes.replace(',', ' ').trim());
    String display = opts.get("display");
    if (display != null) {
      int colon = display.indexOf(':');
      String kind = colon < 0 ? "" : display.substring(0, colon);
      if (!kind.equals("dashboard") && !kind.equals("playlist") || colon == display.length() - 1) {
        err.println("pulse token: --display must be dashboard:<id> or playlist:<id>");
        return 2;
      }
      claims.put("display", new JsonObject().put(kind, display.substring(colon + 1)));
    }
    Vertx vertx = Vertx.vertx();
    try {
      out.println(JwtSigner.of(vertx, keys, config.auth().signedIssuer(), Clock.SYSTEM).sign(claims, ttl));
    } finally {
      vertx.close();
    }
    if (!config.auth().enabled()) {
      err.println("pulse token: note: authentication is off in this configuration (PULSE_AUTH), so the server "
          + "accepts every request without a token");
    }
    return 0;
  }

  private static String usage() {
    return "usage: pulse token --tenant T [--scopes ingest,read,alerts,admin|read:checkout*] [--ttl 1h] "
        + "[--subject S] [--display dashboard:ID]";
  }
}

package io.pulse.notify;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A receiver of one tenant's alert notifications: where to POST them, the secret they are signed
 * with ({@link Signature}), which alerts it wants, and whether it is on.
 *
 * <p>The document the API takes and shows:
 * <pre>{"name": "on-call", "url": "https://hooks.example.com/pulse", "enabled": true,
 *  "match": {"severity": ["critical"], "stream": ["payments"], "labels": {"team": "payments"}}}</pre>
 * Every {@code match} part is optional; an empty or absent part matches everything, a list matches
 * any of its values, labels must all be equal. The secret is never part of the document.
 *
 * @param match the alert's severity in {@code severities}, its stream in {@code streams} (each when not empty)
 *     and every label of {@code labels} equal in the alert's labels
 */
public record Webhook(String tenant, String id, String name, URI url, String secret, boolean enabled,
    Set<String> severities, Set<String> streams, Map<String, String> labels) {

  public static final String ID_PATTERN = "[A-Za-z0-9_.-]{1,64}";
  private static final Pattern ID = Pattern.compile(ID_PATTERN);
  public static final int MAX_URL_LENGTH = 2048;
  public static final int MAX_NAME_LENGTH = 200;
  public static final int MIN_SECRET_LENGTH = 16;
  public static final int MAX_SECRET_LENGTH = 256;
  private static final int MAX_MATCH_VALUES = 100;
  private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

  /** A document or secret the API refuses: a 400 with this message. */
  public static final class Invalid extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public Invalid(String message) {
      super(message);
    }
  }

  public Webhook {
    severities = Set.copyOf(severities);
    streams = Set.copyOf(streams);
    labels = Map.copyOf(labels);
  }

  public static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /**
   * A webhook from its API document (fields the server owns, {@code id}, {@code createdAt},
   * {@code updatedAt}, are ignored); throws {@link Invalid} naming the first problem.
   */
  public static Webhook parse(String tenant, String id, JsonObject doc, String secret) {
    if (doc == null) {
      throw new Invalid("the body must be a JSON object");
    }
    Object name = doc.getValue("name");
    if (!(name instanceof String n) || n.isBlank() || n.length() > MAX_NAME_LENGTH) {
      throw new Invalid("name: required, a string of 1 to " + MAX_NAME_LENGTH + " characters");
    }
    URI url = url(doc.getValue("url"));
    Object enabled = doc.getValue("enabled", true);
    if (!(enabled instanceof Boolean)) {
      throw new Invalid("enabled: must be true or false");
    }
    checkSecret(secret);
    Object m = doc.getValue("match");
    JsonObject match = new JsonObject();
    if (m instanceof JsonObject o) {
      match = o;
    } else if (m != null) {
      throw new Invalid("match: must be an object with severity, stream and labels, each optional");
    }
    for (String key : match.fieldNames()) {
      if (!Set.of("severity", "stream", "labels").contains(key)) {
        throw new Invalid("match." + key + ": not a matcher (severity, stream, labels)");
      }
    }
    Set<String> severities = strings(match.getValue("severity"), "match.severity");
    for (String s : severities) {
      if (!SEVERITIES.contains(s)) {
        throw new Invalid("match.severity: " + s + " is not a severity (critical, warning, info)");
      }
    }
    Set<String> streams = strings(match.getValue("stream"), "match.stream");
    Map<String, String> labels = new LinkedHashMap<>();
    Object l = match.getValue("labels");
    if (l instanceof JsonObject lo) {
      if (lo.size() > MAX_MATCH_VALUES) {
        throw new Invalid("match.labels: at most " + MAX_MATCH_VALUES + " labels");
      }
      for (Map.Entry<String, Object> e : lo) {
        if (!(e.getValue() instanceof String v)) {
          throw new Invalid("match.labels." + e.getKey() + ": must be a string");
        }
        labels.put(e.getKey(), v);
      }
    } else if (l != null) {
      throw new Invalid("match.labels: must be an object of label name -> value");
    }
    return new Webhook(tenant, id, (String) name, url, secret, (Boolean) enabled, severities, streams, labels);
  }

  /** Throws {@link Invalid} unless the secret is fit to sign with. */
  public static void checkSecret(String secret) {
    if (secret == null || secret.length() < MIN_SECRET_LENGTH || secret.length() > MAX_SECRET_LENGTH
        || !secret.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new Invalid("secret: " + MIN_SECRET_LENGTH + " to " + MAX_SECRET_LENGTH
          + " printable ASCII characters without spaces");
    }
  }

  /** An absolute http or https URL with a host, no fragment; throws {@link Invalid} otherwise. */
  static URI url(Object value) {
    if (!(value instanceof String s) || s.isBlank()) {
      throw new Invalid("url: required, an http:// or https:// URL");
    }
    if (s.length() > MAX_URL_LENGTH) {
      throw new Invalid("url: at most " + MAX_URL_LENGTH + " characters");
    }
    URI u;
    try {
      u = new URI(s);
    } catch (URISyntaxException e) {
      throw new Invalid("url: not a URL (" + e.getReason() + ")");
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase();
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new Invalid("url: must be http:// or https://, got " + (scheme.isEmpty() ? "no scheme" : scheme + ":"));
    }
    if (u.getHost() == null || u.getHost().isEmpty()) {
      throw new Invalid("url: must name a host");
    }
    if (u.getRawUserInfo() != null) {
      throw new Invalid("url: must not carry a user or password (the signature authenticates Pulse)");
    }
    if (u.getRawFragment() != null) {
      throw new Invalid("url: must not have a #fragment");
    }
    if (u.getPort() > 65535) {
      throw new Invalid("url: port out of range");
    }
    return u;
  }

  private static Set<String> strings(Object v, String at) {
    if (v == null) {
      return Set.of();
    }
    List<String> out = new ArrayList<>();
    if (v instanceof String s) {
      out.add(s);
    } else if (v instanceof JsonArray a) {
      if (a.size() > MAX_MATCH_VALUES) {
        throw new Invalid(at + ": at most " + MAX_MATCH_VALUES + " values");
      }
      for (Object o : a) {
        if (!(o instanceof String s)) {
          throw new Invalid(at + ": must be a string or an array of strings");
        }
        out.add(s);
      }
    } else {
      throw new Invalid(at + ": must be a string or an array of strings");
    }
    return Set.copyOf(out);
  }

  /** Whether an alert transition (the bus message) is one this webhook wants. */
  public boolean matches(JsonObject alert) {
    if (!severities.isEmpty() && !severities.contains(alert.getString("severity", ""))) {
      return false;
    }
    if (!streams.isEmpty() && !streams.contains(alert.getString("stream", ""))) {
      return false;
    }
    if (!labels.isEmpty()) {
      Object l = alert.getValue("labels");
      if (!(l instanceof JsonObject have)) {
        return false;
      }
      for (Map.Entry<String, String> e : labels.entrySet()) {
        if (!e.getValue().equals(have.getValue(e.getKey()))) {
          return false;
        }
      }
    }
    return true;
  }

  /** The API document: never the secret. */
  public JsonObject toJson() {
    JsonObject match = new JsonObject();
    if (!severities.isEmpty()) {
      match.put("severity", new JsonArray(severities.stream().sorted().toList()));
    }
    if (!streams.isEmpty()) {
      match.put("stream", new JsonArray(streams.stream().sorted().toList()));
    }
    if (!labels.isEmpty()) {
      match.put("labels", new JsonObject(new java.util.TreeMap<String, Object>(labels)));
    }
    return new JsonObject().put("id", id).put("name", name).put("url", url.toString()).put("enabled", enabled)
        .put("match", match);
  }

  @Override
  public String toString() {
    return "Webhook[" + tenant + "/" + id + " " + url + "]"; // never the secret
  }
}

package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.auth.AuthKeys;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code pulse token} as a child process against a running child-process server with the same
 * data folder: the token is signed with the key the server generated on first run, and is still
 * accepted after the server restarts (the key is kept, mode 600, under {@code <dataDir>/auth}).
 */
class TokenCommandTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** {@code pulse token args...} with the data folder {@code data}: exit code, stdout, stderr. */
  private static String[] token(Path data, java.util.Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"), "io.pulse.Main", "token"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PULSE_DATA_DIR", data.toString());
    pb.environment().putAll(env);
    Path out = Files.createTempFile(data, "token", ".out");
    Path err = Files.createTempFile(data, "token", ".err");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the token command ended");
    return new String[] {Integer.toString(p.exitValue()), Files.readString(out).trim(), Files.readString(err)};
  }

  private static HttpResponse<String> whoami(int port, String token) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/whoami"))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private static Process server(Path data) throws Exception {
    ProcessBuilder pb = TestPulse.childProcess(data, 0);
    pb.environment().remove("PULSE_AUTH"); // on, the default
    pb.environment().put("PULSE_STORAGE", "false");
    return pb.start();
  }

  @Test
  @DisplayName("the token command signs with the running server's generated key; the key survives a restart")
  void againstRunningServer() throws Exception {
    Path data = Files.createTempDirectory("pulse-token");
    Process p = server(data);
    String token;
    try {
      int port = TestPulse.awaitStarted(p, data, Duration.ofSeconds(60));
      String log = Files.readString(data.resolve("pulse.log"));
      assertTrue(log.contains("authentication:    on"), log);
      assertEquals(401, whoami(port, "nothing").statusCode());
      String[] r = token(data, java.util.Map.of(), "--tenant", "acme", "--scopes", "ingest,read:chk*", "--ttl", "1h",
          "--subject", "ops");
      assertEquals("0", r[0], r[2]);
      token = r[1];
      HttpResponse<String> me = whoami(port, token);
      assertEquals(200, me.statusCode(), me.body());
      JsonObject j = new JsonObject(me.body());
      assertEquals("acme", j.getString("tenant"));
      assertEquals("ops", j.getString("subject"));
      assertEquals(List.of("ingest", "read:chk*"), j.getJsonArray("scopes").getList());
      long exp = j.getLong("expiresAt");
      assertTrue(exp > System.currentTimeMillis() + 3_500_000L && exp < System.currentTimeMillis() + 3_700_000L,
          "--ttl 1h: " + exp);
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    for (Path f : AuthKeys.generatedFiles(data)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
    }
    Process again = server(data);
    try {
      int port = TestPulse.awaitStarted(again, data, Duration.ofSeconds(60));
      assertEquals(200, whoami(port, token).statusCode(), "the generated key was kept across the restart");
    } finally {
      again.destroy();
      again.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("with only a public key configured the token command refuses clearly; bad options too")
  void refuses() throws Exception {
    Path data = Files.createTempDirectory("pulse-token");
    Path pub = Files.writeString(data.resolve("pub.pem"), AuthKeys.pem("PUBLIC KEY",
        io.pulse.auth.Minter.es256().getPublic().getEncoded()));
    String[] r = token(data, java.util.Map.of("PULSE_AUTH_PUBLIC_KEY_FILE", pub.toString()), "--tenant", "acme");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("cannot sign tokens"), r[2]);
    assertEquals("", r[1]);
    String[] bad = token(data, java.util.Map.of(), "--tenant", "Not Valid");
    assertEquals("2", bad[0]);
    assertTrue(bad[2].contains("--tenant"), bad[2]);
  }
}

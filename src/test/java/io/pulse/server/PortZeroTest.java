package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code http.port} 0, as every in-process test server runs: the OS picks the port as Pulse binds,
 * Pulse reports it, and every HTTP instance serves on that one port (Vert.x shares a listening
 * socket between instances only for a fixed or negative port; 0 alone would give each its own).
 */
class PortZeroTest {

  @Test
  @DisplayName("port 0 with four HTTP instances: one bound port, reported by Pulse.port(), serving every connection")
  void oneChosenPortForAllInstances() throws IOException {
    Set<Integer> before = listeningPorts();
    try (TestPulse pulse = TestPulse.start(new JsonObject().put("http", new JsonObject().put("instances", 4)))) {
      assertEquals(0, pulse.pulse().config().http().port(), "configured 0");
      assertTrue(pulse.port() > 0, "bound to a real port: " + pulse.port());
      Set<Integer> opened = listeningPorts();
      opened.removeAll(before);
      assertEquals(Set.of(pulse.port()), opened, "this JVM listens on one new port, the reported one, for all four "
          + "instances (not one port each)");
      // connections are handed to the instances in turn: each of these reaches one, and all must answer
      List<LiveClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 8; i++) {
          LiveClient c = LiveClient.websocket(pulse.port());
          clients.add(c);
          c.send(new JsonObject().put("op", "subscribe").put("id", "s" + i).put("stream", "pz"));
        }
        assertEquals(202, pulse.postNdjson("pz", "{\"values\":{\"v\":1}}"));
        for (LiveClient c : clients) {
          c.await(m -> "rollup".equals(m.type()), 10_000);
        }
      } finally {
        clients.forEach(LiveClient::close);
      }
    }
  }

  /** The TCP ports this JVM listens on: its sockets (/proc/self/fd) in the LISTEN state of /proc/net/tcp{,6}. */
  static Set<Integer> listeningPorts() throws IOException {
    Set<String> inodes = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
      Path t = Path.of(table);
      if (!Files.exists(t)) {
        continue;
      }
      for (String line : Files.readAllLines(t)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && "0A".equals(f[3]) && inodes.contains(f[9])) {
          ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }
}

package io.pulse.detect.nab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.detect.DetectorSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NAB command on three NAB files (src/test/resources/nab, NAB corpus v1.1, MIT licence: see
 * LICENSE-NAB.txt there).
 */
class NabRunnerTest {

  private static final String JUMPSUP = "artificialWithAnomaly/art_daily_jumpsup.csv";
  private static final String NOISY = "artificialNoAnomaly/art_noisy.csv";
  private static final String CPC = "realAdExchange/exchange-2_cpc_results.csv";
  /** The one window of art_daily_jumpsup in NAB's combined_windows.json. */
  private static final String WINDOW_START = "2014-04-10 16:15:00";
  private static final String WINDOW_END = "2014-04-12 01:45:00";

  private static void copy(String rel, Path dataDir) throws IOException {
    Path target = dataDir.resolve(rel);
    Files.createDirectories(target.getParent());
    try (InputStream in = NabRunnerTest.class.getResourceAsStream("/nab/" + rel)) {
      Files.copy(in, target);
    }
  }

  @Test
  @DisplayName("nab: one row per input row in input order, finite scores in [0, 1]; the jump is flagged inside its window and nowhere else")
  void runsFiles(@TempDir Path tmp) throws IOException {
    Path data = tmp.resolve("data");
    for (String rel : List.of(JUMPSUP, NOISY, CPC)) {
      copy(rel, data);
    }
    Path out = tmp.resolve("out");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    int code = NabRunner.main(new String[] {"--data", data.toString(), "--out", out.toString()},
        new PrintStream(stdout, true, StandardCharsets.UTF_8), System.err);
    assertEquals(0, code);
    String said = stdout.toString(StandardCharsets.UTF_8);
    assertTrue(said.contains("3 files") && said.contains((4032 + 4032 + 1624) + " rows"), said);

    double alert = DetectorSettings.DEFAULT_ALERT_LEVEL;
    for (String rel : List.of(JUMPSUP, NOISY, CPC)) {
      List<String> in = Files.readAllLines(data.resolve(rel));
      List<String> res = Files.readAllLines(out.resolve("pulse").resolve(rel));
      assertEquals("timestamp,value,anomaly_score", res.get(0));
      assertEquals(in.size(), res.size(), rel + ": one row per input row");
      for (int i = 1; i < in.size(); i++) {
        String[] a = in.get(i).split(",");
        String[] b = res.get(i).split(",");
        assertEquals(3, b.length, rel + " row " + i);
        assertEquals(a[0], b[0], rel + " row " + i + ": input order");
        assertEquals(a[1], b[1], rel + " row " + i);
        double s = Double.parseDouble(b[2]);
        assertTrue(Double.isFinite(s) && s >= 0 && s <= 1, rel + " row " + i + ": " + s);
      }
    }

    // art_daily_jumpsup: the rows at or above the alert level all lie in the labelled window
    List<String> res = Files.readAllLines(out.resolve("pulse").resolve(JUMPSUP));
    int inWindow = 0;
    boolean inside = false;
    boolean peakAlert = false;
    double highest = Double.NEGATIVE_INFINITY;
    for (int i = 1; i < res.size(); i++) {
      String[] b = res.get(i).split(",");
      if (b[0].equals(WINDOW_START)) {
        inside = true;
      }
      double value = Double.parseDouble(b[1]);
      if (Double.parseDouble(b[2]) >= alert) {
        assertTrue(inside, "row " + i + " (" + b[0] + ") alerts outside the window: " + res.get(i));
        inWindow++;
        peakAlert = inWindow == 2 && value > highest;
      }
      if (b[0].equals(WINDOW_END)) {
        inside = false;
      }
      highest = Math.max(highest, value);
    }
    // the rise alerts, and later its peak again as a new extreme (both inside the window)
    assertEquals(2, inWindow, "the jump alerts twice, inside its window");
    assertTrue(peakAlert, "the second alert is a value past every one before it");
    // art_noisy has no anomaly: nothing alerts
    for (String line : Files.readAllLines(out.resolve("pulse").resolve(NOISY)).subList(1, 4033)) {
      assertTrue(Double.parseDouble(line.split(",")[2]) < alert, line);
    }
  }

  @Test
  @DisplayName("nab: a missing argument or data folder is refused with a usage line and exit code 2")
  void usage(@TempDir Path tmp) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(2, NabRunner.main(new String[] {"--data", tmp.toString()}, System.out, ps));
    assertEquals(2, NabRunner.main(new String[] {"--data", tmp.resolve("nope").toString(), "--out", tmp.toString()},
        System.out, ps));
    assertEquals(2, NabRunner.main(new String[] {"--what"}, System.out, ps));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: pulse nab --data DIR --out DIR"));
  }

  @Test
  @DisplayName("nab timestamps: NAB's format as UTC, ISO-8601 with an offset, epoch seconds and milliseconds")
  void timestamps() {
    Path f = Path.of("x.csv");
    assertEquals(1396310400000L, NabRunner.parseMillis("2014-04-01 00:00:00", f, 2));
    assertEquals(1396310400000L, NabRunner.parseMillis("2014-04-01T02:00:00+02:00", f, 2));
    assertEquals(1396310400000L, NabRunner.parseMillis("1396310400", f, 2));
    assertEquals(1396310400000L, NabRunner.parseMillis("1396310400000", f, 2));
  }
}

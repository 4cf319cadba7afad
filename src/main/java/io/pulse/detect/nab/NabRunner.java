package io.pulse.detect.nab;

import io.pulse.detect.DetectorSettings;
import io.pulse.detect.SeriesDetector;
import io.pulse.detect.Verdict;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code pulse nab --data DIR --out DIR}: runs every {@code category/file.csv} under the data folder
 * (columns timestamp,value) through a fresh {@link SeriesDetector} with
 * {@link DetectorSettings#defaults()}, one causal pass per file, one observation per row, and writes
 * {@code OUT/pulse/category/file.csv} with {@code timestamp,value,anomaly_score}: one row per input
 * row, in input order, 0 while the detector warms up. The format is the one NAB's scorer reads.
 */
public final class NabRunner {

  /** What one run did. */
  public record Summary(int files, long rows, long nanos) {
  }

  private static final boolean DEBUG = Boolean.getBoolean("pulse.nab.debug");
  private final DetectorSettings settings;

  public NabRunner(DetectorSettings settings) {
    this.settings = settings;
  }

  /** The command line: {@code --data DIR --out DIR}. Returns the process exit code. */
  public static int main(String[] args, PrintStream out, PrintStream err) {
    Path data = null;
    Path dest = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--data") || a.equals("--out")) && i + 1 < args.length) {
        Path p = Path.of(args[++i]);
        if (a.equals("--data")) {
          data = p;
        } else {
          dest = p;
        }
      } else {
        err.println("pulse nab: unknown or incomplete argument \"" + a + "\"");
        err.println("usage: pulse nab --data DIR --out DIR");
        return 2;
      }
    }
    if (data == null || dest == null) {
      err.println("usage: pulse nab --data DIR --out DIR");
      return 2;
    }
    if (!Files.isDirectory(data)) {
      err.println("pulse nab: --data " + data + " is not a folder");
      return 2;
    }
    try {
      Summary s = new NabRunner(DetectorSettings.defaults()).run(data, dest.resolve("pulse"));
      out.printf("pulse nab: %d files, %d rows in %.2f s (%.2f µs per row); results in %s%n", s.files(),
          s.rows(), s.nanos() / 1e9, s.rows() == 0 ? 0.0 : s.nanos() / 1e3 / s.rows(), dest.resolve("pulse"));
      return s.files() == 0 ? 1 : 0;
    } catch (IOException | IllegalArgumentException e) {
      err.println("pulse nab: " + e.getMessage());
      return 1;
    }
  }

  /** Runs every {@code *.csv} below {@code data} and writes the results below {@code out}. */
  public Summary run(Path data, Path out) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(data)) {
      walk.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".csv"))
          .sorted().forEach(files::add);
    }
    long rows = 0;
    long nanos = 0;
    for (Path f : files) {
      Path target = out.resolve(data.relativize(f).toString());
      long t0 = System.nanoTime();
      rows += runFile(f, target);
      nanos += System.nanoTime() - t0;
    }
    return new Summary(files.size(), rows, nanos);
  }

  /** One file, one fresh detector, one causal pass. Returns the rows written. */
  public long runFile(Path in, Path target) throws IOException {
    List<String> lines = Files.readAllLines(in, StandardCharsets.UTF_8);
    if (lines.isEmpty()) {
      throw new IllegalArgumentException(in + ": empty file");
    }
    String[] header = lines.get(0).split(",");
    int ti = indexOf(header, "timestamp", in);
    int vi = indexOf(header, "value", in);
    SeriesDetector detector = new SeriesDetector(settings);
    if (target.getParent() != null) {
      Files.createDirectories(target.getParent());
    }
    long n = 0;
    try (BufferedWriter w = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
      w.write("timestamp,value,anomaly_score\n");
      for (int i = 1; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.isBlank()) {
          continue;
        }
        String[] cols = line.split(",", -1);
        if (cols.length <= Math.max(ti, vi)) {
          throw new IllegalArgumentException(in + " line " + (i + 1) + ": expected timestamp,value");
        }
        String ts = cols[ti].trim();
        String raw = cols[vi].trim();
        double value;
        try {
          value = Double.parseDouble(raw);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(in + " line " + (i + 1) + ": value \"" + raw + "\" is not a number");
        }
        Verdict v = detector.observe(parseMillis(ts, in, i + 1), value);
        double score = Double.isFinite(v.score()) ? v.score() : 0.0;
        w.write(ts);
        w.write(',');
        w.write(raw);
        w.write(',');
        w.write(Double.toString(score));
        if (DEBUG) {
          w.write(',' + v.method() + ',' + v.deviation());
        }
        w.write('\n');
        n++;
      }
    }
    return n;
  }

  private static int indexOf(String[] header, String name, Path file) {
    for (int i = 0; i < header.length; i++) {
      if (header[i].trim().equalsIgnoreCase(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException(file + ": no \"" + name + "\" column in the header");
  }

  /** NAB's timestamps: "2014-04-01 00:00:00" (UTC), ISO-8601 with an offset, or epoch seconds/millis. */
  static long parseMillis(String ts, Path file, int line) {
    try {
      if (!ts.isEmpty() && ts.chars().allMatch(Character::isDigit)) {
        long v = Long.parseLong(ts);
        return v < 100_000_000_000L ? v * 1000 : v;
      }
      String iso = ts.replace(' ', 'T');
      if (iso.endsWith("Z") || iso.matches(".*[+-]\\d\\d:\\d\\d$")) {
        return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
      }
      return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new IllegalArgumentException(file + " line " + line + ": timestamp \"" + ts + "\" is not understood");
    }
  }
}

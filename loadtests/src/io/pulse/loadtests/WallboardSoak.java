package io.pulse.loadtests;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 14's "memory stays flat": a wallboard with every panel kind in a real headless Chromium,
 * fed at an accelerated pace, with the page's JS heap and DOM node count sampled after a forced GC.
 *
 * <p>Pulse runs as a child process (storage on: dashboards are stored documents; flush tick 50 ms
 * instead of 250; heartbeat 1 s; 1 s windows). A generator posts every series of stream {@code soak}
 * ({@code host} x {@code region}, 400 series by default) four times a second; a threshold rule per
 * host fires and resolves as a "hot" group of hosts moves on every 15 s, so the alert panel and the
 * status grid churn the whole run. The dashboard holds all eight panel kinds over a 5 min range, so
 * every panel's buffers reach their bound in the first half of a 10 min run.
 *
 * <p>Every {@code --sample} seconds: CDP {@code HeapProfiler.collectGarbage}, then {@code
 * Performance.getMetrics} (JSHeapUsedSize, Nodes, JSEventListeners) and the page's own {@code
 * window.__pulse.stats()}. At the end: start, end and max, and the least-squares slope over the
 * second half. <b>Flat</b> (exit 0) when, over the second half, the fitted growth (slope x its length)
 * is under 5 % of its mean heap (or under 1 MB) and under 5 % of its mean node count (or 200 nodes),
 * and the page still shows live data. Exit 1 when a trend is found, 2 when the run went wrong.
 *
 * <p>{@code --screenshots} instead starts the demo, waits for data, and saves a 1920x1080 kiosk
 * screenshot of each ready dashboard ({@code ready-*}) to {@code docs/screenshots/<name>.png}.
 */
public final class WallboardSoak {

  private double minutes = 10;
  private double sampleS = 10;
  private int hosts = 100;
  private int regions = 4;
  private String jar = "target/pulse.jar";
  private boolean screenshots = false;
  private String shotsDir = "docs/screenshots";
  private final List<String> notes = new ArrayList<>();
  private double warmS = 40;

  public static void main(String[] args) throws Exception {
    WallboardSoak s = new WallboardSoak();
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--minutes" -> s.minutes = Bench.positive("--minutes", args, ++i);
          case "--sample" -> s.sampleS = Bench.positive("--sample", args, ++i);
          case "--hosts" -> s.hosts = (int) Bench.positive("--hosts", args, ++i);
          case "--regions" -> s.regions = (int) Bench.positive("--regions", args, ++i);
          case "--jar" -> s.jar = Bench.value("--jar", args, ++i);
          case "--quick" -> {
            s.minutes = 2;
            s.sampleS = 5;
          }
          case "--screenshots" -> s.screenshots = true;
          case "--out" -> s.shotsDir = Bench.value("--out", args, ++i);
          case "--warm" -> s.warmS = Bench.positive("--warm", args, ++i);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println("usage: WallboardSoak [--minutes 10] [--sample 10] [--hosts 100] [--regions 4] [--quick]\n"
          + "       WallboardSoak --screenshots [--out docs/screenshots] [--warm 40]");
      System.exit(64);
    }
    System.exit(s.screenshots ? s.shots() : s.soak());
  }

  // ------------------------------------------------------------------ the soak

  record Sample(double tS, double heapMb, double nodes, double listeners, double elements, String stats) {
  }

  int soak() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path runDir = Files.createTempDirectory("pulse-soak-");
    List<String> problems = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    notes.clear();
    AtomicLong posted = new AtomicLong();
    AtomicLong non202 = new AtomicLong();
    AtomicLong posts = new AtomicLong();
    Map<String, Integer> codes = new java.util.concurrent.ConcurrentHashMap<>();
    Set<String> alertIdsSeen = new HashSet<>();
    int firingMax = 0;
    String statsEnd = null;
    List<String> pageErrors = List.of();
    try (Bench bench = new Bench("soak")) {
      bench.say("wallboard soak " + stamp + ": " + minutes + " min, sample every " + sampleS + " s, "
          + hosts * regions + " series; logs under " + runDir);
      Path data = Files.createDirectories(runDir.resolve("data"));
      Bench.PulseCommand pc = new Bench.PulseCommand(jar, "1g", List.of(), 180);
      try (ChildServer pulse = bench.startPulse("Pulse", pc, data, Map.of("PULSE_STORAGE", "true",
          "PULSE_FLUSH_MS", "50", "PULSE_HEARTBEAT_MS", "1000", "PULSE_WINDOW", "1s"), runDir.resolve("pulse.log"))) {
        String base = "http://127.0.0.1:" + pulse.port;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ScheduledExecutorService gen = Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "soak-generator");
          t.setDaemon(true);
          return t;
        });
        long t0 = System.currentTimeMillis();
        gen.scheduleAtFixedRate(() -> {
          try {
            int code = post(http, base + "/api/v1/events", "application/x-ndjson", batch(t0));
            posts.incrementAndGet();
            posted.addAndGet((long) hosts * regions);
            if (code != 202) {
              non202.incrementAndGet();
              codes.merge(String.valueOf(code), 1, Integer::sum);
            }
          } catch (Exception e) {
            posts.incrementAndGet();
            non202.incrementAndGet();
            codes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
          }
        }, 0, 250, TimeUnit.MILLISECONDS);
        // the stream exists once events arrived; then the rule and the dashboard
        awaitTrue(() -> get(http, base + "/api/v1/streams").contains("\"soak\""), 30);
        JsonObject rule = new JsonObject().put("name", "soak host slow").put("stream", "soak").put("kind", "threshold")
            .put("metric", "latency").put("figure", "mean").put("op", ">").put("value", 200)
            .put("groupBy", new JsonArray().add("host")).put("severity", "warning");
        store(http, base + "/api/v1/rules", rule.put("id", "soak-slow"));
        store(http, base + "/api/v1/dashboards", dashboard());
        bench.say("rule and dashboard stored; opening the wallboard in Chromium");

        try (Cdp page = Cdp.launch(1920, 1080, runDir.resolve("chromium.log"))) {
          page.navigate(base + "/?dashboard=soak&kiosk=1");
          awaitTrue(() -> Boolean.TRUE.equals(page.eval(
              "!!(window.__pulse && window.__pulse.stats && window.__pulse.stats().panels >= 8)")), 60);
          long start = System.nanoTime();
          long end = start + (long) (minutes * 60e9);
          long next = start;
          while (System.nanoTime() < end) {
            Bench.checkAlive(pulse);
            if (!page.alive()) {
              throw new IllegalStateException("Chromium died");
            }
            page.collectGarbage();
            page.collectGarbage();
            Map<String, Double> m = page.metrics();
            Object stats = page.eval("JSON.stringify(window.__pulse && window.__pulse.stats ? window.__pulse.stats() : null)");
            double t = (System.nanoTime() - start) / 1e9;
            JsonObject st = stats instanceof String str && str.startsWith("{") ? new JsonObject(str) : new JsonObject();
            Sample s = new Sample(t, m.getOrDefault("JSHeapUsedSize", 0.0) / 1e6, m.getOrDefault("Nodes", 0.0),
                m.getOrDefault("JSEventListeners", 0.0), st.getDouble("domNodes", 0.0), String.valueOf(stats));
            samples.add(s);
            bench.say(String.format(Locale.ROOT, "t=%4.0f s  heap %6.2f MB  nodes %6.0f  elements %5.0f  listeners %5.0f  "
                + "panels %s  series %s  buckets %s  alerts %s  %s", t, s.heapMb(), s.nodes(), s.elements(), s.listeners(),
                st.getValue("panels"), st.getValue("seriesBuffered"), st.getValue("bucketsBuffered"),
                st.getValue("alertsHeld"), st.getValue("state")));
            try {
              JsonArray firing = new JsonObject(get(http, base + "/api/v1/alerts?state=firing")).getJsonArray("alerts",
                  new JsonArray());
              firingMax = Math.max(firingMax, firing.size());
              firing.forEach(a -> alertIdsSeen.add(((JsonObject) a).getString("id")));
            } catch (Exception e) {
              // alerts are context, not the measurement
            }
            next = Math.max(next + (long) (sampleS * 1e9), System.nanoTime() + (long) (sampleS * 5e8));
            long wait = next - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000);
            }
          }
          statsEnd = String.valueOf(page.eval(
              "JSON.stringify(window.__pulse && window.__pulse.stats ? window.__pulse.stats() : null)"));
          pageErrors = new ArrayList<>(page.pageErrors);
        } finally {
          gen.shutdownNow();
        }
      }
    } catch (Exception e) {
      problems.add("run aborted: " + e);
    }
    if (non202.get() > 0) {
      String what = non202.get() + " of " + posts.get() + " event posts not answered 202 " + codes;
      if (non202.get() * 100 > posts.get()) {
        problems.add(what);
      } else {
        notes.add(what + " (under 1 %: a busy machine, not a failed run)");
      }
    }
    return report(stamp, samples, problems, posted.get(), alertIdsSeen.size(), firingMax, statsEnd, pageErrors);
  }

  /** Every series once; a rotating group of hosts (one in ten) is slow and fires the rule. */
  private String batch(long t0) {
    long now = System.currentTimeMillis();
    int phase = (int) ((now - t0) / 15_000);
    StringBuilder b = new StringBuilder(hosts * regions * 110);
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    for (int h = 0; h < hosts; h++) {
      boolean hot = (h + phase) % 10 == 0;
      for (int g = 0; g < regions; g++) {
        double latency = (hot ? 300 : 50) * (0.7 + 0.6 * r.nextDouble());
        b.append("{\"stream\":\"soak\",\"ts\":").append(now).append(",\"dims\":{\"host\":\"h")
            .append(String.format(Locale.ROOT, "%03d", h)).append("\",\"region\":\"r").append(g)
            .append("\"},\"values\":{\"latency\":").append(String.format(Locale.ROOT, "%.1f", latency))
            .append(",\"bytes\":").append(r.nextInt(100, 5000)).append("}}\n");
      }
    }
    return b.toString();
  }

  /** Every panel kind, over the last 5 minutes (so every buffer reaches its bound in the first half). */
  static JsonObject dashboard() {
    JsonArray panels = new JsonArray();
    panels.add(panel("ts", "timeseries", "Latency p95 by region", 0, 0, 6, 5,
        query("latency", "p95").put("groupBy", new JsonArray().add("region")), new JsonObject().put("unit", "ms")));
    panels.add(panel("stat", "stat", "Events per second", 6, 0, 3, 5, query(null, "count"), new JsonObject())
        .put("derive", new JsonObject().put("op", "rate").put("per", "1s")));
    panels.add(panel("gauge", "gauge", "Mean latency", 9, 0, 3, 5, query("latency", "mean"),
        new JsonObject().put("unit", "ms").put("min", 0).put("max", 400)));
    panels.add(panel("bar", "bar", "Slowest hosts", 0, 5, 4, 6,
        query("latency", "mean").put("groupBy", new JsonArray().add("host")).put("top", 10), new JsonObject()));
    panels.add(panel("table", "table", "Hosts", 4, 5, 4, 6,
        query("latency", "p99").put("groupBy", new JsonArray().add("host")).put("top", 20), new JsonObject()));
    panels.add(panel("grid", "statusgrid", "Host status", 8, 5, 4, 6,
        query("latency", "mean").put("groupBy", new JsonArray().add("host")).put("top", 100),
        new JsonObject().put("by", "alert")));
    panels.add(new JsonObject().put("id", "alerts").put("kind", "alerts").put("title", "Alerts")
        .put("grid", grid(0, 11, 8, 5)).put("query", new JsonObject().put("stream", "soak")));
    panels.add(new JsonObject().put("id", "text").put("kind", "text").put("title", "About")
        .put("grid", grid(8, 11, 4, 5)).put("options", new JsonObject().put("text",
            "Wallboard soak: every panel kind, 1 s windows, 50 ms flush tick.\n\nAlerts fire and resolve every 15 s.")));
    return new JsonObject().put("id", "soak").put("title", "Wallboard soak")
        .put("time", new JsonObject().put("range", "5m").put("window", "1s")).put("panels", panels);
  }

  private static JsonObject query(String metric, String figure) {
    JsonObject q = new JsonObject().put("stream", "soak").put("figure", figure).put("range", "5m").put("window", "1s");
    if (metric != null) {
      q.put("metric", metric);
    }
    return q;
  }

  private static JsonObject grid(int x, int y, int w, int h) {
    return new JsonObject().put("x", x).put("y", y).put("w", w).put("h", h);
  }

  private static JsonObject panel(String id, String kind, String title, int x, int y, int w, int h, JsonObject query,
      JsonObject options) {
    return new JsonObject().put("id", id).put("kind", kind).put("title", title).put("grid", grid(x, y, w, h))
        .put("query", query).put("options", options);
  }

  /** Least-squares slope of y over t (per second) and its standard error: {slope, se}. */
  static double[] fit(List<double[]> pts) {
    int n = pts.size();
    if (n < 3) {
      return new double[] {0, Double.POSITIVE_INFINITY};
    }
    double mt = 0;
    double my = 0;
    for (double[] p : pts) {
      mt += p[0];
      my += p[1];
    }
    mt /= n;
    my /= n;
    double num = 0;
    double den = 0;
    for (double[] p : pts) {
      num += (p[0] - mt) * (p[1] - my);
      den += (p[0] - mt) * (p[0] - mt);
    }
    if (den == 0) {
      return new double[] {0, Double.POSITIVE_INFINITY};
    }
    double b = num / den;
    double a = my - b * mt;
    double ss = 0;
    for (double[] p : pts) {
      double r = p[1] - (a + b * p[0]);
      ss += r * r;
    }
    return new double[] {b, Math.sqrt(ss / (n - 2) / den)};
  }

  private int report(String stamp, List<Sample> samples, List<String> problems, long posted, int alertsSeen,
      int firingMax, String statsEnd, List<String> pageErrors) throws IOException {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "Wallboard soak %s: %.1f min, %d series (stream soak), events every 250 ms "
        + "(%,d posted), flush tick 50 ms, 1 s windows, 5 min panel range; Chromium %s headless, 1920x1080%n",
        stamp, minutes, hosts * regions, posted, chromiumVersion()));
    out.append(String.format(Locale.ROOT, "alerts: %d distinct alerts seen firing, at most %d at once%n", alertsSeen,
        firingMax));
    int code = 0;
    if (samples.size() < 4) {
      problems.add("too few samples (" + samples.size() + ")");
    } else {
      double half = samples.get(samples.size() - 1).tS() / 2;
      List<Sample> second = samples.stream().filter(s -> s.tS() >= half).toList();
      double len = second.get(second.size() - 1).tS() - second.get(0).tS();
      String[] names = {"JS heap used (MB)", "DOM nodes (CDP)", "elements in page", "event listeners"};
      boolean flat = true;
      for (int k = 0; k < 4; k++) {
        final int kk = k;
        java.util.function.ToDoubleFunction<Sample> f = s -> switch (kk) {
          case 0 -> s.heapMb();
          case 1 -> s.nodes();
          case 2 -> s.elements();
          default -> s.listeners();
        };
        double first = f.applyAsDouble(samples.get(0));
        double last = f.applyAsDouble(samples.get(samples.size() - 1));
        double max = samples.stream().mapToDouble(f).max().orElse(0);
        double mean = second.stream().mapToDouble(f).average().orElse(0);
        double[] fit = fit(second.stream().map(s -> new double[] {s.tS(), f.applyAsDouble(s)}).toList());
        double growth = fit[0] * len;
        double material = k == 0 ? Math.max(0.05 * mean, 1.0) : Math.max(0.05 * mean, 200);
        // growing = a trend that is both real (slope more than 2 standard errors above 0) and material
        boolean significant = fit[0] > 2 * fit[1];
        boolean ok = !(significant && growth > material);
        if (k < 3) {
          flat &= ok;
        }
        out.append(String.format(Locale.ROOT, "%-18s start %9.2f  end %9.2f  max %9.2f  second-half mean %9.2f  "
            + "slope %+10.2f /h (+-%.2f)  fitted growth over the second half %+8.2f (material above %.2f) %s%n",
            names[k], first, last, max, mean, fit[0] * 3600, 2 * fit[1] * 3600, growth, material,
            k == 3 ? "(info)" : ok ? "FLAT" : "GROWING"));
      }
      out.append("page stats at the end: ").append(statsEnd).append('\n');
      if (statsEnd == null || statsEnd.equals("null")) {
        problems.add("the page exposes no window.__pulse.stats()");
      }
      if (!flat) {
        code = 1;
      }
      out.append("samples (t s, heap MB, nodes, elements, listeners):");
      for (Sample s : samples) {
        out.append(String.format(Locale.ROOT, " %.0f/%.2f/%.0f/%.0f/%.0f", s.tS(), s.heapMb(), s.nodes(), s.elements(),
            s.listeners()));
      }
      out.append('\n');
      out.append(flat ? "RESULT: FLAT" : "RESULT: GROWING").append(" (criterion: over the second half, a least-squares "
          + "trend counts as growth only when its slope is more than 2 standard errors above 0 and it adds more than 5 % "
          + "of the mean (heap: at least 1 MB; DOM nodes and elements: at least 200) over the second half)\n");
    }
    notes.forEach(n -> out.append("note: ").append(n).append('\n'));
    if (!pageErrors.isEmpty()) {
      out.append("page errors (first ").append(pageErrors.size()).append("): ").append(String.join(" | ", pageErrors))
          .append('\n');
    }
    if (!problems.isEmpty()) {
      out.append("RUN PROBLEMS: ").append(String.join("; ", problems)).append('\n');
      code = 2;
    }
    System.out.print(out);
    Path reports = Path.of("loadtests", "reports");
    Files.createDirectories(reports);
    Path file = reports.resolve("wallboard-soak-" + stamp + ".txt");
    Files.writeString(file, out.toString());
    System.out.println("report: " + file);
    return code;
  }

  private static String chromiumVersion() {
    try {
      Process p = new ProcessBuilder(Cdp.CHROMIUM.toString(), "--version").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+\\.\\d+\\.\\d+\\.\\d+").matcher(v);
      return m.find() ? m.group() : "?";
    } catch (Exception e) {
      return "?";
    }
  }

  // ------------------------------------------------------------------ screenshots

  int shots() throws Exception {
    Path runDir = Files.createTempDirectory("pulse-shots-");
    Path out = Path.of(shotsDir);
    Files.createDirectories(out);
    int saved = 0;
    List<String> problems = new ArrayList<>();
    try (Bench bench = new Bench("screenshots")) {
      Path data = Files.createDirectories(runDir.resolve("data"));
      Bench.PulseCommand pc = new Bench.PulseCommand(jar, "1g", List.of(), 180);
      try (ChildServer pulse = bench.startPulse("Pulse", pc, data, Map.of("PULSE_STORAGE", "true", "PULSE_DEMO", "true"),
          runDir.resolve("pulse.log"))) {
        String base = "http://127.0.0.1:" + pulse.port;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        bench.say("demo running; letting data and history build up for " + warmS + " s");
        Thread.sleep((long) (warmS * 1000));
        JsonArray all = new JsonObject(get(http, base + "/api/v1/dashboards")).getJsonArray("dashboards", new JsonArray());
        List<String> ready = all.stream().map(o -> ((JsonObject) o).getString("id"))
            .filter(id -> id != null && id.startsWith("ready-")).sorted().toList();
        if (ready.isEmpty()) {
          problems.add("no ready dashboards (ids ready-*) in GET /api/v1/dashboards");
        }
        try (Cdp page = Cdp.launch(1920, 1080, runDir.resolve("chromium.log"))) {
          for (String id : ready) {
            page.navigate(base + "/?dashboard=" + id + "&kiosk=1");
            try {
              awaitTrue(() -> Boolean.TRUE.equals(page.eval("!!(window.__pulse && window.__pulse.stats && "
                  + "window.__pulse.stats().panels > 0 && window.__pulse.stats().lastDataAt > 0)")), 30);
            } catch (Exception e) {
              problems.add(id + ": no data on the page within 30 s");
            }
            Thread.sleep(6000); // live updates on top of the history, charts settled
            Path png = out.resolve(id.substring("ready-".length()) + ".png");
            Files.write(png, page.screenshot());
            saved++;
            bench.say("saved " + png);
          }
          if (!page.pageErrors.isEmpty()) {
            bench.say("page errors: " + String.join(" | ", page.pageErrors));
          }
        }
      }
    } catch (Exception e) {
      problems.add("run aborted: " + e);
    }
    System.out.println("screenshots: " + saved + " saved to " + out);
    if (!problems.isEmpty()) {
      System.out.println("PROBLEMS: " + String.join("; ", problems));
      return 2;
    }
    return 0;
  }

  // ------------------------------------------------------------------ small HTTP helpers

  interface Check {
    boolean ok() throws Exception;
  }

  static void awaitTrue(Check c, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    Exception last = null;
    while (System.nanoTime() < end) {
      try {
        if (c.ok()) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("not within " + seconds + " s" + (last == null ? "" : ": " + last));
  }

  static String get(HttpClient http, String url) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  static int post(HttpClient http, String url, String type, String body) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /**
   * POSTs a definition, riding out a busy database: a 503 is retried after reading back (the change
   * may have been applied), a 409 means an earlier try stored it.
   */
  static void store(HttpClient http, String url, JsonObject doc) throws Exception {
    for (int attempt = 1; ; attempt++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(doc.encode())).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 201 || r.statusCode() == 409) {
        return;
      }
      if (r.statusCode() != 503 || attempt >= 10) {
        throw new IllegalStateException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
      }
      Thread.sleep(2000);
    }
  }

  static void expect(int status, HttpClient http, String method, String url, String body)
      throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != status) {
      throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": " + r.body());
    }
  }
}

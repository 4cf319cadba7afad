package io.pulse.loadtests;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Once a second: the server's {@code process_cpu_usage}, summed heap
 * {@code jvm_memory_used_bytes{area="heap"}} and {@code pulse_store_queue_depth} from its Prometheus
 * {@code /metrics} (when it has one),
 * and the generator's own process CPU load. Runs on its own daemon thread with blocking JDK HTTP,
 * apart from the Vert.x event loops that drive the load.
 */
final class Sampler implements AutoCloseable {

  static final String STORE_QUEUE_DEPTH = "pulse_store_queue_depth";
  static final String STORE_ROWS_WRITTEN = "pulse_store_rows_written_total";
  static final String STORE_ROWS_FAILED = "pulse_store_rows_failed_total";
  static final String STORE_ROWS_RETRIED = "pulse_store_rows_retried_total";
  static final String STORE_DOWNSAMPLED = "pulse_store_downsampled_rows_total";

  /** HTTP/1.1: the JDK client would otherwise try an h2c upgrade, which goes wrong under concurrent requests. */
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final URI metrics;
  private final com.sun.management.OperatingSystemMXBean os;
  private final Thread thread;
  private volatile PhaseStats stats;
  private volatile boolean running = true;
  private volatile String lastScrape;
  volatile String lastError;

  Sampler(Integer metricsPort) {
    this.metrics = metricsPort == null ? null : URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
    this.os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    os.getProcessCpuLoad(); // the first call primes the counter
    this.thread = new Thread(this::loop, "w1-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  void record(PhaseStats s) {
    this.stats = s;
  }

  /** The generator's CPU time so far, ns. */
  long generatorCpuNanos() {
    return os.getProcessCpuTime();
  }

  String lastScrape() {
    return lastScrape;
  }

  private void loop() {
    long next = System.nanoTime();
    while (running) {
      next += 1_000_000_000L;
      sampleOnce();
      long sleep = (next - System.nanoTime()) / 1_000_000;
      if (sleep > 0) {
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException e) {
          return;
        }
      } else {
        next = System.nanoTime();
      }
    }
  }

  private void sampleOnce() {
    PhaseStats s = stats;
    double gen = os.getProcessCpuLoad();
    if (s != null && gen >= 0) {
      s.genCpuLoad.add(gen);
    }
    if (metrics == null) {
      return;
    }
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(3)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        lastError = "/metrics answered " + r.statusCode();
        return;
      }
      String text = r.body();
      lastScrape = text;
      Map<String, Double> m = parse(text);
      if (s != null) {
        Double cpu = m.get("process_cpu_usage");
        if (cpu != null) {
          s.serverCpuUsage.add(cpu);
        }
        Double heap = m.get("heap");
        if (heap != null) {
          s.serverHeapBytes.add(heap);
        }
        Double depth = m.get(STORE_QUEUE_DEPTH);
        if (depth != null) {
          s.storeQueueDepth.add(depth);
        }
      }
    } catch (Exception e) {
      lastError = "/metrics: " + e;
    }
  }

  /** Scrapes /metrics now, on the calling thread: {@link #parse}'s figures, or an exception. */
  Map<String, Double> scrapeNow() throws java.io.IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new java.io.IOException("/metrics answered " + r.statusCode());
    }
    return parse(r.body());
  }

  /**
   * process_cpu_usage, "heap" = sum of jvm_memory_used_bytes{area="heap",...}, and every
   * pulse_store_* sample by its name (labels dropped, samples of one name added up).
   */
  static Map<String, Double> parse(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    double heap = 0;
    boolean sawHeap = false;
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.charAt(0) == '#') {
        continue;
      }
      if (line.startsWith("process_cpu_usage")) {
        out.put("process_cpu_usage", value(line));
      } else if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        heap += value(line);
        sawHeap = true;
      } else if (line.startsWith("pulse_store_")) {
        int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
        out.merge(line.substring(0, end), value(line), Double::sum);
      }
    }
    if (sawHeap) {
      out.put("heap", heap);
    }
    return out;
  }

  /** The sample value: the token after the closing brace (or the name), before an optional timestamp. */
  static double value(String line) {
    int brace = line.lastIndexOf('}');
    String rest = (brace >= 0 ? line.substring(brace + 1) : line.substring(line.indexOf(' '))).trim();
    int sp = rest.indexOf(' ');
    return Double.parseDouble(sp < 0 ? rest : rest.substring(0, sp));
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}

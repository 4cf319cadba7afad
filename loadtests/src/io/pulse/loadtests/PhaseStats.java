package io.pulse.loadtests;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one phase of a run recorded. Written by the ingest, subscriber and sampler threads; read by
 * the main thread once the phase is over. Histograms come from HdrHistogram (already on the
 * classpath through vertx-micrometer-metrics).
 */
final class PhaseStats {

  final String name;
  long startNanos;
  long endNanos;
  long serverCpuStartNanos;
  long serverCpuEndNanos;
  long genCpuStartNanos;
  long genCpuEndNanos;
  /** The server's database processes, -1 where there is none (see ChildServer#databaseCpuNanos). */
  long dbCpuStartNanos = -1;
  long dbCpuEndNanos = -1;
  /** /proc/stat jiffies (busy, irq+softirq, total) at the start and end; {-1, -1} where unreadable. */
  long[] machineStart = {-1, -1, -1};
  long[] machineEnd = {-1, -1, -1};

  // ingest
  final LongAdder requests = new LongAdder();
  final LongAdder accepted = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder non202 = new LongAdder();
  /** Of the non-202 answers, the 401s and 403s: Pulse refused the driver's token (or wanted one). */
  final LongAdder authRefused = new LongAdder();
  final LongAdder failures = new LongAdder();
  final LongAdder bytesSent = new LongAdder();
  final LongAdder batchesScheduled = new LongAdder();
  final LongAdder batchesSkipped = new LongAdder();
  final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
  private final AtomicLong errorSampleCount = new AtomicLong();
  /** POST round trip, microseconds. */
  final Histogram httpRttMicros = new SynchronizedHistogram(60_000_000L, 3);

  // live feed
  /** receive time - latest, ms, for running ("final":false) rollups. */
  final Histogram liveLatencyMs = new SynchronizedHistogram(3_600_000L, 3);
  /** receive time - latest, ms, for closing ("final":true) rollups. */
  final Histogram finalLatencyMs = new SynchronizedHistogram(3_600_000L, 3);
  final LongAdder rollupsLive = new LongAdder();
  final LongAdder rollupsFinal = new LongAdder();
  final LongAdder rollupsWithoutLatest = new LongAdder();
  final LongAdder negativeLatencies = new LongAdder();
  final Map<String, LongAdder> otherMessages = new ConcurrentHashMap<>();

  // samples, one a second
  final ConcurrentLinkedQueue<Double> serverCpuUsage = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<Double> serverHeapBytes = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<Double> genCpuLoad = new ConcurrentLinkedQueue<>();
  /** pulse_store_queue_depth: final rollups waiting to be written (when Pulse stores them). */
  final ConcurrentLinkedQueue<Double> storeQueueDepth = new ConcurrentLinkedQueue<>();

  PhaseStats(String name) {
    this.name = name;
  }

  void error(String what) {
    if (errorSampleCount.incrementAndGet() <= 10) {
      errorSamples.add(what);
    }
  }

  double seconds() {
    return (endNanos - startNanos) / 1e9;
  }

  double eventsPerSecond() {
    double s = seconds();
    return s > 0 ? accepted.sum() / s : 0;
  }

  /** Server CPU over the phase as a fraction of the whole machine (1.0 = every core busy). */
  double serverCpuShare(int cores) {
    double wall = endNanos - startNanos;
    return wall > 0 && serverCpuEndNanos > 0 ? (serverCpuEndNanos - serverCpuStartNanos) / (wall * cores) : Double.NaN;
  }

  double genCpuShare(int cores) {
    double wall = endNanos - startNanos;
    return wall > 0 && genCpuEndNanos > 0 ? (genCpuEndNanos - genCpuStartNanos) / (wall * cores) : Double.NaN;
  }

  /** The database's CPU over the phase as a fraction of the whole machine; NaN without one. */
  double dbCpuShare(int cores) {
    double wall = endNanos - startNanos;
    return wall > 0 && dbCpuStartNanos >= 0 && dbCpuEndNanos >= 0 ? (dbCpuEndNanos - dbCpuStartNanos) / (wall * cores)
        : Double.NaN;
  }

  /** Busy share of the whole machine over the phase (every process and the kernel), NaN if unknown. */
  double machineBusyShare() {
    return share(0);
  }

  /** Share of the machine in interrupt and softirq work (loopback TCP lands here), NaN if unknown. */
  double machineIrqShare() {
    return share(1);
  }

  private double share(int i) {
    long total = machineEnd[2] - machineStart[2];
    return machineStart[i] < 0 || machineEnd[i] < 0 || total <= 0 ? Double.NaN
        : (double) (machineEnd[i] - machineStart[i]) / total;
  }

  /** {busy, irq+softirq, total} jiffies of all CPUs from /proc/stat (Linux); -1s elsewhere. */
  static long[] machineJiffies() {
    try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(java.nio.file.Paths.get("/proc/stat"))) {
      String[] f = r.readLine().trim().split("\\s+"); // cpu user nice system idle iowait irq softirq steal ...
      long total = 0;
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      long irq = Long.parseLong(f[6]) + Long.parseLong(f[7]);
      return new long[] {total - idle, irq, total};
    } catch (java.io.IOException | RuntimeException e) {
      return new long[] {-1, -1, -1};
    }
  }

  static double mean(Iterable<Double> xs) {
    double sum = 0;
    int n = 0;
    for (double x : xs) {
      if (!Double.isNaN(x)) {
        sum += x;
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  static double max(Iterable<Double> xs) {
    double m = Double.NaN;
    for (double x : xs) {
      if (!Double.isNaN(x) && (Double.isNaN(m) || x > m)) {
        m = x;
      }
    }
    return m;
  }
}

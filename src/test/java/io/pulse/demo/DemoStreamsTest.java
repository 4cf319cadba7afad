package io.pulse.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo generators, driven over explicit stretches of simulated time. */
class DemoStreamsTest {

  private static final long MINUTE = 60_000L;
  private static final long HOUR = 60 * MINUTE;
  private static final long DAY = 24 * HOUR;
  /** Wednesday 19 November 2025, 00:00 UTC. */
  private static final long WEDNESDAY = LocalDate.of(2025, 11, 19).toEpochDay() * DAY;
  /** Saturday 22 November 2025, 00:00 UTC. */
  private static final long SATURDAY = WEDNESDAY + 3 * DAY;

  private static final Pattern STREAM = Pattern.compile("[a-z0-9_.-]{1,64}");
  private static final Pattern SHORT = Pattern.compile("[a-z0-9_]{1,16}");

  /** Value names of each stream with their plausible ranges. */
  private static final Map<String, Map<String, double[]>> VALUES = Map.of(
      "checkout", Map.of("amount", r(0.99, 20_000), "items", r(1, 8)),
      "cart", Map.of("cart_value", r(0.5, 10_000), "abandoned", r(0, 1), "items", r(1, 10)),
      "payments", Map.of("amount", r(0.5, 1_000_000), "latency_ms", r(20, 60_000), "declined", r(0, 1)),
      "pipeline", Map.of("rows", r(0, 10_000_000), "duration_s", r(0, 3_600), "errors", r(0, 10_000_000)),
      "vitals", Map.of("heart_rate", r(35, 220), "spo2", r(70, 100), "resp_rate", r(6, 45), "temp_c", r(34, 42)),
      "latency", Map.of("latency_ms", r(0.2, 120_000), "error", r(0, 1), "cpu_pct", r(1, 100)),
      "sales", Map.of("deal_value", r(100, 10_000_000), "pipeline_value", r(0, 10_000_000),
          "won", r(0, 1), "won_value", r(0, 10_000_000)));

  private static final Map<String, Set<String>> DIMS = Map.of(
      "checkout", Set.of("region", "channel"),
      "cart", Set.of("region", "device"),
      "payments", Set.of("method", "region"),
      "pipeline", Set.of("job"),
      "vitals", Set.of("patient", "ward"),
      "latency", Set.of("service", "region"),
      "sales", Set.of("rep", "region"));

  private static final Map<String, Set<String>> KINDS = Map.of(
      "checkout", Set.of("traffic_burst", "region_drop"),
      "cart", Set.of("abandonment_spike"),
      "payments", Set.of("outlier_amounts", "card_testing", "decline_spike"),
      "pipeline", Set.of("job_silent", "error_burst", "slow_runs"),
      "vitals", Set.of("tachycardia", "desaturation", "fever"),
      "latency", Set.of("latency_spike", "error_burst"),
      "sales", Set.of("closing_push", "big_win"));

  private static double[] r(double lo, double hi) {
    return new double[] {lo, hi};
  }

  private static List<Event> events(DemoStream s, long from, long to) {
    List<Event> out = new ArrayList<>();
    s.generate(from, to, out::add);
    return out;
  }

  private static DemoStream stream(long seed, String name) {
    return Demo.all(seed).stream().filter(s -> s.stream().equals(name)).findFirst().orElseThrow();
  }

  private static List<String> render(List<Event> events) {
    return events.stream().map(Event::toString).collect(Collectors.toList());
  }

  @Test
  @DisplayName("Demo.all builds one generator per product stream, in the documented order")
  void allStreams() {
    List<String> names = Demo.all(1).stream().map(DemoStream::stream).collect(Collectors.toList());
    assertEquals(Demo.STREAMS, names);
    assertEquals(VALUES.keySet(), Set.copyOf(names));
  }

  @Test
  @DisplayName("at night, noon, evening and inside every incident of a day, every event is valid: stream name, "
      + "few short dims, finite values in range")
  void eventsAreValid() {
    for (DemoStream s : Demo.all(42)) {
      Set<Dims> series = new HashSet<>();
      int checked = 0;
      for (int hour : new int[] {4, 12, 20}) {
        checked += checkValid(s, WEDNESDAY + hour * HOUR, WEDNESDAY + hour * HOUR + 3 * MINUTE, series);
      }
      for (Incident i : s.incidents(WEDNESDAY, WEDNESDAY + DAY)) {
        long mid = (i.start() + i.end()) / 2;
        checked += checkValid(s, mid - 5_000, mid + 5_000, series);
      }
      assertTrue(checked > 100, s.stream());
      assertTrue(series.size() <= 20, s.stream() + " has " + series.size() + " series");
    }
  }

  private static int checkValid(DemoStream s, long from, long to, Set<Dims> series) {
    List<Event> events = events(s, from, to);
    Map<String, double[]> ranges = VALUES.get(s.stream());
    long previous = Long.MIN_VALUE;
    for (Event e : events) {
      assertEquals(s.stream(), e.stream().name());
      assertTrue(e.ts() >= from && e.ts() < to && e.ts() >= previous, "in range and in time order: " + e);
      previous = e.ts();
      if (series.add(e.dims())) { // dims are shared per series: check each once
        assertTrue(STREAM.matcher(e.stream().name()).matches());
        assertTrue(e.dims().size() <= 4);
        assertEquals(DIMS.get(s.stream()), e.dims().toMap().keySet(), e::toString);
        for (int i = 0; i < e.dims().size(); i++) {
          assertTrue(SHORT.matcher(e.dims().key(i)).matches(), e::toString);
          assertTrue(SHORT.matcher(e.dims().value(i)).matches(), e::toString);
        }
      }
      assertEquals(ranges.size(), e.valueCount(), e::toString);
      for (int i = 0; i < e.valueCount(); i++) {
        double v = e.value(i);
        double[] range = ranges.get(e.name(i));
        if (range == null || !(v >= range[0] && v <= range[1])) { // also false for NaN
          throw new AssertionError("bad value " + e.name(i) + " in " + e);
        }
      }
    }
    return events.size();
  }

  @Test
  @DisplayName("the same seed gives the same events and incidents; another seed gives others")
  void deterministicForSeed() {
    long from = WEDNESDAY + 9 * HOUR;
    List<DemoStream> a = Demo.all(7);
    List<DemoStream> b = Demo.all(7);
    List<DemoStream> c = Demo.all(8);
    for (int i = 0; i < a.size(); i++) {
      List<String> ea = render(events(a.get(i), from, from + 20_000));
      assertEquals(ea, render(events(b.get(i), from, from + 20_000)), a.get(i).stream());
      assertNotEquals(ea, render(events(c.get(i), from, from + 20_000)), a.get(i).stream());
      assertEquals(a.get(i).incidents(WEDNESDAY, WEDNESDAY + DAY), b.get(i).incidents(WEDNESDAY, WEDNESDAY + DAY));
    }
  }

  @Test
  @DisplayName("generating a range in small odd steps gives exactly the events of one call")
  void independentOfCallGranularity() {
    long from = WEDNESDAY + 20 * HOUR + 123;
    long to = from + 20_000;
    List<DemoStream> whole = Demo.all(3);
    List<DemoStream> stepped = Demo.all(3);
    for (int i = 0; i < whole.size(); i++) {
      List<Event> pieces = new ArrayList<>();
      for (long t = from; t < to; t += 137) {
        stepped.get(i).generate(t, Math.min(to, t + 137), pieces::add);
      }
      assertEquals(render(events(whole.get(i), from, to)), render(pieces), whole.get(i).stream());
    }
  }

  @Test
  @DisplayName("checkout follows the day: far more orders around lunch and in the evening than at 4 am")
  void dailyRhythm() {
    for (long seed = 1; seed <= 3; seed++) {
      DemoStream checkout = stream(seed, "checkout");
      int night = 0;
      int lunch = 0;
      int evening = 0;
      for (int m = 5; m < 60; m += 20) {
        night += fiveMinutes(checkout, WEDNESDAY + 4 * HOUR + m * MINUTE);
        lunch += fiveMinutes(checkout, WEDNESDAY + 12 * HOUR + m * MINUTE);
        evening += fiveMinutes(checkout, WEDNESDAY + 20 * HOUR + m * MINUTE);
      }
      assertTrue(lunch > 3 * night, "seed " + seed + ": lunch " + lunch + " vs night " + night);
      assertTrue(evening > 3 * night, "seed " + seed + ": evening " + evening + " vs night " + night);
    }
  }

  private static int fiveMinutes(DemoStream s, long from) {
    return events(s, from, from + 5 * MINUTE).size();
  }

  @Test
  @DisplayName("sales keep business hours and weekdays: a weekday is much busier than a Saturday")
  void weeklyRhythm() {
    DemoStream sales = stream(5, "sales");
    int weekday = 0;
    int saturday = 0;
    for (int h = 0; h < 24; h += 2) {
      weekday += events(sales, WEDNESDAY + h * HOUR, WEDNESDAY + h * HOUR + 5 * MINUTE).size();
      saturday += events(sales, SATURDAY + h * HOUR, SATURDAY + h * HOUR + 5 * MINUTE).size();
    }
    assertTrue(weekday > 5 * saturday, "weekday " + weekday + " vs saturday " + saturday);
  }

  @Test
  @DisplayName("each stream has a few incidents an hour over a day, of every kind it knows, never overlapping")
  void incidentsInADay() {
    for (DemoStream s : Demo.all(42)) {
      List<Incident> day = s.incidents(WEDNESDAY, WEDNESDAY + DAY);
      assertTrue(day.size() >= 12 && day.size() <= 72, s.stream() + ": " + day.size());
      assertEquals(KINDS.get(s.stream()), day.stream().map(Incident::kind).collect(Collectors.toSet()), s.stream());
      Incident previous = null;
      for (Incident i : day) {
        assertEquals(s.stream(), i.stream());
        assertTrue(i.durationMs() >= MINUTE && i.durationMs() <= 20 * MINUTE, i::toString);
        assertTrue(Double.isFinite(i.magnitude()));
        if (previous != null) {
          assertTrue(previous.end() <= i.start(), () -> "overlap: " + i);
        }
        previous = i;
      }
      // asking for a part of the day returns the incidents overlapping it
      Incident some = day.get(day.size() / 2);
      assertTrue(s.incidents(some.start() + 1, some.start() + 2).contains(some));
    }
  }

  @Test
  @DisplayName("a silent pipeline job emits nothing during its incident and reports again around it")
  void silentJob() {
    int checked = 0;
    for (long seed = 1; seed <= 3; seed++) {
      DemoStream pipeline = stream(seed, "pipeline");
      for (Incident silent : pipeline.incidents(WEDNESDAY, WEDNESDAY + 6 * HOUR)) {
        if (!silent.kind().equals("job_silent")) {
          continue;
        }
        String job = silent.target().get("job");
        assertTrue(events(pipeline, silent.start(), silent.end()).stream()
            .noneMatch(e -> job.equals(e.dims().get("job"))), silent::toString);
        List<Event> around = events(pipeline, silent.start() - 5 * MINUTE, silent.start());
        around.addAll(events(pipeline, silent.end(), silent.end() + 5 * MINUTE));
        assertTrue(around.stream().anyMatch(e -> job.equals(e.dims().get("job"))), silent::toString);
        // the other jobs go on reporting meanwhile
        assertTrue(events(pipeline, silent.start(), silent.end()).size() > 10, silent::toString);
        checked++;
      }
    }
    assertTrue(checked >= 3, "silent incidents checked: " + checked);
  }

  @Test
  @DisplayName("incidents show in the data: desaturation below 90, abandonment near 100 %, slow service")
  void incidentsVisible() {
    DemoStream vitals = stream(42, "vitals");
    Incident desat = first(vitals, "desaturation");
    long mid = (desat.start() + desat.end()) / 2;
    List<Event> readings = events(vitals, mid - 20_000, mid + 20_000).stream()
        .filter(e -> desat.appliesTo(e.dims())).collect(Collectors.toList());
    assertFalse(readings.isEmpty());
    assertTrue(readings.stream().allMatch(e -> e.valueMap().get("spo2") < 90), desat::toString);

    DemoStream cart = stream(42, "cart");
    Incident spike = first(cart, "abandonment_spike");
    long from = spike.start() + spike.durationMs() / 10;
    long to = spike.end() - spike.durationMs() / 10;
    double hit = mean(events(cart, from, to), spike, true, "abandoned");
    double others = mean(events(cart, from, to), spike, false, "abandoned");
    assertTrue(hit > 0.88 && others < 0.8, "abandoned " + hit + " in " + spike + ", " + others + " elsewhere");

    DemoStream latency = stream(42, "latency");
    Incident slow = first(latency, "latency_spike");
    from = slow.start() + slow.durationMs() / 5;
    to = slow.end() - slow.durationMs() / 5;
    List<Event> during = events(latency, from, to);
    List<Event> before = events(latency, from - 20 * MINUTE, from - 10 * MINUTE);
    double ratio = median(during, slow, "latency_ms") / median(before, slow, "latency_ms");
    assertTrue(ratio > 2.5, "latency x" + ratio + " in " + slow);
  }

  private static Incident first(DemoStream s, String kind) {
    return s.incidents(WEDNESDAY, WEDNESDAY + DAY).stream()
        .filter(i -> i.kind().equals(kind) && i.start() > WEDNESDAY + HOUR).findFirst().orElseThrow();
  }

  private static double mean(List<Event> events, Incident i, boolean hit, String value) {
    return events.stream().filter(e -> i.appliesTo(e.dims()) == hit)
        .mapToDouble(e -> e.valueMap().get(value)).average().orElseThrow();
  }

  private static double median(List<Event> events, Incident i, String value) {
    double[] v = events.stream().filter(e -> i.appliesTo(e.dims()))
        .mapToDouble(e -> e.valueMap().get(value)).sorted().toArray();
    return v[v.length / 2];
  }

  @Test
  @DisplayName("all streams together run at 100-300 events/s at daytime peaks and stay light at night")
  void totalRate() {
    for (long peak : new long[] {WEDNESDAY + 20 * HOUR, WEDNESDAY + 12 * HOUR, SATURDAY + 20 * HOUR}) {
      double rate = totalRate(peak, peak + 2 * MINUTE);
      assertTrue(rate >= 100 && rate <= 300, "peak at " + peak + ": " + rate + "/s");
    }
    double night = totalRate(WEDNESDAY + 4 * HOUR, WEDNESDAY + 4 * HOUR + 2 * MINUTE);
    assertTrue(night >= 20 && night <= 120, "night: " + night + "/s");
  }

  private static double totalRate(long from, long to) {
    long[] n = {0};
    for (DemoStream s : Demo.all(42)) {
      s.generate(from, to, e -> n[0]++);
    }
    return n[0] * 1000.0 / (to - from);
  }

  @Test
  @DisplayName("vitals and pipeline report on their own cadence: each patient once a second, jobs every 2-30 s")
  void cadence() {
    long from = WEDNESDAY + 3 * HOUR + 7 * MINUTE;
    Map<String, Integer> perPatient = new HashMap<>();
    for (Event e : events(stream(11, "vitals"), from, from + MINUTE)) {
      perPatient.merge(e.dims().get("patient"), 1, Integer::sum);
    }
    assertEquals(new TreeSet<>(List.of("p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08")), perPatient.keySet());
    // unless an incident silences it, a job reports every 2 to 30 s
    DemoStream pipeline = stream(11, "pipeline");
    Set<String> jobs = events(pipeline, from, from + 2 * MINUTE).stream()
        .map(e -> e.dims().get("job")).collect(Collectors.toSet());
    Set<String> silenced = pipeline.incidents(from, from + 2 * MINUTE).stream()
        .filter(i -> i.kind().equals("job_silent")).map(i -> i.target().get("job")).collect(Collectors.toSet());
    jobs.addAll(silenced);
    assertEquals(5, jobs.size(), jobs::toString);
    perPatient.values().forEach(n -> assertTrue(n >= 58 && n <= 62, perPatient::toString));
  }
}

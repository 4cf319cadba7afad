package io.pulse.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.event.Dims;
import java.time.LocalDate;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The rhythm, Poisson and incident helpers of the generators. */
class HelpersTest {

  private static final long HOUR = 3_600_000L;
  private static final long MONDAY = LocalDate.of(2025, 11, 17).toEpochDay() * 24 * HOUR;

  @Test
  @DisplayName("Poisson counts have the asked mean and variance, small and large")
  void poisson() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (double mean : new double[] {0.3, 4, 29, 120}) {
      int n = 40_000;
      double sum = 0;
      double sq = 0;
      for (int i = 0; i < n; i++) {
        int k = Poisson.sample(rnd, mean);
        sum += k;
        sq += (double) k * k;
      }
      double m = sum / n;
      double var = sq / n - m * m;
      assertEquals(mean, m, 0.03 * mean + 0.01, "mean at " + mean);
      assertEquals(mean, var, 0.08 * mean + 0.02, "variance at " + mean);
    }
    assertEquals(0, Poisson.sample(rnd, 0));
    assertEquals(0, Poisson.sample(rnd, -1));
    assertEquals(0, Poisson.sample(rnd, Double.NaN));
  }

  @Test
  @DisplayName("the rhythm reads UTC weekdays and hours, and moves smoothly between hours")
  void rhythm() {
    assertEquals(1, Rhythm.dayOfWeek(MONDAY));
    assertEquals(7, Rhythm.dayOfWeek(MONDAY - 1));
    assertEquals(4, Rhythm.dayOfWeek(0)); // 1970-01-01, a Thursday
    assertEquals(13.5, Rhythm.hourOfDay(MONDAY + 13 * HOUR + HOUR / 2), 1e-9);
    double before = Rhythm.CONSUMER.daily(MONDAY + 12 * HOUR - 1);
    double at = Rhythm.CONSUMER.daily(MONDAY + 12 * HOUR);
    assertEquals(at, before, 1e-6);
    assertTrue(Rhythm.CONSUMER.daily(MONDAY + 20 * HOUR) > 5 * Rhythm.CONSUMER.daily(MONDAY + 4 * HOUR));
    assertTrue(Rhythm.BUSINESS.at(MONDAY + 10 * HOUR) > 10 * Rhythm.BUSINESS.at(MONDAY + 5 * 24 * HOUR + 10 * HOUR));
    // a rep eight hours ahead of UTC is in the office at 02:00 UTC
    assertTrue(Rhythm.BUSINESS.at(MONDAY + 2 * HOUR, 8) > 0.8);
    assertThrows(IllegalArgumentException.class, () -> new Rhythm(new double[23], new double[7]));
  }

  @Test
  @DisplayName("an incident applies to the dims it targets and eases in and out")
  void incident() {
    Incident i = new Incident("cart", "abandonment_spike", 1_000, 101_000, Dims.of("region", "eu"), 0.95);
    assertTrue(i.appliesTo(Dims.of("region", "eu", "device", "mobile")));
    assertTrue(!i.appliesTo(Dims.of("region", "us", "device", "mobile")));
    assertTrue(new Incident("cart", "x", 0, 1, Dims.EMPTY, 1).appliesTo(Dims.of("region", "us")));
    assertEquals(0, i.envelope(999, 0.1));
    assertEquals(0.5, i.envelope(5_999, 0.1), 1e-9);
    assertEquals(1, i.envelope(51_000, 0.1));
    assertEquals(0, i.envelope(101_000, 0.1));
    assertTrue(i.overlaps(100_999, 200_000) && !i.overlaps(101_000, 200_000));
  }

  @Test
  @DisplayName("the end of a quarter is its last seven days, and quarter progress runs from 0 to 1")
  void quarter() {
    long day = 24 * HOUR;
    assertTrue(SalesStream.quarterEnd(LocalDate.of(2025, 12, 31).toEpochDay() * day));
    assertTrue(SalesStream.quarterEnd(LocalDate.of(2025, 9, 24).toEpochDay() * day));
    assertTrue(!SalesStream.quarterEnd(LocalDate.of(2025, 9, 23).toEpochDay() * day));
    assertTrue(!SalesStream.quarterEnd(LocalDate.of(2025, 11, 30).toEpochDay() * day));
    assertEquals(0, SalesStream.quarterProgress(LocalDate.of(2025, 10, 1).toEpochDay() * day), 1e-9);
    assertEquals(0.5, SalesStream.quarterProgress(LocalDate.of(2025, 11, 16).toEpochDay() * day), 0.01);
    assertTrue(SalesStream.quarterProgress(LocalDate.of(2026, 1, 1).toEpochDay() * day - 1) > 0.999);
  }
}

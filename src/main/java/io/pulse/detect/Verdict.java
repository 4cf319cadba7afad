package io.pulse.detect;

/**
 * One scored observation.
 *
 * @param score anomaly score in [0, 1]; NaN while the detector warms up
 * @param expected the value the detector expected (seasonal mean or recent median)
 * @param low lower edge of the expected band (values inside score below the alert level on the
 *     level test)
 * @param high upper edge of the expected band
 * @param deviation the robust z of the method that fired (signed: negative for a dip); for
 *     "extreme", the value's robust z from the expected one
 * @param method the test with the largest share of the score: "level", "seasonal", "change",
 *     "level-shift", "volatility", "drift" or "slow-drift"; "extreme" when the value lies past the
 *     series' all-time range and that alone made it alert ("warming" while warming up, "invalid"
 *     for a value that is not a finite number)
 * @param warm false while warming up
 */
public record Verdict(double score, double expected, double low, double high, double deviation,
    String method, boolean warm) {

  /** Whether this verdict reaches the given alert level (never while warming). */
  public boolean alerts(double level) {
    return warm && score >= level;
  }
}

package io.pulse.agg;

/**
 * How anomalous one rollup is, and why: the watched figure of the series that scored highest in
 * its window, with the detector's expectation for it. Attached to rollups by the scoring step
 * after the window is rolled up; absent (null) while the series' detector warms up.
 *
 * @param score in [0, 1]; the series' anomaly score for the window (API.md {@code score})
 * @param figure the watched figure that scored it: {@code count}, or {@code value.figure} such as
 *     {@code amount.mean}
 * @param value that figure's value in this window
 * @param expected what the detector expected for it
 * @param low the lower edge of the expected band
 * @param high the upper edge of the expected band
 * @param deviation how far off, in the detector's robust units (signed)
 * @param method the detector method that gave the score
 */
public record Anomaly(double score, String figure, double value, double expected, double low, double high,
    double deviation, String method) {
}

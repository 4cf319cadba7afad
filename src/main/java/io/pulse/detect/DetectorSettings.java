package io.pulse.detect;

/**
 * Settings of a {@link SeriesDetector}. One set of values serves every series: nothing here is a
 * threshold on the series' own values, the detector learns those.
 *
 * @param sensitivity 0..1, how readily high scores come (0.5 is the default everywhere). Higher
 *     means a deviation needs to beat the series' recent record by less before it scores high.
 * @param alertLevel the score at and above which a server should alert by default (0.9)
 */
public record DetectorSettings(double sensitivity, double alertLevel) {

  /** The default sensitivity. */
  public static final double DEFAULT_SENSITIVITY = 0.5;
  /** The default alert level: a score at or above it is an anomaly worth telling someone about. */
  public static final double DEFAULT_ALERT_LEVEL = 0.9;

  public DetectorSettings {
    if (!(sensitivity >= 0 && sensitivity <= 1)) {
      throw new IllegalArgumentException("sensitivity must be in [0, 1], not " + sensitivity);
    }
    if (!(alertLevel > 0 && alertLevel < 1)) {
      throw new IllegalArgumentException("alertLevel must be in (0, 1), not " + alertLevel);
    }
  }

  public static DetectorSettings defaults() {
    return new DetectorSettings(DEFAULT_SENSITIVITY, DEFAULT_ALERT_LEVEL);
  }

  public DetectorSettings withSensitivity(double s) {
    return new DetectorSettings(s, alertLevel);
  }
}

package io.pulse.core;

/**
 * What a display token (a wallboard's read-only, long-lived token) is bound to: one dashboard or
 * one playlist. A caller with a binding reads only that dashboard (or the playlist and its
 * dashboards) and the streams their panels name, and never writes.
 *
 * @param kind "dashboard" or "playlist"
 * @param id the dashboard's or playlist's id
 */
public record DisplayBinding(String kind, String id) {
  public DisplayBinding {
    if (!"dashboard".equals(kind) && !"playlist".equals(kind)) {
      throw new IllegalArgumentException("a display is bound to a dashboard or a playlist");
    }
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("a display binding names its dashboard or playlist");
    }
  }
}

package io.pulse.alert;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Rules for the demo's streams (io.pulse.demo), one for each kind of injected incident, so a new
 * user sees alerts fire: a pipeline job that goes silent, a burst of payment outliers, a vital sign
 * out of range, a checkout region that drops, latency and errors of a service. Plain documents as
 * {@code POST /api/v1/rules} takes them (with their ids); installing them for a tenant running the
 * demo is the server's choice. Levels come from the generators' normal ranges (see each stream's
 * class); the anomaly and outlier rules need the detector and the event scoring switched on.
 */
public final class DemoRules {

  private DemoRules() {
  }

  /** The rule documents, each with its {@code id}. */
  public static List<JsonObject> all() {
    return List.of(
        // jobs report every 2 s to 30 s; "slow_runs" keeps one run in three, so 2 min of silence is an outage
        rule("demo-pipeline-silent", "{\"name\":\"pipeline job silent\",\"stream\":\"pipeline\",\"kind\":\"absence\","
            + "\"absentFor\":\"2m\",\"groupBy\":[\"job\"],\"severity\":\"critical\",\"labels\":{\"team\":\"data\"}}"),
        rule("demo-pipeline-errors", "{\"name\":\"pipeline job failing\",\"stream\":\"pipeline\",\"kind\":\"threshold\","
            + "\"metric\":\"errors\",\"figure\":\"max\",\"op\":\">\",\"value\":25,\"groupBy\":[\"job\"],"
            + "\"keepFiringFor\":\"1m\",\"severity\":\"warning\",\"labels\":{\"team\":\"data\"}}"),
        rule("demo-payments-outliers", "{\"name\":\"payment outliers\",\"stream\":\"payments\",\"kind\":\"outliers\","
            + "\"op\":\">=\",\"value\":3,\"groupBy\":[\"region\"],\"keepFiringFor\":\"30s\",\"severity\":\"critical\","
            + "\"labels\":{\"team\":\"payments\"}}"),
        rule("demo-vitals-tachycardia", "{\"name\":\"tachycardia\",\"stream\":\"vitals\",\"kind\":\"threshold\","
            + "\"metric\":\"heart_rate\",\"figure\":\"mean\",\"op\":\">\",\"value\":120,\"clear\":110,\"for\":\"20s\","
            + "\"groupBy\":[\"patient\",\"ward\"],\"severity\":\"critical\",\"labels\":{\"team\":\"ward\"}}"),
        rule("demo-vitals-desaturation", "{\"name\":\"SpO2 low\",\"stream\":\"vitals\",\"kind\":\"threshold\","
            + "\"metric\":\"spo2\",\"figure\":\"mean\",\"op\":\"<\",\"value\":90,\"clear\":93,\"for\":\"20s\","
            + "\"groupBy\":[\"patient\",\"ward\"],\"severity\":\"critical\",\"labels\":{\"team\":\"ward\"}}"),
        rule("demo-vitals-fever", "{\"name\":\"fever\",\"stream\":\"vitals\",\"kind\":\"threshold\","
            + "\"metric\":\"temp_c\",\"figure\":\"mean\",\"op\":\">=\",\"value\":38.3,\"clear\":37.8,\"for\":\"1m\","
            + "\"groupBy\":[\"patient\",\"ward\"],\"severity\":\"warning\",\"labels\":{\"team\":\"ward\"}}"),
        rule("demo-checkout-anomaly", "{\"name\":\"checkout traffic unusual\",\"stream\":\"checkout\","
            + "\"kind\":\"anomaly\",\"groupBy\":[\"region\"],\"for\":\"30s\",\"severity\":\"warning\","
            + "\"labels\":{\"team\":\"shop\"}}"),
        rule("demo-latency-p95", "{\"name\":\"service slow\",\"stream\":\"latency\",\"kind\":\"threshold\","
            + "\"metric\":\"latency_ms\",\"figure\":\"p95\",\"op\":\">\",\"value\":1500,\"clear\":1200,\"for\":\"20s\","
            + "\"keepFiringFor\":\"30s\","
            + "\"groupBy\":[\"service\"],\"severity\":\"warning\",\"labels\":{\"team\":\"platform\"}}"),
        rule("demo-latency-errors", "{\"name\":\"service errors\",\"stream\":\"latency\",\"kind\":\"threshold\","
            + "\"metric\":\"error\",\"figure\":\"mean\",\"op\":\">\",\"value\":0.15,\"clear\":0.1,\"for\":\"20s\","
            + "\"keepFiringFor\":\"20s\","
            + "\"groupBy\":[\"service\"],\"severity\":\"critical\",\"labels\":{\"team\":\"platform\"}}"));
  }

  private static JsonObject rule(String id, String json) {
    return new JsonObject(json).put("id", id);
  }
}

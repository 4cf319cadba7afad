package io.pulse.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.k8s.ManifestChecks.Doc;
import io.pulse.testing.TestPulse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The Kubernetes manifests under k8s/ hold together and fit the Pulse they run: every file parses,
 * selectors select the pods, every ConfigMap, Secret, Service and scale target they name is there
 * with the keys named, the probes' paths answer 200 on a real Pulse on the port PULSE_HTTP_PORT says,
 * every PULSE_* variable is one Pulse reads and the whole environment is a configuration it accepts,
 * and the image is the one the build makes. The checks themselves live in {@link ManifestChecks};
 * each is shown failing on a broken manifest below.
 */
class ManifestsTest {

  private static final Path K8S = Path.of("k8s");

  /**
   * PULSE_* names Pulse reads: PulseConfig's environment map, PULSE_CONFIG (read by load itself), and
   * the cluster names of issue 15's contract, allowed here explicitly until PulseConfig maps them all
   * (PULSE_KAFKA_CLIENT_* is a prefix: every property of the Kafka clients).
   */
  static final Predicate<String> KNOWN_ENV = name -> PulseConfig.ENV.containsKey(name)
      || name.equals("PULSE_CONFIG")
      || ManifestChecks.KAFKA_ENV.containsKey(name)
      || (name.startsWith("PULSE_KAFKA_CLIENT_") && name.length() > "PULSE_KAFKA_CLIENT_".length());

  @Test
  @DisplayName("every manifest under k8s/ parses, and each shape (a file, or a folder) holds together")
  void manifestsHoldTogether() throws Exception {
    Map<String, List<Doc>> shapes = ManifestChecks.shapes(K8S);
    assertTrue(shapes.containsKey("pulse.yaml"), "the single-node manifest: " + shapes.keySet());
    assertTrue(shapes.containsKey("cluster"), "the cluster shape: " + shapes.keySet());
    long files;
    try (var s = Files.walk(K8S)) {
      files = s.filter(ManifestChecks::isYaml).count();
    }
    long parsedFiles = shapes.values().stream().flatMap(List::stream)
        .map(d -> d.source().substring(0, d.source().lastIndexOf('#'))).distinct().count();
    assertEquals(files, parsedFiles, "every YAML file under k8s/ has at least one object");
    String image = jibImage();
    List<String> problems = new ArrayList<>();
    shapes.forEach((shape, docs) -> ManifestChecks.check(docs, KNOWN_ENV, image)
        .forEach(p -> problems.add(shape + ": " + p)));
    assertEquals(List.of(), problems);
  }

  @Test
  @DisplayName("the cluster shape has what issue 15 asks: replicas, PDB, probes, Service, Ingress, scaling on lag")
  void clusterShapeIsComplete() {
    List<Doc> cluster = ManifestChecks.shapes(K8S).get("cluster");
    Set<String> kinds = new TreeSet<>();
    cluster.forEach(d -> kinds.add(d.kind()));
    assertTrue(kinds.containsAll(Set.of("Deployment", "Service", "PodDisruptionBudget", "Ingress", "ConfigMap",
        "Secret", "ScaledObject", "TriggerAuthentication", "HorizontalPodAutoscaler")), kinds.toString());
    Doc deployment = cluster.stream().filter(d -> d.kind().equals("Deployment")).findFirst().orElseThrow();
    assertTrue(((Number) ManifestChecks.at(deployment.body(), "spec", "replicas")).intValue() >= 3);
    Doc ingress = cluster.stream().filter(d -> d.kind().equals("Ingress")).findFirst().orElseThrow();
    Map<String, Object> a = ManifestChecks.map(ManifestChecks.at(ingress.body(), "metadata", "annotations"));
    assertEquals("off", a.get("nginx.ingress.kubernetes.io/proxy-buffering"));
    assertTrue(Integer.parseInt((String) a.get("nginx.ingress.kubernetes.io/proxy-read-timeout")) >= 3600);
    assertTrue(Integer.parseInt((String) a.get("nginx.ingress.kubernetes.io/proxy-send-timeout")) >= 3600);
    // /metrics (it names tenants and streams) is not open to the world through the Ingress
    assertTrue(cluster.stream().filter(d -> d.kind().equals("Ingress")).anyMatch(d ->
        ManifestChecks.map(ManifestChecks.at(d.body(), "metadata", "annotations"))
            .containsKey("nginx.ingress.kubernetes.io/whitelist-source-range")
        && d.body().toString().contains("path=/metrics")), "an Ingress closes /metrics");
    Doc scaled = cluster.stream().filter(d -> d.kind().equals("ScaledObject")).findFirst().orElseThrow();
    Map<String, Object> trigger = ManifestChecks.map(
        ManifestChecks.list(ManifestChecks.at(scaled.body(), "spec", "triggers")).get(0));
    assertEquals("kafka", trigger.get("type"));
    assertEquals("pulse", ManifestChecks.at(trigger, "metadata", "consumerGroup"));
    assertEquals("pulse.events", ManifestChecks.at(trigger, "metadata", "topic"));
  }

  @Test
  @DisplayName("every probe and scrape path of the manifests answers 200 on a real Pulse")
  void probePathsAreServed() {
    Set<String> paths = new TreeSet<>();
    ManifestChecks.shapes(K8S).values().forEach(docs -> paths.addAll(ManifestChecks.servedPaths(docs)));
    assertTrue(paths.containsAll(Set.of("/health/live", "/health/ready", "/metrics")), paths.toString());
    try (TestPulse pulse = TestPulse.start(null)) {
      for (String p : paths) {
        assertEquals(200, pulse.get(p).status(), p);
      }
      assertEquals(404, pulse.get("/health/alive").status(), "a path Pulse does not serve is not 200");
    }
  }

  @Test
  @DisplayName("the manifests run the image Jib builds (pom.xml's to.image)")
  void imageAgreesWithJib() throws Exception {
    String jib = jibImage();
    assertEquals("pulse", jib);
    Set<String> images = new TreeSet<>();
    ManifestChecks.shapes(K8S).values().forEach(docs -> images.addAll(ManifestChecks.images(docs)));
    assertEquals(1, images.size(), "one image across the manifests: " + images);
    assertEquals(ManifestChecks.normalizeImage(jib), ManifestChecks.normalizeImage(images.iterator().next()));
  }

  // ---------------------------------------------------------------- each check failing on a broken manifest

  /** A small shape that passes every check; the tests below break one thing of it at a time. */
  static final String GOOD = """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: cfg, namespace: ns}
      data:
        PULSE_HTTP_PORT: "8080"
        PULSE_KAFKA_BOOTSTRAP: "kafka:9092"
        PULSE_KAFKA_GROUP: "pulse"
        PULSE_KAFKA_EVENTS_TOPIC: "pulse.events"
        PULSE_AUTH_PUBLIC_KEY_FILE: /keys/public.pem
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: db, namespace: ns}
      stringData: {url: "postgres://u:p@pg:5432/pulse"}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: keys, namespace: ns}
      data: {public.pem: UEVN}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: kafka, namespace: ns}
      stringData: {PULSE_KAFKA_CLIENT_SECURITY_PROTOCOL: SASL_SSL, sasl: plaintext}
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: pulse, namespace: ns}
      spec:
        replicas: 3
        selector: {matchLabels: {app: pulse}}
        template:
          metadata:
            labels: {app: pulse, tier: web}
            annotations: {prometheus.io/port: "8080"}
          spec:
            terminationGracePeriodSeconds: 45
            containers:
              - name: pulse
                image: pulse:latest
                envFrom:
                  - configMapRef: {name: cfg}
                  - secretRef: {name: kafka}
                env:
                  - name: PULSE_PG_URL
                    valueFrom: {secretKeyRef: {name: db, key: url}}
                ports: [{name: http, containerPort: 8080}]
                livenessProbe: {httpGet: {path: /health/live, port: http}}
                readinessProbe: {httpGet: {path: /health/ready, port: 8080}}
                lifecycle: {preStop: {sleep: {seconds: 10}}}
                volumeMounts: [{name: keys, mountPath: /keys}]
            volumes:
              - name: keys
                secret: {secretName: keys, items: [{key: public.pem, path: public.pem}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: pulse, namespace: ns}
      spec:
        selector: {app: pulse}
        ports: [{name: http, port: 80, targetPort: http}]
      ---
      apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: {name: pulse, namespace: ns}
      spec: {maxUnavailable: 1, selector: {matchLabels: {app: pulse}}}
      ---
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: pulse, namespace: ns}
      spec:
        rules:
          - http:
              paths:
                - {path: /, pathType: Prefix, backend: {service: {name: pulse, port: {name: http}}}}
      ---
      apiVersion: keda.sh/v1alpha1
      kind: ScaledObject
      metadata: {name: pulse, namespace: ns}
      spec:
        scaleTargetRef: {name: pulse}
        minReplicaCount: 3
        maxReplicaCount: 12
        triggers:
          - type: kafka
            metadata: {bootstrapServersFromEnv: PULSE_KAFKA_BOOTSTRAP, consumerGroup: pulse, topic: pulse.events}
            authenticationRef: {name: kafka}
      ---
      apiVersion: keda.sh/v1alpha1
      kind: TriggerAuthentication
      metadata: {name: kafka, namespace: ns}
      spec:
        secretTargetRef: [{parameter: sasl, name: kafka, key: sasl}]
      """;

  private static List<String> problems(String yaml) {
    return ManifestChecks.check(ManifestChecks.parse("test.yaml", yaml), KNOWN_ENV, "pulse");
  }

  /** {@code GOOD} with {@code from} replaced by {@code to} (which must be there) yields a problem containing {@code expect}. */
  private static void broken(String from, String to, String expect) {
    assertTrue(GOOD.contains(from), "the good manifest has " + from);
    List<String> p = problems(GOOD.replace(from, to));
    assertTrue(p.stream().anyMatch(s -> s.contains(expect)), "expected a problem with '" + expect + "', got " + p);
  }

  @Test
  @DisplayName("the good example passes every check")
  void goodExamplePasses() {
    assertEquals(List.of(), problems(GOOD));
  }

  @Test
  @DisplayName("selectors that miss the pod labels are found (Deployment, Service, PDB)")
  void selectorsMustMatch() {
    broken("selector: {matchLabels: {app: pulse}}\n  template", "selector: {matchLabels: {app: pulsar}}\n  template",
        "does not match its pod template's labels");
    broken("selector: {app: pulse}\n  ports", "selector: {app: web}\n  ports", "selects no pod template");
    broken("spec: {maxUnavailable: 1, selector: {matchLabels: {app: pulse}}}",
        "spec: {maxUnavailable: 1, selector: {matchLabels: {tier: db}}}", "selects no pod template");
  }

  @Test
  @DisplayName("a scale target, authentication or backend that is not there is found")
  void scaleTargetsAndBackendsMustExist() {
    broken("scaleTargetRef: {name: pulse}", "scaleTargetRef: {name: pulse-api}", "names Deployment pulse-api");
    broken("authenticationRef: {name: kafka}", "authenticationRef: {name: kafka-auth}",
        "names TriggerAuthentication kafka-auth");
    broken("backend: {service: {name: pulse, port: {name: http}}}", "backend: {service: {name: pulse, port: {name: web}}}",
        "backend port web is not a port of Service pulse");
    broken("targetPort: http", "targetPort: metrics", "targetPort metrics is no container port");
  }

  @Test
  @DisplayName("a ConfigMap, Secret or key that is not there is found (envFrom, valueFrom, volumes, TriggerAuthentication)")
  void referencesMustExist() {
    broken("configMapRef: {name: cfg}", "configMapRef: {name: config}", "names ConfigMap config");
    broken("secretRef: {name: kafka}", "secretRef: {name: kafka-client}", "names Secret kafka-client");
    broken("secretKeyRef: {name: db, key: url}", "secretKeyRef: {name: db, key: uri}", "names key uri");
    broken("secretKeyRef: {name: db, key: url}", "secretKeyRef: {name: pg, key: url}", "names Secret pg");
    broken("secret: {secretName: keys,", "secret: {secretName: jwt,", "names Secret jwt");
    broken("items: [{key: public.pem,", "items: [{key: pub.pem,", "mounts key pub.pem");
    broken("{parameter: sasl, name: kafka, key: sasl}", "{parameter: sasl, name: kafka, key: mechanism}",
        "names key mechanism");
    // the same name in another namespace is not the object
    broken("metadata: {name: db, namespace: ns}", "metadata: {name: db, namespace: other}", "names Secret db");
  }

  @Test
  @DisplayName("probes on a port Pulse does not listen on, or a containerPort other than PULSE_HTTP_PORT, are found")
  void portsMustAgree() {
    broken("PULSE_HTTP_PORT: \"8080\"", "PULSE_HTTP_PORT: \"9090\"", "no containerPort is PULSE_HTTP_PORT 9090");
    broken("readinessProbe: {httpGet: {path: /health/ready, port: 8080}}",
        "readinessProbe: {httpGet: {path: /health/ready, port: 8081}}", "readinessProbe port 8081 is not a port");
    broken("livenessProbe: {httpGet: {path: /health/live, port: http}}", "livenessProbe: {exec: {command: [true]}}",
        "no livenessProbe over HTTP");
    broken("prometheus.io/port: \"8080\"", "prometheus.io/port: \"9100\"", "prometheus.io/port 9100");
  }

  @Test
  @DisplayName("a PULSE_* variable Pulse does not read, or a value it refuses, is found")
  void environmentMustBePulses() {
    broken("PULSE_HTTP_PORT: \"8080\"", "PULSE_HTTP_PORT: \"8080\"\n  PULSE_HTTP_PROT: \"8080\"",
        "PULSE_HTTP_PROT is not a variable Pulse reads");
    broken("PULSE_KAFKA_CLIENT_SECURITY_PROTOCOL", "PULSE_KAFKA_CLIENTS", "PULSE_KAFKA_CLIENTS is not a variable");
    broken("PULSE_HTTP_PORT: \"8080\"", "PULSE_HTTP_PORT: \"8080\"\n  PULSE_PG_SSL_MODE: \"strict\"",
        "Pulse refuses this configuration");
    broken("PULSE_AUTH_PUBLIC_KEY_FILE: /keys/public.pem", "PULSE_AUTH_PUBLIC_KEY_FILE: /keys/pub.pem",
        "names no file mounted");
    broken("valueFrom: {secretKeyRef: {name: db, key: url}}", "value: \"postgres://u:p@pg:5432/pulse\"",
        "PULSE_PG_URL (with its password) must come from a Secret");
  }

  @Test
  @DisplayName("an image other than the build's, a short grace period, a PVC or one replica in cluster mode are found")
  void clusterRulesHold() {
    broken("image: pulse:latest", "image: pulse:0.9", "is not the image the build makes");
    broken("terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 25", "terminationGracePeriodSeconds 25");
    broken("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {}", "no preStop");
    broken("replicas: 3", "replicas: 1", "cluster mode with 1 replica");
    broken("volumes:\n", "volumes:\n        - {name: data, persistentVolumeClaim: {claimName: pulse-data}}\n",
        "is a PersistentVolumeClaim");
    broken("consumerGroup: pulse,", "consumerGroup: pulse-workers,", "is not the pods' PULSE_KAFKA_GROUP");
    broken("topic: pulse.events}", "topic: events}", "is not the pods' PULSE_KAFKA_EVENTS_TOPIC");
    broken("maxReplicaCount: 12", "maxReplicaCount: 20", "only 12 partitions");
    broken("bootstrapServersFromEnv: PULSE_KAFKA_BOOTSTRAP", "bootstrapServersFromEnv: KAFKA_BOOTSTRAP",
        "bootstrapServersFromEnv KAFKA_BOOTSTRAP is not set");
  }

  @Test
  @DisplayName("a document that is not a mapping, or lacks kind or name, is found")
  void malformedDocuments() {
    assertThrows(IllegalArgumentException.class, () -> ManifestChecks.parse("x.yaml", "- a\n- b\n"));
    assertFalse(problems("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").isEmpty());
  }

  @Test
  @DisplayName("the names Pulse reads come from PulseConfig; contract names are allowed; others are not")
  void knownEnvironment() {
    assertTrue(KNOWN_ENV.test("PULSE_PG_URL"));
    assertTrue(KNOWN_ENV.test("PULSE_KAFKA_BOOTSTRAP"));
    assertTrue(KNOWN_ENV.test("PULSE_KAFKA_CLIENT_SASL_JAAS_CONFIG"));
    assertFalse(KNOWN_ENV.test("PULSE_KAFKA_CLIENT_"));
    assertFalse(KNOWN_ENV.test("PULSE_PG_PASSWORD"));
  }

  /** Jib's {@code to.image} in pom.xml. */
  static String jibImage() throws Exception {
    var dbf = DocumentBuilderFactory.newInstance();
    var pom = dbf.newDocumentBuilder().parse(Path.of("pom.xml").toFile());
    NodeList plugins = pom.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element p = (Element) plugins.item(i);
      NodeList ids = p.getElementsByTagName("artifactId");
      if (ids.getLength() > 0 && ids.item(0).getTextContent().trim().equals("jib-maven-plugin")) {
        NodeList to = p.getElementsByTagName("to");
        if (to.getLength() > 0) {
          return ((Element) to.item(0)).getElementsByTagName("image").item(0).getTextContent().trim();
        }
      }
    }
    throw new AssertionError("no jib-maven-plugin with <to><image> in pom.xml");
  }
}

package io.pulse.k8s;

import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What can be checked of Kubernetes manifests without a cluster: the objects of one "shape" (a file
 * directly under k8s/, or every file of one folder under it, such as k8s/cluster/) must hold together.
 * {@link #check} returns the problems found, one readable line each (empty: none), so that the test
 * of the real manifests and the tests of broken ones use the same code.
 */
final class ManifestChecks {

  /** The contract's cluster names (cluster-contract.md) that PulseConfig may not map yet, and their defaults. */
  static final Map<String, String> KAFKA_ENV = Map.of(
      "PULSE_KAFKA_BOOTSTRAP", "",
      "PULSE_KAFKA_EVENTS_TOPIC", "pulse.events",
      "PULSE_KAFKA_OUTPUT_TOPIC", "pulse.output",
      "PULSE_KAFKA_GROUP", "pulse",
      "PULSE_KAFKA_PARTITIONS", "12",
      "PULSE_KAFKA_SOURCE_TOPICS", "",
      "PULSE_KAFKA_SOURCE_TENANT", "default");

  /** How long Pulse's graceful stop may take after SIGTERM (cluster-contract.md: "up to ~20 s"). */
  static final int GRACEFUL_STOP_SECONDS = 20;

  private static final Set<String> WORKLOADS = Set.of("Deployment", "StatefulSet", "DaemonSet");

  /** One YAML document of a manifest file. */
  record Doc(String source, Map<String, Object> body) {

    String kind() {
      return str(body.get("kind"));
    }

    String name() {
      return str(at(body, "metadata", "name"));
    }

    String namespace() {
      String ns = str(at(body, "metadata", "namespace"));
      return ns == null ? "default" : ns;
    }

    String where() {
      return kind() + " " + namespace() + "/" + name() + " (" + source + ")";
    }
  }

  private final List<Doc> docs;
  private final Predicate<String> knownEnv;
  private final String expectedImage;
  private final List<String> problems = new ArrayList<>();

  private ManifestChecks(List<Doc> docs, Predicate<String> knownEnv, String expectedImage) {
    this.docs = docs;
    this.knownEnv = knownEnv;
    this.expectedImage = expectedImage;
  }

  // ---------------------------------------------------------------- loading

  /** Every document of a multi-document YAML text (empty documents skipped); a non-object document is an error. */
  static List<Doc> parse(String source, String yaml) {
    List<Doc> out = new ArrayList<>();
    Yaml parser = new Yaml(new SafeConstructor(new LoaderOptions()));
    int i = 0;
    for (Object o : parser.loadAll(yaml)) {
      i++;
      if (o == null) {
        continue;
      }
      if (!(o instanceof Map)) {
        throw new IllegalArgumentException(source + " document " + i + " is not a YAML mapping");
      }
      out.add(new Doc(source + "#" + i, map(o)));
    }
    return out;
  }

  /** The shapes under {@code root}: each top-level file, and each top-level folder with everything under it. */
  static Map<String, List<Doc>> shapes(Path root) {
    Map<String, List<Doc>> shapes = new TreeMap<>();
    try (Stream<Path> top = Files.list(root)) {
      for (Path p : top.sorted().toList()) {
        String shape = root.relativize(p).toString();
        List<Doc> docs = new ArrayList<>();
        try (Stream<Path> files = Files.walk(p)) {
          for (Path f : files.filter(ManifestChecks::isYaml).sorted().toList()) {
            docs.addAll(parse(root.relativize(f).toString(), Files.readString(f)));
          }
        }
        if (!docs.isEmpty()) {
          shapes.put(shape, docs);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return shapes;
  }

  static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".yaml") || n.endsWith(".yml"));
  }

  // ---------------------------------------------------------------- the checks

  /**
   * The problems of one shape.
   *
   * @param knownEnv whether a PULSE_* variable name is one Pulse reads
   * @param expectedImage the image the build makes (Jib's to.image), every container must run it
   */
  static List<String> check(List<Doc> docs, Predicate<String> knownEnv, String expectedImage) {
    ManifestChecks c = new ManifestChecks(docs, knownEnv, expectedImage);
    c.run();
    return c.problems;
  }

  private void run() {
    for (Doc d : docs) {
      if (d.kind() == null || str(d.body.get("apiVersion")) == null || d.name() == null) {
        problem(d.source + ": a document without apiVersion, kind or metadata.name");
      }
    }
    for (Doc d : docs) {
      switch (String.valueOf(d.kind())) {
        case "Deployment", "StatefulSet", "DaemonSet" -> workload(d);
        case "Service" -> service(d);
        case "PodDisruptionBudget" -> selectsPods(d, map(at(d.body, "spec", "selector", "matchLabels")), "selector");
        case "Ingress" -> ingress(d);
        case "ScaledObject" -> scaledObject(d);
        case "HorizontalPodAutoscaler" -> hpa(d);
        case "TriggerAuthentication" -> triggerAuthentication(d);
        default -> { }
      }
    }
  }

  private void workload(Doc d) {
    Map<String, Object> spec = map(d.body.get("spec"));
    Map<String, Object> podLabels = map(at(spec, "template", "metadata", "labels"));
    Map<String, Object> selector = map(at(spec, "selector", "matchLabels"));
    if (selector.isEmpty()) {
      problem(d.where() + ": spec.selector.matchLabels is empty");
    } else if (!matches(selector, podLabels)) {
      problem(d.where() + ": spec.selector " + selector + " does not match its pod template's labels " + podLabels);
    }
    Map<String, Object> pod = map(at(spec, "template", "spec"));
    for (Object tsc : list(pod.get("topologySpreadConstraints"))) {
      Map<String, Object> sel = map(at(map(tsc), "labelSelector", "matchLabels"));
      if (!matches(sel, podLabels)) {
        problem(d.where() + ": a topologySpreadConstraint's labelSelector " + sel + " does not select its own pods");
      }
    }
    for (String kind : List.of("podAntiAffinity", "podAffinity")) {
      Map<String, Object> aff = map(at(pod, "affinity", kind));
      List<Object> terms = new ArrayList<>(list(aff.get("requiredDuringSchedulingIgnoredDuringExecution")));
      for (Object w : list(aff.get("preferredDuringSchedulingIgnoredDuringExecution"))) {
        terms.add(map(w).get("podAffinityTerm"));
      }
      for (Object t : terms) {
        Map<String, Object> sel = map(at(map(t), "labelSelector", "matchLabels"));
        if (kind.equals("podAntiAffinity") && !matches(sel, podLabels)) {
          problem(d.where() + ": the podAntiAffinity labelSelector " + sel + " does not select its own pods");
        }
      }
    }
    for (Object o : list(pod.get("imagePullSecrets"))) {
      needObject(d, "Secret", str(map(o).get("name")), null, "imagePullSecrets");
    }
    Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
    for (Object o : list(pod.get("volumes"))) {
      Map<String, Object> v = map(o);
      volumes.put(str(v.get("name")), v);
      volumeReferences(d, v);
    }
    boolean clustered = false;
    for (Object o : list(pod.get("containers"))) {
      Map<String, Object> c = map(o);
      Map<String, String> env = container(d, pod, c, volumes);
      clustered |= !env.getOrDefault("PULSE_KAFKA_BOOTSTRAP", "").isBlank();
    }
    if (clustered) {
      for (Map<String, Object> v : volumes.values()) {
        if (v.containsKey("persistentVolumeClaim")) {
          problem(d.where() + ": cluster mode (PULSE_KAFKA_BOOTSTRAP) is stateless, but volume " + v.get("name")
              + " is a PersistentVolumeClaim");
        }
      }
      if (!d.kind().equals("DaemonSet") && asInt(spec.get("replicas"), 1) < 2) {
        problem(d.where() + ": cluster mode with " + asInt(spec.get("replicas"), 1) + " replica");
      }
    }
  }

  /** Checks one container; returns its environment as Pulse would see it (ConfigMaps and Secrets resolved). */
  private Map<String, String> container(Doc d, Map<String, Object> pod, Map<String, Object> c,
      Map<String, Map<String, Object>> volumes) {
    String cname = d.where() + " container " + c.get("name");
    String image = str(c.get("image"));
    if (expectedImage != null && !Objects.equals(normalizeImage(image), normalizeImage(expectedImage))) {
      problem(cname + ": image " + image + " is not the image the build makes (" + expectedImage + ")");
    }
    // the environment: envFrom first, env over it (Kubernetes' order)
    Map<String, String> env = new LinkedHashMap<>();
    Set<String> setFromSecrets = new LinkedHashSet<>();
    for (Object o : list(c.get("envFrom"))) {
      Map<String, Object> ef = map(o);
      String prefix = Objects.requireNonNullElse(str(ef.get("prefix")), "");
      for (String kind : List.of("ConfigMap", "Secret")) {
        Map<String, Object> ref = map(ef.get(kind.equals("ConfigMap") ? "configMapRef" : "secretRef"));
        if (ref.isEmpty()) {
          continue;
        }
        Doc target = needObject(d, kind, str(ref.get("name")), ref.get("optional"), "envFrom");
        if (target != null) {
          for (Map.Entry<String, String> e : data(target).entrySet()) {
            env.put(prefix + e.getKey(), e.getValue());
          }
        }
      }
    }
    for (Object o : list(c.get("env"))) {
      Map<String, Object> e = map(o);
      String name = str(e.get("name"));
      Map<String, Object> from = map(e.get("valueFrom"));
      if (from.isEmpty()) {
        env.put(name, Objects.requireNonNullElse(str(e.get("value")), ""));
        continue;
      }
      for (String kind : List.of("ConfigMap", "Secret")) {
        Map<String, Object> ref = map(from.get(kind.equals("ConfigMap") ? "configMapKeyRef" : "secretKeyRef"));
        if (ref.isEmpty()) {
          continue;
        }
        String value = needKey(d, kind, str(ref.get("name")), str(ref.get("key")), ref.get("optional"),
            "env " + name);
        env.put(name, Objects.requireNonNullElse(value, ""));
        if (kind.equals("Secret")) {
          setFromSecrets.add(name);
        }
      }
    }
    for (String name : env.keySet()) {
      if (name.startsWith("PULSE_") && !knownEnv.test(name)) {
        problem(cname + ": " + name + " is not a variable Pulse reads (PulseConfig.ENV)");
      }
    }
    if (env.containsKey("PULSE_PG_URL") && !setFromSecrets.contains("PULSE_PG_URL")) {
      problem(cname + ": PULSE_PG_URL (with its password) must come from a Secret (valueFrom.secretKeyRef)");
    }
    // ports and probes
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (Object o : list(c.get("ports"))) {
      Map<String, Object> p = map(o);
      int n = asInt(p.get("containerPort"), -1);
      ports.put(str(p.get("name")) == null ? String.valueOf(n) : str(p.get("name")), n);
    }
    int httpPort = asInt(env.get("PULSE_HTTP_PORT"), 8080);
    boolean pulse = env.keySet().stream().anyMatch(k -> k.startsWith("PULSE_"));
    if (pulse && !ports.containsValue(httpPort)) {
      problem(cname + ": no containerPort is PULSE_HTTP_PORT " + httpPort + " (ports " + ports + ")");
    }
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      Map<String, Object> get = map(at(c, probe, "httpGet"));
      if (get.isEmpty()) {
        if (pulse && !probe.equals("startupProbe")) {
          problem(cname + ": no " + probe + " over HTTP");
        }
        continue;
      }
      Integer port = resolvePort(get.get("port"), ports);
      if (port == null) {
        problem(cname + ": " + probe + " port " + get.get("port") + " is not a port of the container " + ports);
      } else if (pulse && port != httpPort) {
        problem(cname + ": " + probe + " on port " + port + ", but Pulse listens on PULSE_HTTP_PORT " + httpPort);
      }
    }
    Map<String, Object> annotations = map(at(d.body, "spec", "template", "metadata", "annotations"));
    if (pulse && annotations.containsKey("prometheus.io/port")
        && asInt(annotations.get("prometheus.io/port"), -1) != httpPort) {
      problem(cname + ": prometheus.io/port " + annotations.get("prometheus.io/port") + " is not PULSE_HTTP_PORT "
          + httpPort);
    }
    // graceful stop: the kubelet's SIGKILL comes terminationGracePeriodSeconds after the start of preStop
    if (pulse) {
      int grace = asInt(pod.get("terminationGracePeriodSeconds"), 30);
      int preStop = asInt(at(c, "lifecycle", "preStop", "sleep", "seconds"), 0);
      if (grace < 30 || grace < preStop + GRACEFUL_STOP_SECONDS) {
        problem(cname + ": terminationGracePeriodSeconds " + grace + " leaves Pulse less than "
            + GRACEFUL_STOP_SECONDS + " s to stop after a preStop of " + preStop + " s (and must be at least 30)");
      }
      if (asInt(at(d.body, "spec", "replicas"), 1) > 1 && at(c, "lifecycle", "preStop") == null) {
        problem(cname + ": several replicas but no preStop: the Service would still send to a stopping pod");
      }
    }
    // file settings must name a file a mounted Secret or ConfigMap provides; then the whole environment
    // must be a configuration Pulse accepts
    Map<String, String> files = mountedFiles(d, c, volumes);
    if (pulse) {
      validateConfig(cname, env, files);
    }
    return env;
  }

  private static final Set<String> FILE_SETTINGS = Set.of("PULSE_AUTH_PUBLIC_KEY_FILE", "PULSE_AUTH_PRIVATE_KEY_FILE",
      "PULSE_PG_SSL_CA_FILE", "PULSE_TLS_CERT", "PULSE_TLS_KEY", "PULSE_CONFIG");

  private void validateConfig(String cname, Map<String, String> env, Map<String, String> files) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("pulse-manifest");
      Map<String, String> real = new LinkedHashMap<>(env);
      for (String k : FILE_SETTINGS) {
        String path = env.get(k);
        if (path == null || path.isBlank()) {
          continue;
        }
        String content = files.get(path);
        if (content == null) {
          problem(cname + ": " + k + "=" + path + " names no file mounted from a Secret or ConfigMap " + files.keySet());
          real.remove(k);
          continue;
        }
        Path f = dir.resolve(k);
        Files.writeString(f, content);
        real.put(k, f.toString());
      }
      PulseConfig.load(real, Map.of());
    } catch (ConfigException e) {
      problem(cname + ": Pulse refuses this configuration: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(dir);
    }
  }

  /** Container path -> content of every file a Secret or ConfigMap volume mounts. */
  private Map<String, String> mountedFiles(Doc d, Map<String, Object> c, Map<String, Map<String, Object>> volumes) {
    Map<String, String> files = new TreeMap<>();
    for (Object o : list(c.get("volumeMounts"))) {
      Map<String, Object> m = map(o);
      Map<String, Object> v = volumes.get(str(m.get("name")));
      if (v == null) {
        problem(d.where() + ": volumeMount " + m.get("name") + " names no volume of the pod");
        continue;
      }
      String mount = str(m.get("mountPath"));
      for (String kind : List.of("Secret", "ConfigMap")) {
        Map<String, Object> src = map(v.get(kind.equals("Secret") ? "secret" : "configMap"));
        if (src.isEmpty()) {
          continue;
        }
        Doc target = find(d, kind, str(src.get(kind.equals("Secret") ? "secretName" : "name")));
        if (target == null) {
          continue; // reported by volumeReferences
        }
        Map<String, String> data = data(target);
        List<Object> items = list(src.get("items"));
        if (items.isEmpty()) {
          data.forEach((k, val) -> files.put(mount + "/" + k, val));
        } else {
          for (Object i : items) {
            Map<String, Object> item = map(i);
            String val = data.get(str(item.get("key")));
            if (val != null) {
              files.put(mount + "/" + item.get("path"), val);
            }
          }
        }
      }
    }
    return files;
  }

  private void volumeReferences(Doc d, Map<String, Object> v) {
    String what = "volume " + v.get("name");
    Map<String, Object> secret = map(v.get("secret"));
    if (!secret.isEmpty()) {
      volumeSource(d, "Secret", str(secret.get("secretName")), secret, what);
    }
    Map<String, Object> cm = map(v.get("configMap"));
    if (!cm.isEmpty()) {
      volumeSource(d, "ConfigMap", str(cm.get("name")), cm, what);
    }
    for (Object s : list(at(v, "projected", "sources"))) {
      Map<String, Object> src = map(s);
      if (src.containsKey("secret")) {
        volumeSource(d, "Secret", str(map(src.get("secret")).get("name")), map(src.get("secret")), what);
      }
      if (src.containsKey("configMap")) {
        volumeSource(d, "ConfigMap", str(map(src.get("configMap")).get("name")), map(src.get("configMap")), what);
      }
    }
  }

  private void volumeSource(Doc d, String kind, String name, Map<String, Object> src, String what) {
    Doc target = needObject(d, kind, name, src.get("optional"), what);
    if (target == null) {
      return;
    }
    for (Object i : list(src.get("items"))) {
      String key = str(map(i).get("key"));
      if (!data(target).containsKey(key)) {
        problem(d.where() + ": " + what + " mounts key " + key + " that " + kind + " " + name + " does not have");
      }
    }
  }

  private void service(Doc d) {
    Map<String, Object> selector = map(at(d.body, "spec", "selector"));
    List<Doc> targets = selectsPods(d, selector, "spec.selector");
    for (Object o : list(at(d.body, "spec", "ports"))) {
      Object target = map(o).get("targetPort");
      if (target == null) {
        target = map(o).get("port");
      }
      for (Doc w : targets) {
        boolean served = false;
        for (Object c : list(at(w.body, "spec", "template", "spec", "containers"))) {
          served |= resolvePort(target, containerPorts(map(c))) != null;
        }
        if (!served) {
          problem(d.where() + ": targetPort " + target + " is no container port of " + w.where());
        }
      }
    }
  }

  /** The workloads of the namespace whose pods {@code selector} selects; a problem when there are none. */
  private List<Doc> selectsPods(Doc d, Map<String, Object> selector, String what) {
    List<Doc> out = new ArrayList<>();
    if (selector.isEmpty()) {
      problem(d.where() + ": " + what + " is empty");
      return out;
    }
    for (Doc w : docs) {
      if (WORKLOADS.contains(w.kind()) && w.namespace().equals(d.namespace())
          && matches(selector, map(at(w.body, "spec", "template", "metadata", "labels")))) {
        out.add(w);
      }
    }
    if (out.isEmpty()) {
      problem(d.where() + ": " + what + " " + selector + " selects no pod template in namespace " + d.namespace());
    }
    return out;
  }

  private void ingress(Doc d) {
    for (Object o : list(at(d.body, "spec", "tls"))) {
      needObject(d, "Secret", str(map(o).get("secretName")), null, "tls");
    }
    List<Map<String, Object>> backends = new ArrayList<>();
    Map<String, Object> def = map(at(d.body, "spec", "defaultBackend"));
    if (!def.isEmpty()) {
      backends.add(def);
    }
    for (Object r : list(at(d.body, "spec", "rules"))) {
      for (Object p : list(at(map(r), "http", "paths"))) {
        backends.add(map(map(p).get("backend")));
      }
    }
    if (backends.isEmpty()) {
      problem(d.where() + ": no backend");
    }
    for (Map<String, Object> b : backends) {
      String svc = str(at(b, "service", "name"));
      Doc s = needObject(d, "Service", svc, null, "backend");
      if (s == null) {
        continue;
      }
      Map<String, Object> port = map(at(b, "service", "port"));
      String want = port.containsKey("name") ? str(port.get("name")) : String.valueOf(port.get("number"));
      boolean found = false;
      for (Object p : list(at(s.body, "spec", "ports"))) {
        found |= want.equals(str(map(p).get("name"))) || want.equals(String.valueOf(map(p).get("port")));
      }
      if (!found) {
        problem(d.where() + ": backend port " + want + " is not a port of Service " + svc);
      }
    }
  }

  private void scaledObject(Doc d) {
    Doc target = scaleTarget(d, map(at(d.body, "spec", "scaleTargetRef")));
    int max = asInt(at(d.body, "spec", "maxReplicaCount"), 100);
    int min = asInt(at(d.body, "spec", "minReplicaCount"), 0);
    Map<String, String> env = target == null ? Map.of() : podEnv(target);
    for (Object o : list(at(d.body, "spec", "triggers"))) {
      Map<String, Object> t = map(o);
      String auth = str(at(t, "authenticationRef", "name"));
      if (auth != null) {
        String kind = Objects.requireNonNullElse(str(at(t, "authenticationRef", "kind")), "TriggerAuthentication");
        needObject(d, kind, auth, null, "authenticationRef");
      }
      if (!"kafka".equals(t.get("type")) || target == null) {
        continue;
      }
      Map<String, Object> md = map(t.get("metadata"));
      kafkaNames(d, env, str(md.get("consumerGroup")), str(md.get("topic")), max);
      String fromEnv = str(md.get("bootstrapServersFromEnv"));
      if (fromEnv != null && env.getOrDefault(fromEnv, "").isBlank()) {
        problem(d.where() + ": bootstrapServersFromEnv " + fromEnv + " is not set in " + target.where());
      }
      if (fromEnv == null && md.get("bootstrapServers") == null) {
        problem(d.where() + ": the kafka trigger names no bootstrap servers");
      }
    }
    if (min > max) {
      problem(d.where() + ": minReplicaCount " + min + " > maxReplicaCount " + max);
    }
  }

  private void hpa(Doc d) {
    Doc target = scaleTarget(d, map(at(d.body, "spec", "scaleTargetRef")));
    if (target == null) {
      return;
    }
    Map<String, String> env = podEnv(target);
    int max = asInt(at(d.body, "spec", "maxReplicas"), 0);
    for (Object o : list(at(d.body, "spec", "metrics"))) {
      Map<String, Object> m = map(o);
      String metric = str(at(m, "external", "metric", "name"));
      if ("pulse_kafka_consumer_lag".equals(metric)) {
        String topic = str(at(m, "external", "metric", "selector", "matchLabels", "topic"));
        kafkaNames(d, env, null, topic, max);
      }
    }
  }

  /** The scaler's group, topic and maximum agree with what the Pulse pods are configured with. */
  private void kafkaNames(Doc d, Map<String, String> env, String group, String topic, int maxReplicas) {
    String podGroup = env.getOrDefault("PULSE_KAFKA_GROUP", KAFKA_ENV.get("PULSE_KAFKA_GROUP"));
    String podTopic = env.getOrDefault("PULSE_KAFKA_EVENTS_TOPIC", KAFKA_ENV.get("PULSE_KAFKA_EVENTS_TOPIC"));
    int partitions = asInt(env.getOrDefault("PULSE_KAFKA_PARTITIONS", KAFKA_ENV.get("PULSE_KAFKA_PARTITIONS")), 12);
    if (group != null && !group.equals(podGroup)) {
      problem(d.where() + ": consumer group " + group + " is not the pods' PULSE_KAFKA_GROUP " + podGroup);
    }
    if (topic == null || !topic.equals(podTopic)) {
      problem(d.where() + ": topic " + topic + " is not the pods' PULSE_KAFKA_EVENTS_TOPIC " + podTopic);
    }
    if (maxReplicas > partitions) {
      problem(d.where() + ": at most " + maxReplicas + " replicas, but only " + partitions
          + " partitions (PULSE_KAFKA_PARTITIONS) to share");
    }
  }

  private Doc scaleTarget(Doc d, Map<String, Object> ref) {
    String kind = Objects.requireNonNullElse(str(ref.get("kind")), "Deployment");
    return needObject(d, kind, str(ref.get("name")), null, "scaleTargetRef");
  }

  private void triggerAuthentication(Doc d) {
    for (Object o : list(at(d.body, "spec", "secretTargetRef"))) {
      Map<String, Object> r = map(o);
      needKey(d, "Secret", str(r.get("name")), str(r.get("key")), null, "secretTargetRef " + r.get("parameter"));
    }
  }

  /** The environment of a workload's first container (references resolved, no problems reported). */
  private Map<String, String> podEnv(Doc w) {
    Map<String, String> env = new LinkedHashMap<>();
    List<Object> containers = list(at(w.body, "spec", "template", "spec", "containers"));
    if (containers.isEmpty()) {
      return env;
    }
    Map<String, Object> c = map(containers.get(0));
    for (Object o : list(c.get("envFrom"))) {
      Map<String, Object> ef = map(o);
      Doc t = ef.containsKey("configMapRef") ? find(w, "ConfigMap", str(map(ef.get("configMapRef")).get("name")))
          : find(w, "Secret", str(map(ef.get("secretRef")).get("name")));
      if (t != null) {
        data(t).forEach((k, v) -> env.put(Objects.requireNonNullElse(str(ef.get("prefix")), "") + k, v));
      }
    }
    for (Object o : list(c.get("env"))) {
      Map<String, Object> e = map(o);
      Map<String, Object> from = map(e.get("valueFrom"));
      Map<String, Object> cm = map(from.get("configMapKeyRef"));
      Map<String, Object> sec = map(from.get("secretKeyRef"));
      Doc t = !cm.isEmpty() ? find(w, "ConfigMap", str(cm.get("name")))
          : !sec.isEmpty() ? find(w, "Secret", str(sec.get("name"))) : null;
      String v = t != null ? data(t).get(str((cm.isEmpty() ? sec : cm).get("key"))) : str(e.get("value"));
      env.put(str(e.get("name")), Objects.requireNonNullElse(v, ""));
    }
    return env;
  }

  // ---------------------------------------------------------------- references

  private Doc find(Doc from, String kind, String name) {
    for (Doc d : docs) {
      if (kind.equals(d.kind()) && Objects.equals(name, d.name()) && d.namespace().equals(from.namespace())) {
        return d;
      }
    }
    return null;
  }

  private Doc needObject(Doc from, String kind, String name, Object optional, String what) {
    Doc d = find(from, kind, name);
    if (d == null && !Boolean.TRUE.equals(optional)) {
      problem(from.where() + ": " + what + " names " + kind + " " + name + ", which is not in namespace "
          + from.namespace() + " of these manifests");
    }
    return d;
  }

  private String needKey(Doc from, String kind, String name, String key, Object optional, String what) {
    Doc d = needObject(from, kind, name, optional, what);
    if (d == null) {
      return null;
    }
    String v = data(d).get(key);
    if (v == null && !Boolean.TRUE.equals(optional)) {
      problem(from.where() + ": " + what + " names key " + key + " that " + kind + " " + name + " does not have");
    }
    return v;
  }

  /** A ConfigMap's or Secret's keys and values (Secret data base64-decoded, stringData over it). */
  static Map<String, String> data(Doc d) {
    Map<String, String> out = new LinkedHashMap<>();
    map(d.body.get("data")).forEach((k, v) -> out.put(k, "Secret".equals(d.kind())
        ? new String(Base64.getMimeDecoder().decode(String.valueOf(v)), StandardCharsets.UTF_8) : String.valueOf(v)));
    map(d.body.get("stringData")).forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  // ---------------------------------------------------------------- what the test asks for

  /** Every HTTP path a probe or a Prometheus annotation of these manifests asks a Pulse pod for. */
  static Set<String> servedPaths(List<Doc> docs) {
    Set<String> paths = new java.util.TreeSet<>();
    for (Doc d : docs) {
      if (!WORKLOADS.contains(d.kind())) {
        continue;
      }
      String scrape = str(at(d.body, "spec", "template", "metadata", "annotations", "prometheus.io/path"));
      if (scrape != null) {
        paths.add(scrape);
      }
      for (Object c : list(at(d.body, "spec", "template", "spec", "containers"))) {
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
          String p = str(at(map(c), probe, "httpGet", "path"));
          if (p != null) {
            paths.add(p);
          }
        }
      }
    }
    return paths;
  }

  /** Every container image the manifests run. */
  static Set<String> images(List<Doc> docs) {
    Set<String> images = new java.util.TreeSet<>();
    for (Doc d : docs) {
      if (WORKLOADS.contains(d.kind())) {
        for (Object c : list(at(d.body, "spec", "template", "spec", "containers"))) {
          images.add(str(map(c).get("image")));
        }
      }
    }
    return images;
  }

  /** {@code pulse} and {@code pulse:latest} are the same image. */
  static String normalizeImage(String image) {
    if (image == null) {
      return null;
    }
    int slash = image.lastIndexOf('/');
    return image.indexOf(':', slash + 1) < 0 && !image.contains("@") ? image + ":latest" : image;
  }

  // ---------------------------------------------------------------- small helpers

  private void problem(String p) {
    problems.add(p);
  }

  private static Map<String, Integer> containerPorts(Map<String, Object> c) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (Object o : list(c.get("ports"))) {
      Map<String, Object> p = map(o);
      int n = asInt(p.get("containerPort"), -1);
      ports.put(str(p.get("name")) == null ? String.valueOf(n) : str(p.get("name")), n);
    }
    return ports;
  }

  /** A probe's or Service's port (a name or a number) as a container port number; null when the container has none. */
  private static Integer resolvePort(Object port, Map<String, Integer> ports) {
    if (port == null) {
      return null;
    }
    if (port instanceof Number n) {
      return ports.containsValue(n.intValue()) ? n.intValue() : null;
    }
    String s = String.valueOf(port);
    if (ports.containsKey(s)) {
      return ports.get(s);
    }
    try {
      int n = Integer.parseInt(s);
      return ports.containsValue(n) ? n : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static boolean matches(Map<String, Object> selector, Map<String, Object> labels) {
    if (selector.isEmpty()) {
      return false;
    }
    for (Map.Entry<String, Object> e : selector.entrySet()) {
      if (!Objects.equals(String.valueOf(e.getValue()), String.valueOf(labels.get(e.getKey())))) {
        return false;
      }
    }
    return true;
  }

  static Object at(Object root, String... path) {
    Object o = root;
    for (String p : path) {
      if (!(o instanceof Map<?, ?> m)) {
        return null;
      }
      o = m.get(p);
    }
    return o;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o instanceof Map ? (Map<String, Object>) o : Map.of();
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return o instanceof List ? (List<Object>) o : List.of();
  }

  static String str(Object o) {
    return o == null ? null : String.valueOf(o);
  }

  private static int asInt(Object o, int dflt) {
    if (o instanceof Number n) {
      return n.intValue();
    }
    try {
      return o == null ? dflt : Integer.parseInt(String.valueOf(o).trim());
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind
    }
  }
}

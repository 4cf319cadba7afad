package io.pulse.verticles;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * The UI's files (webroot/) and uPlot's (its webjar), served from memory: each file is read once
 * (on a worker thread), gzipped once at the highest level, and answered with a strong ETag, so a
 * browser that asks for gzip gets the compressed bytes without the server compressing them again,
 * one that does not gets the file as it is ({@code Content-Encoding: identity}, which also keeps
 * the server's own response compression off it), and a revalidation is a 304 with no body.
 *
 * <p>A file is looked up in the directory {@code dir} of the working directory (a checkout: edits
 * show at the next request a second later, their size or time having changed), else on the class
 * path under {@code dir} (the jar: read once). Hidden names ({@code .x}) and anything not a
 * regular file go to the next handler (the router's 404); only GET and HEAD are answered.
 */
final class StaticFiles implements Handler<RoutingContext> {

  /** Below this, gzip's own header and trailer outweigh what it saves. */
  static final int GZIP_MIN_BYTES = 512;
  /** How long a file of the working directory is served before its size and time are looked at again. */
  static final long RECHECK_MS = 1000;

  private static final Map<String, String> TYPES = Map.ofEntries(
      Map.entry("html", "text/html; charset=utf-8"), Map.entry("js", "text/javascript; charset=utf-8"),
      Map.entry("mjs", "text/javascript; charset=utf-8"), Map.entry("css", "text/css; charset=utf-8"),
      Map.entry("json", "application/json"), Map.entry("map", "application/json"),
      Map.entry("svg", "image/svg+xml"), Map.entry("txt", "text/plain; charset=utf-8"),
      Map.entry("png", "image/png"), Map.entry("ico", "image/x-icon"), Map.entry("woff2", "font/woff2"));

  /** One file as served: its bytes, their gzip (null when not worth it), ETag and type. */
  record Asset(Buffer plain, Buffer gzip, String etag, String type, long size, long modified, long checkedAt) {

    Asset checked(long now) {
      return new Asset(plain, gzip, etag, type, size, modified, now);
    }
  }

  /** A name that is not there (never cached: the cache holds real files only, however many names are asked for). */
  private static final Asset MISSING = new Asset(null, null, null, null, -1, -1, 0);

  private final String dir;
  private final String prefix;
  private final String cacheControl;
  private final Map<String, Asset> cache = new ConcurrentHashMap<>();
  /** Where the files a page names are looked up: this one and others (uPlot's under /vendor/uplot/). */
  private final java.util.List<StaticFiles> siblings = new java.util.concurrent.CopyOnWriteArrayList<>(java.util.List.of(this));

  /**
   * @param dir the directory (working directory first, then class path), e.g. {@code webroot}
   * @param prefix the part of the request path before the file's name in {@code dir} ({@code /} or {@code /vendor/uplot/})
   * @param cacheControl the Cache-Control of every file answered
   */
  StaticFiles(String dir, String prefix, String cacheControl) {
    this.dir = dir;
    this.prefix = prefix;
    this.cacheControl = cacheControl;
  }

  /** Files of {@code other} named by this one's pages are read ahead with the page too. */
  StaticFiles with(StaticFiles other) {
    siblings.add(other);
    return this;
  }

  @Override
  public void handle(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      rc.next();
      return;
    }
    String name = name(rc.normalizedPath());
    if (name == null) {
      rc.next();
      return;
    }
    Asset a = cache.get(name);
    long now = System.currentTimeMillis();
    if (a != null && (a.checkedAt() == Long.MAX_VALUE || now - a.checkedAt() < RECHECK_MS)) {
      answer(rc, a);
      return;
    }
    Asset known = a;
    rc.vertx().executeBlocking(() -> load(name, known, now), false).onComplete(ar -> {
      if (ar.failed()) {
        rc.fail(ar.cause());
        return;
      }
      Asset loaded = ar.result();
      if (loaded.plain() != null) {
        cache.put(name, loaded);
      } else {
        cache.remove(name);
      }
      answer(rc, loaded);
      if (loaded.plain() != null && (known == null || known.plain() != loaded.plain()) && loaded.type().startsWith("text/html")) {
        // the page's modules, styles and uPlot are asked for next: read them now, not one request at a time
        rc.vertx().executeBlocking(() -> readNamed(loaded.plain().toString(java.nio.charset.StandardCharsets.UTF_8)), false);
      }
    });
  }

  private static final java.util.regex.Pattern REFS = java.util.regex.Pattern.compile("(?:href|src)=\"(/[^\"?#]+)\"");

  /** Reads (on a worker) the page {@code name} and the files it names; answers how many were read. */
  int readAhead(String name) throws IOException {
    Asset page = load(name, null, System.currentTimeMillis());
    if (page.plain() == null) {
      return 0;
    }
    cache.putIfAbsent(name, page);
    return 1 + readNamed(page.plain().toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Reads (on a worker) the files a page names in href= and src= that are not held yet; answers how many. */
  int readNamed(String html) {
    int n = 0;
    long now = System.currentTimeMillis();
    java.util.regex.Matcher m = REFS.matcher(html);
    while (m.find()) {
      String path = m.group(1);
      // the handler with the longest prefix serves it (uPlot's under /vendor/uplot/, not the webroot's)
      StaticFiles owner = null;
      for (StaticFiles f : siblings) {
        if (f.name(path) != null && (owner == null || f.prefix.length() > owner.prefix.length())) {
          owner = f;
        }
      }
      String name = owner == null ? null : owner.name(path);
      if (name == null || owner.cache.containsKey(name)) {
        continue;
      }
      try {
        Asset a = owner.load(name, null, now);
        if (a.plain() != null) {
          owner.cache.putIfAbsent(name, a);
          n++;
        }
      } catch (IOException | RuntimeException e) {
        // read when asked for, and failed then
      }
    }
    return n;
  }

  /** The file's name under {@code dir} for a request path, or null (outside the prefix, hidden, a parent). */
  String name(String path) {
    if (path == null || !path.startsWith(prefix)) {
      return null;
    }
    String rest = path.substring(prefix.length());
    if (rest.isEmpty() || rest.endsWith("/")) {
      rest = rest + "index.html";
    }
    for (String part : rest.split("/")) {
      if (part.isEmpty() || part.startsWith(".") || part.contains("\\")) {
        return null;
      }
    }
    return rest;
  }

  private void answer(RoutingContext rc, Asset a) {
    if (a.plain() == null) {
      rc.next();
      return;
    }
    HttpServerRequest req = rc.request();
    HttpServerResponse res = rc.response();
    boolean gzip = a.gzip() != null && acceptsGzip(req.getHeader(HttpHeaders.ACCEPT_ENCODING));
    String etag = gzip ? a.etag().substring(0, a.etag().length() - 1) + "-gz\"" : a.etag();
    res.putHeader(HttpHeaders.CACHE_CONTROL, cacheControl).putHeader(HttpHeaders.ETAG, etag);
    if (a.gzip() != null) {
      res.putHeader(HttpHeaders.VARY, "Accept-Encoding");
    }
    if (matches(req.getHeader(HttpHeaders.IF_NONE_MATCH), a.etag())) {
      res.setStatusCode(304).end();
      return;
    }
    // identity: the server's own response compression leaves the file as it is
    res.putHeader(HttpHeaders.CONTENT_TYPE, a.type()).putHeader(HttpHeaders.CONTENT_ENCODING, gzip ? "gzip" : "identity");
    Buffer body = gzip ? a.gzip() : a.plain();
    if (req.method() == HttpMethod.HEAD) {
      res.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(body.length())).end();
    } else {
      res.end(body);
    }
  }

  /** Whether If-None-Match names this file (either encoding's tag, or {@code *}). */
  static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null) {
      return false;
    }
    String base = etag.substring(1, etag.length() - 1);
    for (String t : ifNoneMatch.split(",")) {
      String tag = t.trim();
      if (tag.startsWith("W/")) {
        tag = tag.substring(2);
      }
      if (tag.equals("*") || tag.equals(etag) || tag.equals("\"" + base + "-gz\"")) {
        return true;
      }
    }
    return false;
  }

  /** Whether an Accept-Encoding takes gzip (named, or {@code *}, with a q above 0). */
  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String item : acceptEncoding.split(",")) {
      String[] parts = item.trim().split(";");
      String coding = parts[0].trim().toLowerCase(Locale.ROOT);
      if (!coding.equals("gzip") && !coding.equals("x-gzip") && !coding.equals("*")) {
        continue;
      }
      double q = 1;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].trim();
        if (p.startsWith("q=")) {
          try {
            q = Double.parseDouble(p.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      if (q > 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reads {@code name} (on a worker): from the working directory when it is there (kept while its
   * size and time stay those of {@code known}), else once from the class path.
   */
  private Asset load(String name, Asset known, long now) throws IOException {
    Path file = Path.of(dir).resolve(name).normalize();
    if (file.startsWith(Path.of(dir).normalize()) && Files.isRegularFile(file)) {
      long size = Files.size(file);
      long modified = Files.getLastModifiedTime(file).toMillis();
      if (known != null && known.plain() != null && known.size() == size && known.modified() == modified) {
        return known.checked(now);
      }
      return asset(name, Files.readAllBytes(file), size, modified, now);
    }
    String resource = dir + "/" + name;
    ClassLoader cl = StaticFiles.class.getClassLoader();
    java.net.URL url = cl.getResource(resource);
    if (url == null || url.getPath().endsWith("/")) {
      return MISSING;
    }
    if ("file".equals(url.getProtocol())) {
      try {
        if (!Files.isRegularFile(Path.of(url.toURI()))) {
          return MISSING; // a directory of the class path
        }
      } catch (java.net.URISyntaxException | IllegalArgumentException e) {
        return MISSING;
      }
    }
    try (InputStream in = url.openStream()) {
      byte[] bytes = in.readAllBytes();
      // the class path does not change under a running server: never looked at again
      return asset(name, bytes, bytes.length, 0, Long.MAX_VALUE);
    } catch (IOException e) {
      // a directory of a jar opens as an empty or failing stream: not a file
      return MISSING;
    }
  }

  private static Asset asset(String name, byte[] bytes, long size, long modified, long checkedAt) {
    String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    String type = TYPES.getOrDefault(ext, "application/octet-stream");
    Buffer gzip = null;
    if (compressible(type) && bytes.length >= GZIP_MIN_BYTES) {
      byte[] z = gzip(bytes);
      if (z.length < bytes.length) {
        gzip = Buffer.buffer(z);
      }
    }
    return new Asset(Buffer.buffer(bytes), gzip, "\"" + digest(bytes) + "\"", type, size, modified, checkedAt);
  }

  static boolean compressible(String type) {
    return type.startsWith("text/") || type.startsWith("application/json") || type.startsWith("image/svg");
  }

  static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
    try (GZIPOutputStream z = new GZIPOutputStream(out, 8192) {
      {
        def.setLevel(Deflater.BEST_COMPRESSION);
      }
    }) {
      z.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static String digest(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      return HexFormat.of().formatHex(d, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

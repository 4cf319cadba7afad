package io.pulse.http;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Watches the certificate and key files ({@code tls.cert}, {@code tls.key}) for a change, polled
 * every {@code tls.reloadCheckMs}: a poll whose files have the modification times and sizes of the
 * last one is a stat of each and nothing more; otherwise both files are read, and only different
 * content (by hash) is loaded and checked ({@link TlsMaterial}). New content that cannot be used
 * (a half-written rotation, a key of another certificate, a typo) is {@link Refused} once with the
 * reason, and the server keeps its certificate; the next change is tried again.
 *
 * <p>Not thread-safe: one poller, one poll at a time, on a worker thread (it reads files).
 */
public final class CertWatch {

  /** What a poll found. */
  public sealed interface Outcome permits Unchanged, Loaded, Refused {
  }

  /** Nothing new (or new content already refused). */
  public record Unchanged() implements Outcome {
  }

  /** New content, checked: give it to the server. */
  public record Loaded(TlsMaterial material) implements Outcome {
  }

  /** New content that cannot be used: keep the current certificate. */
  public record Refused(String reason) implements Outcome {
  }

  private static final Unchanged UNCHANGED = new Unchanged();

  private final Path cert;
  private final Path key;
  /** Modification times and sizes at the last poll that read the files. */
  private String stamp;
  /** Hash of the content last loaded or refused. */
  private String content;

  /** Watches {@code cert} and {@code key}, whose content now is what the server was started with. */
  public CertWatch(Path cert, Path key) {
    this.cert = cert;
    this.key = key;
    try {
      this.stamp = stamp();
      this.content = hash(Files.readAllBytes(cert), Files.readAllBytes(key));
    } catch (IOException e) {
      this.stamp = null;
      this.content = null;
    }
  }

  /** Looks at the files; loads and checks them when their content changed. Blocking. */
  public Outcome poll(Vertx vertx) {
    String now;
    byte[] c;
    byte[] k;
    try {
      now = stamp();
      if (now.equals(stamp)) {
        return UNCHANGED;
      }
      c = Files.readAllBytes(cert);
      k = Files.readAllBytes(key);
    } catch (IOException e) {
      String why = "cannot read " + cert + " or " + key + " (" + e.getClass().getSimpleName() + ")";
      if (why.equals(stamp)) {
        return UNCHANGED;
      }
      stamp = why; // said once until the files are back
      return new Refused(why);
    }
    stamp = now;
    String h = hash(c, k);
    if (h.equals(content)) {
      return UNCHANGED; // touched, not changed
    }
    content = h;
    try {
      return new Loaded(TlsMaterial.of(vertx, c, k));
    } catch (TlsMaterial.Unusable e) {
      return new Refused(e.getMessage());
    }
  }

  private String stamp() throws IOException {
    BasicFileAttributes a = Files.readAttributes(cert, BasicFileAttributes.class);
    BasicFileAttributes b = Files.readAttributes(key, BasicFileAttributes.class);
    return a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey() + " " + b.lastModifiedTime().toMillis()
        + "/" + b.size() + "/" + b.fileKey();
  }

  private static String hash(byte[] c, byte[] k) {
    byte[] both = new byte[c.length + k.length + 1];
    System.arraycopy(c, 0, both, 0, c.length);
    both[c.length] = 0;
    System.arraycopy(k, 0, both, c.length + 1, k.length);
    return TlsMaterial.sha256(both);
  }
}

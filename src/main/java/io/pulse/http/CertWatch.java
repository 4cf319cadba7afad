package io.pulse.http;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Watches the certificate and key files ({@code tls.cert}, {@code tls.key}) for a change, polled
 * every {@code tls.reloadCheckMs}: both files are read (a few kB) and compared by content hash, not
 * by modification time, which can stay the same across a rewrite within one clock tick or go back
 * when a secret is swapped in; only different content is loaded and checked ({@link TlsMaterial}),
 * whether the files were rewritten in place or replaced (a symlink swap, as Kubernetes secrets and
 * certbot do, is followed). New content that cannot be used
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
  /** Hash of the content last loaded or refused, or the reason the files could not be read. */
  private String content;

  /** Watches {@code cert} and {@code key}, whose content now is what the server was started with. */
  public CertWatch(Path cert, Path key) {
    this.cert = cert;
    this.key = key;
    try {
      this.content = hash(Files.readAllBytes(cert), Files.readAllBytes(key));
    } catch (IOException e) {
      this.content = null;
    }
  }

  /** Looks at the files; loads and checks them when their content changed. Blocking. */
  public Outcome poll(Vertx vertx) {
    byte[] c;
    byte[] k;
    try {
      c = Files.readAllBytes(cert);
      k = Files.readAllBytes(key);
    } catch (IOException e) {
      String why = "cannot read " + cert + " or " + key + " (" + e.getClass().getSimpleName() + ")";
      if (why.equals(content)) {
        return UNCHANGED;
      }
      content = why; // said once until the files are back
      return new Refused(why);
    }
    String h = hash(c, k);
    if (h.equals(content)) {
      return UNCHANGED;
    }
    content = h;
    try {
      return new Loaded(TlsMaterial.of(vertx, c, k));
    } catch (TlsMaterial.Unusable e) {
      return new Refused(e.getMessage());
    }
  }

  private static String hash(byte[] c, byte[] k) {
    byte[] both = new byte[c.length + k.length + 1];
    System.arraycopy(c, 0, both, 0, c.length);
    both[c.length] = 0;
    System.arraycopy(k, 0, both, c.length + 1, k.length);
    return TlsMaterial.sha256(both);
  }
}

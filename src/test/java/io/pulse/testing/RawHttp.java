package io.pulse.testing;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A raw TCP connection to a server, for requests no HTTP client would send (malformed, slow,
 * never finished). Reads answers byte by byte so that what the server sent, and whether it
 * closed, is exactly what the test sees.
 */
public final class RawHttp implements AutoCloseable {

  /** One HTTP answer as read off the wire. */
  public record Answer(int status, Map<String, String> headers, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawHttp(int port) throws IOException {
    this(port, 0);
  }

  /** With a receive buffer of {@code receiveBuffer} bytes (0: the system's default). */
  public RawHttp(int port, int receiveBuffer) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  public RawHttp send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public RawHttp send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Reads one answer (status line, headers, a Content-Length body); fails if none comes within {@code timeoutMs}. */
  public Answer read(long timeoutMs) throws IOException {
    socket.setSoTimeout((int) timeoutMs);
    String status = line();
    if (status == null) {
      throw new IOException("the connection closed without an answer");
    }
    Map<String, String> headers = new TreeMap<>();
    String h;
    while ((h = line()) != null && !h.isEmpty()) {
      int c = h.indexOf(':');
      headers.put(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
    }
    int len = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(len);
    return new Answer(Integer.parseInt(status.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
  }

  /** Whether the server closes the connection within {@code timeoutMs} (reads and drops anything before). */
  public boolean closedWithin(long timeoutMs) throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    try {
      while (System.currentTimeMillis() < deadline) {
        socket.setSoTimeout((int) Math.max(1, deadline - System.currentTimeMillis()));
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
    return false;
  }

  /** Everything the server sends until it closes the connection; fails if it does not close within {@code timeoutMs}. */
  public String restUntilClose(long timeoutMs) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    long deadline = System.currentTimeMillis() + timeoutMs;
    try {
      while (System.currentTimeMillis() < deadline) {
        socket.setSoTimeout((int) Math.max(1, deadline - System.currentTimeMillis()));
        int c = in.read();
        if (c < 0) {
          return b.toString(StandardCharsets.ISO_8859_1);
        }
        b.write(c);
      }
    } catch (java.net.SocketException e) {
      return b.toString(StandardCharsets.ISO_8859_1); // reset
    }
    throw new IOException("the connection was not closed within " + timeoutMs + " ms; got " + b);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

package io.pulse.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 and WebSocket over a plain {@link Socket}, byte for byte, for tests that must send what
 * no well-behaved client would (broken request lines, bad lengths, malformed chunks, unmasked or
 * oversized frames). One connection per exchange; blocking, for test threads only.
 */
public final class RawWire {

  private RawWire() {
  }

  /** What the server did with one request. */
  public record Answer(int status, Map<String, String> headers, byte[] body, String outcome) {
    /** {@code outcome}: "answered", "closed" (EOF before any byte), "reset", "timeout", "truncated". */
    public boolean answered() {
      return "answered".equals(outcome);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String summary() {
      String t = text();
      return answered() ? status + " " + headers.getOrDefault("content-type", "(no content-type)") + " "
          + (t.length() > 200 ? t.substring(0, 200) + "…" : t) : outcome;
    }
  }

  /**
   * Sends {@code request} as is, half-closing the output when {@code halfClose}, and reads one
   * answer (status, headers, body by Content-Length, chunks or EOF). For a text/event-stream
   * answer the body is read up to the end of the first event, then the connection is dropped.
   */
  public static Answer exchange(int port, byte[] request, boolean halfClose, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      OutputStream out = s.getOutputStream();
      Runnable write = () -> {
        try {
          out.write(request);
          out.flush();
          if (halfClose) {
            s.shutdownOutput();
          }
        } catch (IOException e) {
          // the server may answer and close before reading everything (413 on a huge body): read what it said
        }
      };
      Thread writer = null;
      if (request.length > 32 * 1024) {
        // write and read at once: a server that answers early and closes must not lose its answer to our
        // own write blocking, or to a reset when our unread bytes meet its close
        writer = new Thread(write, "raw-http-writer");
        writer.setDaemon(true);
        writer.start();
      } else {
        write.run();
      }
      Answer a = read(s.getInputStream());
      while (a.status() == 100 && a.answered()) { // Expect: 100-continue; the real answer follows
        a = read(s.getInputStream());
      }
      if (writer != null) {
        s.close(); // unblocks a writer the server stopped reading
        writer.join(timeoutMs);
      }
      return a;
    } catch (SocketTimeoutException e) {
      return new Answer(-1, Map.of(), new byte[0], "timeout");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, Map.of(), new byte[0], "interrupted");
    } catch (IOException e) {
      return new Answer(-1, Map.of(), new byte[0], "reset (" + e.getMessage() + ")");
    }
  }

  static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    int b;
    while (state < 4) {
      try {
        b = in.read();
      } catch (SocketTimeoutException e) {
        return new Answer(-1, Map.of(), head.toByteArray(), head.size() == 0 ? "timeout" : "timeout in headers");
      }
      if (b < 0) {
        return new Answer(-1, Map.of(), head.toByteArray(), head.size() == 0 ? "closed" : "truncated");
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
          : b == '\r' ? 1 : 0;
      if (head.size() > 1 << 20) {
        return new Answer(-1, Map.of(), new byte[0], "headers over 1 MiB");
      }
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    int code;
    try {
      code = Integer.parseInt(status[1]);
    } catch (RuntimeException e) {
      return new Answer(-1, Map.of(), head.toByteArray(), "not HTTP: " + lines[0]);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int c = lines[i].indexOf(':');
      if (c > 0) {
        headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean sse = headers.getOrDefault("content-type", "").startsWith("text/event-stream");
    try {
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        while (true) {
          String sizeLine = line(in);
          int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
          if (size == 0) {
            break;
          }
          body.write(in.readNBytes(size));
          line(in);
          if (sse && events(body) >= 2) {
            break; // "retry:" and the first event are enough
          }
        }
      } else if (headers.containsKey("content-length")) {
        int n = Integer.parseInt(headers.get("content-length"));
        byte[] got = in.readNBytes(n);
        body.write(got);
        if (got.length < n) {
          return new Answer(code, headers, body.toByteArray(), "truncated");
        }
      } else if (code >= 200 && code != 204 && code != 304) { // 1xx answers have no body
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
          body.write(buf, 0, n);
          if (sse && events(body) >= 2) {
            break;
          }
        }
      }
    } catch (SocketTimeoutException e) {
      return new Answer(code, headers, body.toByteArray(), "timeout in body");
    } catch (IOException | RuntimeException e) {
      return new Answer(code, headers, body.toByteArray(), "truncated (" + e + ")");
    }
    return new Answer(code, headers, body.toByteArray(), "answered");
  }

  private static int events(ByteArrayOutputStream body) {
    String t = body.toString(StandardCharsets.UTF_8);
    int n = 0;
    for (int i = t.indexOf("\n\n"); i >= 0; i = t.indexOf("\n\n", i + 2)) {
      n++;
    }
    return n;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    if (b < 0) {
      throw new IOException("EOF in chunked body");
    }
    return sb.toString();
  }

  // ---- WebSocket, frame by frame ----

  /** One frame the server sent: opcode, payload, and for a close its code and reason. */
  public record Frame(int opcode, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
    }

    public String closeReason() {
      return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
    }
  }

  /** A raw WebSocket client connection: the handshake done, frames written as given. */
  public static final class Ws implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private Ws(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    /** Opens {@code path} with a WebSocket handshake; fails if the server does not answer 101. */
    public static Ws open(int port, String path, int timeoutMs) throws IOException {
      return open(port, path, timeoutMs, 0);
    }

    /** The same with the socket's receive buffer set first (0: the system's default), for a client that stalls. */
    public static Ws open(int port, String path, int timeoutMs, int receiveBuffer) throws IOException {
      Socket s = new Socket();
      if (receiveBuffer > 0) {
        s.setReceiveBufferSize(receiveBuffer);
      }
      s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      Ws ws = new Ws(s);
      ws.out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      ws.out.flush();
      Answer a = read(ws.in);
      if (a.status() != 101) {
        s.close();
        throw new IOException("handshake answered " + a.summary());
      }
      return ws;
    }

    /** Writes one frame; {@code masked} false is a protocol violation from a client. */
    public void frame(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) throws IOException {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      f.write((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf));
      int m = masked ? 0x80 : 0;
      if (payload.length < 126) {
        f.write(m | payload.length);
      } else if (payload.length < 65536) {
        f.write(m | 126);
        f.write(payload.length >>> 8);
        f.write(payload.length & 0xff);
      } else {
        f.write(m | 127);
        long n = payload.length;
        for (int i = 7; i >= 0; i--) {
          f.write((int) (n >>> (8 * i)) & 0xff);
        }
      }
      byte[] key = {0x12, 0x34, 0x56, 0x78};
      if (masked) {
        f.write(key);
      }
      for (int i = 0; i < payload.length; i++) {
        f.write(masked ? payload[i] ^ key[i & 3] : payload[i]);
      }
      byte[] bytes = f.toByteArray();
      if (bytes.length <= 32 * 1024) {
        out.write(bytes);
        out.flush();
        return;
      }
      // a big frame goes from another thread, so that a server that refuses it early and closes is heard,
      // not lost behind our blocked write or the reset our unread bytes cause
      Thread w = new Thread(() -> {
        try {
          synchronized (out) {
            out.write(bytes);
            out.flush();
          }
        } catch (IOException e) {
          // the server stopped reading: what it said is read by next()
        }
      }, "raw-ws-writer");
      w.setDaemon(true);
      w.start();
    }

    public void text(String s) throws IOException {
      frame(true, 0, 1, s.getBytes(StandardCharsets.UTF_8), true);
    }

    /** The next frame from the server; null at EOF. Throws SocketTimeoutException past the timeout. */
    public Frame next() throws IOException {
      int b0 = in.read();
      if (b0 < 0) {
        return null;
      }
      int b1 = in.read();
      if (b1 < 0) {
        return null;
      }
      long len = b1 & 0x7f;
      if (len == 126) {
        len = ((in.read() & 0xff) << 8) | (in.read() & 0xff);
      } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) {
          len = (len << 8) | (in.read() & 0xff);
        }
      }
      if (len > 16 << 20) {
        throw new IOException("frame of " + len + " bytes");
      }
      byte[] payload = in.readNBytes((int) len);
      return new Frame(b0 & 0x0f, payload);
    }

    public void setTimeout(int ms) throws IOException {
      socket.setSoTimeout(ms);
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // going anyway
      }
    }
  }
}

package io.pulse.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a raw socket, for frames no WebSocket library would send (too big,
 * fragmented past a limit, not UTF-8, reserved opcodes) and for reading exactly what the server
 * sends, close frame included.
 */
public final class RawWebSocket implements AutoCloseable {

  public static final int CONTINUATION = 0x0;
  public static final int TEXT = 0x1;
  public static final int BINARY = 0x2;
  public static final int CLOSE = 0x8;
  public static final int PING = 0x9;

  /** One frame from the server; for a close frame, its code and reason. */
  public record Frame(int opcode, boolean fin, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }

    public String closeReason() {
      return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  /** Opens /api/v1/live/ws; {@code receiveBuffer} 0 for the system's default. */
  public RawWebSocket(int port, int receiveBuffer) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    out.write(("GET /api/v1/live/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    String status = line();
    if (status == null || !status.contains(" 101 ")) {
      throw new IOException("no WebSocket upgrade: " + status);
    }
    while (!line().isEmpty()) {
      // headers of the 101
    }
  }

  /** Sends one masked frame with any opcode, final or not, and a declared length that may differ from the payload's. */
  public void frame(int opcode, boolean fin, byte[] payload) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write((fin ? 0x80 : 0) | opcode);
    int n = payload.length;
    if (n < 126) {
      b.write(0x80 | n);
    } else if (n < 65536) {
      b.write(0x80 | 126);
      b.write(n >>> 8);
      b.write(n);
    } else {
      b.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        b.write((int) ((long) n >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    b.write(mask);
    for (int i = 0; i < n; i++) {
      b.write(payload[i] ^ mask[i & 3]);
    }
    out.write(b.toByteArray());
    out.flush();
  }

  /** Sends only the header of a masked frame declaring {@code length} bytes. */
  public void frameHeader(int opcode, long length) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x80 | opcode);
    b.write(0x80 | 127);
    for (int i = 7; i >= 0; i--) {
      b.write((int) (length >>> (8 * i)));
    }
    b.write(new byte[4]);
    out.write(b.toByteArray());
    out.flush();
  }

  public void text(String s) throws IOException {
    frame(TEXT, true, s.getBytes(StandardCharsets.UTF_8));
  }

  /** The next frame, or null if the connection closed; fails after {@code timeoutMs} without one. */
  public Frame read(long timeoutMs) throws IOException {
    socket.setSoTimeout((int) timeoutMs);
    int b0;
    try {
      b0 = in.read();
    } catch (java.net.SocketException e) {
      return null;
    }
    if (b0 < 0) {
      return null;
    }
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    return new Frame(b0 & 0x0f, (b0 & 0x80) != 0, payload);
  }

  /** Reads frames until a close frame (returned) or the end of the connection (null). */
  public Frame awaitClose(long timeoutMs, java.util.List<Frame> before) throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      Frame f;
      try {
        f = read(Math.max(1, deadline - System.currentTimeMillis()));
      } catch (SocketTimeoutException e) {
        break;
      }
      if (f == null || f.opcode() == CLOSE) {
        return f;
      }
      if (before != null) {
        before.add(f);
      }
    }
    throw new AssertionError("no close frame within " + timeoutMs + " ms");
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

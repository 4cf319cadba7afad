package io.pulse.live;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Puts a WebSocket text message together from its frames with a bound on its size, and checks
 * that it is UTF-8. One per connection; not thread-safe. What the caller does past the bound or
 * on bad text is close the socket with the code {@link Outcome} names.
 */
public final class MessageAssembler {

  /** What a frame led to: nothing yet, a whole message, or a reason to close the socket. */
  public record Outcome(String text, int closeCode, String reason) {
    static final Outcome MORE = new Outcome(null, 0, null);

    public boolean complete() {
      return text != null;
    }

    public boolean fatal() {
      return closeCode != 0;
    }
  }

  /** RFC 6455 close codes. */
  public static final int PROTOCOL_ERROR = 1002;
  public static final int UNSUPPORTED_DATA = 1003;
  public static final int INVALID_PAYLOAD = 1007;
  public static final int TOO_BIG = 1009;

  private final int maxBytes;
  private byte[] buf = new byte[256];
  private int size;
  private boolean inMessage;

  public MessageAssembler(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** A text frame starting a message ({@code continuation} false) or continuing one. */
  public Outcome text(byte[] payload, boolean continuation, boolean fin) {
    if (continuation != inMessage) {
      reset();
      return new Outcome(null, PROTOCOL_ERROR, continuation ? "a continuation frame without a message to continue"
          : "a new message began before the previous one ended");
    }
    if ((long) size + payload.length > maxBytes) {
      reset();
      return new Outcome(null, TOO_BIG, "message larger than " + maxBytes + " bytes");
    }
    if (size + payload.length > buf.length) {
      buf = java.util.Arrays.copyOf(buf, (int) Math.min(maxBytes, Math.max((long) buf.length * 2, size + payload.length)));
    }
    System.arraycopy(payload, 0, buf, size, payload.length);
    size += payload.length;
    inMessage = !fin;
    if (!fin) {
      return Outcome.MORE;
    }
    CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer chars = dec.decode(ByteBuffer.wrap(buf, 0, size));
      return new Outcome(chars.toString(), 0, null);
    } catch (CharacterCodingException e) {
      return new Outcome(null, INVALID_PAYLOAD, "text message is not valid UTF-8");
    } finally {
      reset();
    }
  }

  /** A binary frame, or a continuation of a binary message: Pulse speaks JSON text only. */
  public Outcome binary() {
    reset();
    return new Outcome(null, UNSUPPORTED_DATA, "binary messages are not supported; send JSON text");
  }

  /** Whether a text message is being put together (its next frame is a continuation). */
  public boolean inMessage() {
    return inMessage;
  }

  private void reset() {
    size = 0;
    inMessage = false;
    if (buf.length > 4096) {
      buf = new byte[256]; // do not keep a large buffer for the connection's life
    }
  }
}

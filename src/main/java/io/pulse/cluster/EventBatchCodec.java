package io.pulse.cluster;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The value of an events-topic record: validated events of one partition from one request.
 * Strings (tenant, stream, dim names and values, value names) are written once per record in a
 * table and referred to by number, so a batch of one series' events costs little more than its
 * numbers. Decoding trusts nothing: a malformed value throws {@link IllegalArgumentException}.
 *
 * <pre>
 * byte   version (1)
 * int    string count, then each as modified UTF-8
 * int    event count, then per event:
 *   int tenant, int stream (string numbers); long ts; long arrival; int id (-1: none)
 *   int dim count, then pairs of string numbers; int value count, then (int name, double value)
 * </pre>
 */
public final class EventBatchCodec {

  static final byte VERSION = 1;
  /** More than any request may hold ({@code ingest.maxEventsPerRequest} is at most 10 million): a bad value. */
  private static final int MAX_ITEMS = 10_000_000;

  private EventBatchCodec() {
  }

  public static byte[] encode(List<Event> events) {
    Map<String, Integer> table = new HashMap<>();
    List<String> strings = new ArrayList<>();
    ByteArrayOutputStream body = new ByteArrayOutputStream(events.size() * 48 + 16);
    try (DataOutputStream out = new DataOutputStream(body)) {
      out.writeInt(events.size());
      for (Event e : events) {
        out.writeInt(ref(table, strings, e.stream().tenant()));
        out.writeInt(ref(table, strings, e.stream().name()));
        out.writeLong(e.ts());
        out.writeLong(e.arrival());
        out.writeInt(e.id() == null ? -1 : ref(table, strings, e.id()));
        Dims d = e.dims();
        out.writeInt(d.size());
        for (int i = 0; i < d.size(); i++) {
          out.writeInt(ref(table, strings, d.key(i)));
          out.writeInt(ref(table, strings, d.value(i)));
        }
        out.writeInt(e.valueCount());
        for (int i = 0; i < e.valueCount(); i++) {
          out.writeInt(ref(table, strings, e.name(i)));
          out.writeDouble(e.value(i));
        }
      }
      ByteArrayOutputStream all = new ByteArrayOutputStream(body.size() + strings.size() * 8 + 8);
      DataOutputStream head = new DataOutputStream(all);
      head.writeByte(VERSION);
      head.writeInt(strings.size());
      for (String s : strings) {
        head.writeUTF(s);
      }
      out.flush();
      body.writeTo(head);
      head.flush();
      return all.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in memory: cannot happen
    }
  }

  private static int ref(Map<String, Integer> table, List<String> strings, String s) {
    Integer n = table.get(s);
    if (n == null) {
      n = strings.size();
      table.put(s, n);
      strings.add(s);
    }
    return n;
  }

  /** The events of a record value. */
  public static List<Event> decode(byte[] value) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      byte v = in.readByte();
      if (v != VERSION) {
        throw new IllegalArgumentException("unknown events record version " + v);
      }
      String[] strings = new String[count(in.readInt())];
      for (int i = 0; i < strings.length; i++) {
        strings[i] = in.readUTF();
      }
      int n = count(in.readInt());
      List<Event> out = new ArrayList<>(n);
      Map<Long, StreamId> streams = new HashMap<>();
      for (int k = 0; k < n; k++) {
        int tenant = in.readInt();
        int name = in.readInt();
        StreamId sid = streams.computeIfAbsent(((long) tenant << 32) | (name & 0xffffffffL),
            x -> StreamId.of(str(strings, tenant), str(strings, name)));
        long ts = in.readLong();
        long arrival = in.readLong();
        int id = in.readInt();
        int dn = count(in.readInt());
        Map<String, String> dims = new java.util.TreeMap<>();
        for (int i = 0; i < dn; i++) {
          dims.put(str(strings, in.readInt()), str(strings, in.readInt()));
        }
        int vn = count(in.readInt());
        String[] names = new String[vn];
        double[] values = new double[vn];
        for (int i = 0; i < vn; i++) {
          names[i] = str(strings, in.readInt());
          values[i] = in.readDouble();
        }
        out.add(new Event(sid, ts, id < 0 ? null : str(strings, id), dn == 0 ? Dims.EMPTY : Dims.of(dims), names,
            values, arrival));
      }
      if (in.available() > 0) {
        throw new IllegalArgumentException("events record has " + in.available() + " bytes after its last event");
      }
      return out;
    } catch (IOException e) {
      throw new IllegalArgumentException("events record is cut short or malformed (" + e + ")");
    }
  }

  private static int count(int n) {
    if (n < 0 || n > MAX_ITEMS) {
      throw new IllegalArgumentException("events record holds an impossible count " + n);
    }
    return n;
  }

  private static String str(String[] strings, int i) {
    if (i < 0 || i >= strings.length) {
      throw new IllegalArgumentException("events record refers to string " + i + " of " + strings.length);
    }
    return strings[i];
  }
}

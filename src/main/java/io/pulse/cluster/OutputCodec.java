package io.pulse.cluster;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Partial;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardOutput;
import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.agg.WindowAgg;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.store.RollupCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The values of the output topic, which every instance reads whole: one partition's flush (its
 * series' rollups, already scored by the owner, and its shares of the coarser views with its
 * watermark), or a JSON message (an alert transition, the views an instance's subscribers hold).
 * Views travel as their definition (stream, group-by or every dim, filter) and are found again in
 * the reader's registry; a share of a view the reader does not hold is dropped (nobody there
 * watches it). Windows of shares travel in the storage format ({@link RollupCodec}), so sketches
 * merge exactly.
 */
public final class OutputCodec {

  public static final byte FLUSH = 1;
  public static final byte JSON = 2;
  private static final byte VERSION = 1;

  private final RollupCodec codec;

  public OutputCodec(RollupCodec codec) {
    this.codec = codec;
  }

  /** A decoded flush; views the reader does not hold are left out. */
  public record Decoded(ShardOutput output, int droppedViews) {
  }

  public byte[] encodeFlush(ShardOutput o) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + 96 * (o.rollups().size() + o.partials().size()));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FLUSH);
      out.writeByte(VERSION);
      out.writeInt(o.shard());
      out.writeLong(o.closedBefore());
      out.writeInt(o.rollups().size());
      for (Rollup r : o.rollups()) {
        view(out, r.view());
        dims(out, r.series());
        out.writeLong(r.start());
        out.writeLong(r.end());
        out.writeBoolean(r.fin());
        out.writeLong(r.count());
        out.writeLong(r.latest());
        out.writeLong(r.latestArrival());
        out.writeInt(r.names().length);
        for (int i = 0; i < r.names().length; i++) {
          out.writeUTF(r.names()[i]);
          ValueStats.Summary s = r.stats()[i];
          out.writeLong(s.count());
          for (double d : new double[] {s.sum(), s.min(), s.max(), s.mean(), s.p50(), s.p95(), s.p99()}) {
            out.writeDouble(d);
          }
        }
        Anomaly a = r.anomaly();
        out.writeBoolean(a != null);
        if (a != null) {
          out.writeDouble(a.score());
          out.writeUTF(a.figure());
          for (double d : new double[] {a.value(), a.expected(), a.low(), a.high(), a.deviation()}) {
            out.writeDouble(d);
          }
          out.writeUTF(a.method());
        }
        out.writeLong(r.outliers());
      }
      out.writeInt(o.partials().size());
      for (Partial p : o.partials()) {
        view(out, p.key().view());
        dims(out, p.key().series());
        WindowAgg w = p.window();
        out.writeLong(w.start());
        out.writeLong(w.end());
        out.writeLong(w.count());
        out.writeLong(w.latest());
        out.writeBoolean(p.fin());
        byte[] data = codec.encode(w);
        out.writeInt(data.length);
        out.write(data);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A flush read back.
   *
   * @param viewOf the reader's view of a stream's definition (its spec, {@link View#spec}), or null when it holds none
   */
  public Decoded decodeFlush(byte[] value, java.util.function.BiFunction<StreamId, String, View> viewOf) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      if (in.readByte() != FLUSH || in.readByte() != VERSION) {
        throw new IllegalArgumentException("not a flush of this version");
      }
      int shard = in.readInt();
      long closedBefore = in.readLong();
      int dropped = 0;
      int n = in.readInt();
      List<Rollup> rollups = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        StreamId stream = StreamId.of(in.readUTF(), in.readUTF());
        String spec = readView(in, stream);
        Dims series = readDims(in);
        long start = in.readLong();
        long end = in.readLong();
        boolean fin = in.readBoolean();
        long count = in.readLong();
        long latest = in.readLong();
        long arrival = in.readLong();
        int vn = in.readInt();
        String[] names = new String[vn];
        ValueStats.Summary[] stats = new ValueStats.Summary[vn];
        for (int i = 0; i < vn; i++) {
          names[i] = in.readUTF();
          stats[i] = new ValueStats.Summary(in.readLong(), in.readDouble(), in.readDouble(), in.readDouble(),
              in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble());
        }
        Anomaly a = null;
        if (in.readBoolean()) {
          a = new Anomaly(in.readDouble(), in.readUTF(), in.readDouble(), in.readDouble(), in.readDouble(),
              in.readDouble(), in.readDouble(), in.readUTF());
        }
        long outliers = in.readLong();
        View v = viewOf.apply(stream, spec);
        if (v == null) {
          dropped++;
          continue;
        }
        rollups.add(new Rollup(v, series, start, end, fin, count, latest, arrival, names, stats, null, a, outliers));
      }
      int pn = in.readInt();
      List<Partial> partials = new ArrayList<>(pn);
      for (int k = 0; k < pn; k++) {
        StreamId stream = StreamId.of(in.readUTF(), in.readUTF());
        String spec = readView(in, stream);
        Dims group = readDims(in);
        long start = in.readLong();
        long end = in.readLong();
        long count = in.readLong();
        long latest = in.readLong();
        boolean fin = in.readBoolean();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        View v = viewOf.apply(stream, spec);
        if (v == null) {
          dropped++;
          continue;
        }
        partials.add(new Partial(v.key(group), codec.decode(data, start, end, count, latest), fin));
      }
      return new Decoded(new ShardOutput(shard, rollups, partials, closedBefore), dropped);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("output record is malformed: " + e);
    }
  }

  /** The spec a view travels as, and the parts to make it again: tenant, stream, group-by (null: every dim), filter. */
  private static void view(DataOutputStream out, View v) throws IOException {
    out.writeUTF(v.stream().tenant());
    out.writeUTF(v.stream().name());
    out.writeBoolean(v.allDims());
    out.writeInt(v.groupBy().size());
    for (String g : v.groupBy()) {
      out.writeUTF(g);
    }
    out.writeInt(v.filter().size());
    for (Map.Entry<String, Set<String>> f : v.filter().entrySet()) {
      out.writeUTF(f.getKey());
      out.writeInt(f.getValue().size());
      for (String s : f.getValue()) {
        out.writeUTF(s);
      }
    }
  }

  /** The rest of a view's definition after its stream, as the spec the reader's registry knows it by. */
  private static String readView(DataInputStream in, StreamId stream) throws IOException {
    boolean all = in.readBoolean();
    int gn = in.readInt();
    List<String> groupBy = new ArrayList<>(gn);
    for (int i = 0; i < gn; i++) {
      groupBy.add(in.readUTF());
    }
    int fn = in.readInt();
    Map<String, Set<String>> filter = new TreeMap<>();
    for (int i = 0; i < fn; i++) {
      String k = in.readUTF();
      int vn = in.readInt();
      Set<String> vs = new TreeSet<>();
      for (int j = 0; j < vn; j++) {
        vs.add(in.readUTF());
      }
      filter.put(k, vs);
    }
    return View.spec(stream, filter, all ? null : groupBy);
  }

  private static void dims(DataOutputStream out, Dims d) throws IOException {
    out.writeInt(d.size());
    for (int i = 0; i < d.size(); i++) {
      out.writeUTF(d.key(i));
      out.writeUTF(d.value(i));
    }
  }

  private static Dims readDims(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n == 0) {
      return Dims.EMPTY;
    }
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      m.put(in.readUTF(), in.readUTF());
    }
    return Dims.of(m);
  }

  /** A JSON message (alert transition, view holds). */
  public static byte[] encodeJson(io.vertx.core.json.JsonObject json) {
    byte[] text = json.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] out = new byte[text.length + 1];
    out[0] = JSON;
    System.arraycopy(text, 0, out, 1, text.length);
    return out;
  }

  public static io.vertx.core.json.JsonObject decodeJson(byte[] value) {
    return new io.vertx.core.json.JsonObject(new String(value, 1, value.length - 1, java.nio.charset.StandardCharsets.UTF_8));
  }
}

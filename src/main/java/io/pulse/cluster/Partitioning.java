package io.pulse.cluster;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * Which partition of the events topic a series lives in, and which partition is a stream's home
 * (whose owner raises the alerts of the stream's totals and group-bys). Every instance computes the
 * same answer: murmur2 of the series' canonical key, as Kafka's own partitioner hashes record keys,
 * so a producer outside Pulse that keys its records by {@link #seriesKey} lands on the same partition.
 */
public final class Partitioning {

  private final int partitions;

  public Partitioning(int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    this.partitions = partitions;
  }

  public int partitions() {
    return partitions;
  }

  /** The canonical key of a series: tenant, stream and its dims in name order, separated by NUL. */
  public static byte[] seriesKey(StreamId stream, Dims dims) {
    StringBuilder sb = new StringBuilder(64).append(stream.tenant()).append('\0').append(stream.name());
    for (int i = 0; i < dims.size(); i++) {
      sb.append('\0').append(dims.key(i)).append('=').append(dims.value(i));
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The partition of a series. */
  public int of(StreamId stream, Dims dims) {
    return Utils.toPositive(Utils.murmur2(seriesKey(stream, dims))) % partitions;
  }

  /** A stream's home partition: its owner evaluates rules on the stream's totals and group-bys. */
  public int home(StreamId stream) {
    byte[] key = (stream.tenant() + '\0' + stream.name()).getBytes(StandardCharsets.UTF_8);
    return Utils.toPositive(Utils.murmur2(key)) % partitions;
  }
}

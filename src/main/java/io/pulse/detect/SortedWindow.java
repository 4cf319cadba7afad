package io.pulse.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The last {@code capacity} values of a series, kept both in arrival order (a ring, to know which
 * value leaves) and sorted (for quantiles and ranks in O(log n)). Adding costs one binary search and
 * one array shift of at most {@code capacity} elements.
 */
final class SortedWindow {

  private final double[] ring;
  private final double[] sorted;
  private int size;
  private int head; // index in ring of the next write

  SortedWindow(int capacity) {
    ring = new double[capacity];
    sorted = new double[capacity];
  }

  int size() {
    return size;
  }

  int capacity() {
    return ring.length;
  }

  void add(double v) {
    if (size == ring.length) {
      double old = ring[head];
      int i = indexOf(old);
      System.arraycopy(sorted, i + 1, sorted, i, size - i - 1);
      size--;
    }
    ring[head] = v;
    head = (head + 1) % ring.length;
    int at = insertionPoint(v);
    System.arraycopy(sorted, at, sorted, at + 1, size - at);
    sorted[at] = v;
    size++;
  }

  /** The q-quantile (0..1) by linear interpolation; NaN when empty. */
  double quantile(double q) {
    if (size == 0) {
      return Double.NaN;
    }
    double pos = q * (size - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, size - 1);
    double f = pos - lo;
    return sorted[lo] + f * (sorted[hi] - sorted[lo]);
  }

  double min() {
    return size == 0 ? Double.NaN : sorted[0];
  }

  double max() {
    return size == 0 ? Double.NaN : sorted[size - 1];
  }

  /** The value added {@code back} additions ago (0 = the newest). */
  double recent(int back) {
    int i = head - 1 - back;
    while (i < 0) {
      i += ring.length;
    }
    return ring[i];
  }

  private int indexOf(double v) {
    int i = Arrays.binarySearch(sorted, 0, size, v);
    if (i < 0) {
      // NaN never enters; a miss would mean a broken invariant
      throw new IllegalStateException("window lost a value");
    }
    return i;
  }

  private int insertionPoint(double v) {
    int i = Arrays.binarySearch(sorted, 0, size, v);
    return i >= 0 ? i : -i - 1;
  }

  void writeTo(DataOutput out) throws IOException {
    out.writeInt(size);
    out.writeInt(head);
    for (int k = 0; k < size; k++) {
      // oldest first
      out.writeDouble(recent(size - 1 - k));
    }
  }

  void readFrom(DataInput in) throws IOException {
    int n = in.readInt();
    int h = in.readInt();
    if (n < 0 || n > ring.length || h < 0 || h >= ring.length) {
      throw new IOException("bad window snapshot");
    }
    size = 0;
    head = (h - n + ring.length) % ring.length;
    for (int k = 0; k < n; k++) {
      add(in.readDouble());
    }
    if (head != h) {
      throw new IOException("bad window snapshot");
    }
  }
}

package io.pulse.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which address a request comes from, for the per-address limits: the TCP peer, unless the peer
 * is one of the trusted proxies ({@code http.trustedProxies}: addresses or CIDR ranges such as
 * {@code 10.0.0.0/8}); then the rightmost address of {@code X-Forwarded-For} that is not a
 * trusted proxy (entries further left are whatever the client wrote, so they are never believed).
 * With no trusted proxies (the default) X-Forwarded-For is ignored. IPv6 clients are limited by their
 * /64 ({@link #limitKey}). Immutable, thread-safe.
 */
public final class ClientAddress {

  private record Range(byte[] net, int bits) {
    boolean contains(byte[] a) {
      if (a.length != net.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != net[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (a[full] & mask) == (net[full] & mask);
    }
  }

  private final List<Range> trusted;

  /**
   * @param trustedProxies addresses and CIDR ranges (IPv4 or IPv6 literals; no host names)
   * @throws IllegalArgumentException naming an entry that is neither
   */
  public ClientAddress(List<String> trustedProxies) {
    List<Range> out = new ArrayList<>();
    for (String t : trustedProxies) {
      String s = t.trim();
      int slash = s.indexOf('/');
      byte[] a = literal(slash < 0 ? s : s.substring(0, slash));
      if (a == null) {
        throw new IllegalArgumentException("\"" + t + "\" is not an IP address or a CIDR range such as 10.0.0.0/8");
      }
      int bits = a.length * 8;
      if (slash >= 0) {
        try {
          bits = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
          bits = -1;
        }
        if (bits < 0 || bits > a.length * 8) {
          throw new IllegalArgumentException("\"" + t + "\": the prefix length must be 0 to " + a.length * 8);
        }
      }
      out.add(new Range(a, bits));
    }
    this.trusted = List.copyOf(out);
  }

  /** The bytes of an IP literal, null for anything else (never a name lookup). */
  static byte[] literal(String s) {
    if (s.isEmpty() || s.length() > 45) {
      return null;
    }
    String t = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    boolean v6 = t.indexOf(':') >= 0;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || c == '.' || (v6 && (c == ':' || (c >= 'a' && c <= 'f')
          || (c >= 'A' && c <= 'F')));
      if (!ok) {
        return null;
      }
    }
    if (!v6 && t.chars().filter(c -> c == '.').count() != 3) {
      return null; // "10" or "10.1" would be taken by InetAddress as a number; only dotted quads here
    }
    try {
      return InetAddress.getByName(t).getAddress(); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private boolean trusted(byte[] a) {
    for (Range r : trusted) {
      if (r.contains(a)) {
        return true;
      }
    }
    return false;
  }

  public boolean trustsAnyProxy() {
    return !trusted.isEmpty();
  }

  /**
   * The client's address.
   *
   * @param peer the TCP peer's address (an IP literal)
   * @param forwardedFor the X-Forwarded-For header, or null
   */
  public String of(String peer, String forwardedFor) {
    if (trusted.isEmpty() || forwardedFor == null) {
      return peer;
    }
    byte[] p = literal(peer);
    if (p == null || !trusted(p)) {
      return peer;
    }
    String client = peer;
    String[] hops = forwardedFor.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String h = hops[i].trim();
      byte[] a = literal(h);
      if (a == null) {
        return client; // not an address: the nearest hop that can be named stands for the client
      }
      client = normal(a, h);
      if (!trusted(a)) {
        return client;
      }
    }
    return client;
  }

  /**
   * The key of an address for the per-address limits: an IPv4 address as it is, an IPv6 address by
   * its /64 (one subscriber's network usually, whose 2^64 addresses would otherwise each get a
   * budget of their own). Text that is not an address is its own key.
   */
  public static String limitKey(String address) {
    if (address == null || address.indexOf(':') < 0) {
      return address;
    }
    byte[] a = literal(address);
    if (a == null) {
      return address;
    }
    if (a.length == 16) {
      java.util.Arrays.fill(a, 8, 16, (byte) 0);
      return normal(a, address) + "/64";
    }
    return normal(a, address);
  }

  private static String normal(byte[] a, String text) {
    try {
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (UnknownHostException e) {
      return text;
    }
  }
}

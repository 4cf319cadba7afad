package io.pulse.testing;

import io.pulse.core.Caller;
import io.pulse.core.CallerResolver;
import java.util.Map;

/**
 * A CallerResolver for tests only, installed in-process ({@code Pulse.callers}): the tenant is
 * the {@value #HEADER} header, anonymous without it. The server itself has no such rule; no
 * setting turns it on.
 */
public final class TestTenants {

  public static final String HEADER = "X-Test-Tenant";

  /** Reads {@value #HEADER}; an invalid tenant id fails resolution (the server answers 401). */
  public static final CallerResolver RESOLVER = (header, param) -> {
    String t = header.apply(HEADER);
    return t == null ? Caller.ANONYMOUS : new Caller(t, "test-" + t);
  };

  private TestTenants() {
  }

  /** The header that makes a request {@code tenant}'s, as name, value pairs for TestPulse.request. */
  public static String[] as(String tenant) {
    return new String[] {HEADER, tenant};
  }

  /** The same as a map, for LiveClient. */
  public static Map<String, String> headers(String tenant) {
    return Map.of(HEADER, tenant);
  }
}

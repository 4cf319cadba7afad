package io.pulse.core;

import java.util.List;

/**
 * What a caller may do: a list of scopes, each for every stream of its tenant or for the streams
 * whose names match a pattern ({@code read:checkout*}). {@link Scope#ADMIN} allows everything.
 * The JWT work fills it from the token's scope claim; without authentication every caller has
 * {@link #ALL}.
 *
 * <p>{@code only}, when not null, narrows every grant to the streams it accepts, whatever the
 * patterns say: a display token reads only the streams its dashboard (or playlist) names
 * ({@link #only(java.util.function.Predicate)}); null for every other caller.
 */
public record Grants(List<Grant> list, java.util.function.Predicate<String> only) {

  /** One scope, for the streams matching {@code pattern} ('*' any run of characters), or all when null. */
  public record Grant(Scope scope, String pattern) {
    public Grant {
      if (scope == null || scope == Scope.PUBLIC || scope == Scope.AUTHENTICATED) {
        throw new IllegalArgumentException("a grant names a scope other than PUBLIC and AUTHENTICATED");
      }
    }

    /** Whether this grant covers stream {@code name} (null: a route that names no stream). */
    boolean covers(String name) {
      return pattern == null || (name != null && glob(pattern, name));
    }

    /** "read" or "read:checkout*": as the scope claim writes it. */
    @Override
    public String toString() {
      return scope.name().toLowerCase(java.util.Locale.ROOT) + (pattern == null ? "" : ":" + pattern);
    }
  }

  /** Every scope on every stream: the caller of a server without authentication. */
  public static final Grants ALL = new Grants(List.of(new Grant(Scope.ADMIN, null)));

  public Grants {
    list = List.copyOf(list);
  }

  /** Grants for every stream their patterns name. */
  public Grants(List<Grant> list) {
    this(list, null);
  }

  /** These grants, for only the streams {@code streams} accepts (and still only where they allowed before). */
  public Grants only(java.util.function.Predicate<String> streams) {
    java.util.function.Predicate<String> narrowed = only == null ? streams : only.and(streams);
    return new Grants(list, narrowed);
  }

  /** Whether some grant gives {@code scope} (or ADMIN) on at least some streams. */
  public boolean allows(Scope scope) {
    if (scope == Scope.PUBLIC || scope == Scope.AUTHENTICATED) {
      return true;
    }
    for (Grant g : list) {
      if (g.scope() == scope || g.scope() == Scope.ADMIN) {
        return true;
      }
    }
    return false;
  }

  /** Whether some grant gives {@code scope} (or ADMIN) on stream {@code name}. */
  public boolean allows(Scope scope, String name) {
    if (scope == Scope.PUBLIC || scope == Scope.AUTHENTICATED) {
      return true;
    }
    if (only != null && (name == null || !only.test(name))) {
      return false; // narrowed to some streams: never "every stream", never one outside them
    }
    for (Grant g : list) {
      if ((g.scope() == scope || g.scope() == Scope.ADMIN) && g.covers(name)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code scope} is given on every stream (no pattern): a listing need not be filtered. */
  public boolean allowsAll(Scope scope) {
    return allows(scope, null);
  }

  /** '*' matches any run of characters (also none); everything else matches itself. */
  static boolean glob(String pattern, String s) {
    int p = 0;
    int i = 0;
    int star = -1;
    int mark = 0;
    while (i < s.length()) {
      if (p < pattern.length() && pattern.charAt(p) != '*' && pattern.charAt(p) == s.charAt(i)) {
        p++;
        i++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = i;
      } else if (star >= 0) {
        p = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }
}

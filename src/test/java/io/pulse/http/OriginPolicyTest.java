package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pulse.http.OriginPolicy.Verdict;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("OriginPolicy: same origin, configured origins, any only when configured")
class OriginPolicyTest {

  @Test
  @DisplayName("origins are normalised: lower case, no default port; paths, queries and non-http schemes are not origins")
  void normalise() {
    assertEquals("https://dash.example.com", OriginPolicy.normalise("HTTPS://Dash.Example.COM:443"));
    assertEquals("http://a.b:8080", OriginPolicy.normalise("http://a.b:8080"));
    assertEquals("http://a.b", OriginPolicy.normalise("http://a.b:80/"));
    assertEquals("https://a.b:80", OriginPolicy.normalise("https://a.b:80"));
    assertEquals("http://[::1]:8080", OriginPolicy.normalise("http://[::1]:8080"));
    assertNull(OriginPolicy.normalise("https://a.b/path"));
    assertNull(OriginPolicy.normalise("https://a.b?x=1"));
    assertNull(OriginPolicy.normalise("null"));
    assertNull(OriginPolicy.normalise("ftp://a.b"));
    assertNull(OriginPolicy.normalise("https://user@a.b"));
    assertNull(OriginPolicy.normalise("*"));
  }

  @Test
  @DisplayName("no Origin passes; the request's own host and port is the same origin whatever the scheme")
  void sameOrigin() {
    OriginPolicy p = new OriginPolicy(List.of());
    assertEquals(Verdict.NONE, p.judge(null, "pulse.local:8080"));
    assertEquals(Verdict.SAME, p.judge("http://pulse.local:8080", "pulse.local:8080"));
    assertEquals(Verdict.SAME, p.judge("https://PULSE.local:8080", "pulse.local:8080"));
    assertEquals(Verdict.SAME, p.judge("https://pulse.local", "pulse.local"));
    assertEquals(Verdict.SAME, p.judge("https://pulse.local", "pulse.local:443"));
    assertEquals(Verdict.SAME, p.judge("http://[::1]:8080", "[::1]:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("http://pulse.local:8081", "pulse.local:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("https://pulse.local", "pulse.local:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("http://evil.local:8080", "pulse.local:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("null", "pulse.local:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("http://pulse.local:8080", null));
  }

  @Test
  @DisplayName("configured origins are allowed, others not; * allows any")
  void configured() {
    OriginPolicy p = new OriginPolicy(List.of("https://dash.example.com"));
    assertEquals(Verdict.ALLOWED, p.judge("https://dash.example.com", "pulse:8080"));
    assertEquals(Verdict.ALLOWED, p.judge("https://DASH.example.com:443", "pulse:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("http://dash.example.com", "pulse:8080"));
    assertEquals(Verdict.FOREIGN, p.judge("https://dash.example.com.evil.net", "pulse:8080"));
    OriginPolicy any = new OriginPolicy(List.of("*"));
    assertEquals(Verdict.ALLOWED, any.judge("https://anything.example", "pulse:8080"));
    assertEquals(Verdict.ALLOWED, any.judge("null", "pulse:8080"));
  }
}

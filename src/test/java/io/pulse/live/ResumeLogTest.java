package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ResumeLogTest {

  private static LiveMessage msg(ResumeLog log) {
    long s = log.next();
    LiveMessage m = new LiveMessage(1, "k", true, s, "rollup", "{\"n\":" + s + "}", null);
    log.append(m);
    return m;
  }

  @Test
  @DisplayName("a client gets exactly the messages after the id it last saw")
  void replaysAfter() {
    ResumeLog log = new ResumeLog(4);
    for (int i = 0; i < 3; i++) {
      msg(log);
    }
    List<LiveMessage> after1 = log.after(1);
    assertEquals(2, after1.size());
    assertEquals(2, after1.get(0).seq());
    assertEquals(3, after1.get(1).seq());
    assertEquals(0, log.after(3).size(), "up to date");
    assertEquals(3, log.after(0).size(), "from the start");
  }

  @Test
  @DisplayName("when what a client missed has fallen out of the ring, it must reset")
  void tooOld() {
    ResumeLog log = new ResumeLog(4);
    for (int i = 0; i < 10; i++) {
      msg(log);
    }
    assertEquals(7, log.oldest());
    assertEquals(4, log.after(6).size());
    assertNull(log.after(5), "seq 6 is gone");
    assertNull(log.after(11), "an id this log never gave out");
  }

  @Test
  @DisplayName("a log made again above a base resets ids from before it, and resumes ids from its own numbering")
  void base() {
    ResumeLog log = new ResumeLog(4, 10);
    assertEquals(10, log.seq());
    assertEquals(0, log.after(10).size(), "subscribed at the base, nothing since");
    msg(log);
    msg(log);
    assertEquals(12, log.seq());
    assertNull(log.after(9), "an id from an earlier incarnation of the view");
    assertNull(log.after(3));
    assertEquals(2, log.after(10).size());
    assertEquals(12, log.after(11).get(0).seq());
  }
}

package io.pulse.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The dashboard editor and kiosk mode in a real Chromium against a real Pulse with storage (the
 * dashboards are stored documents) and authentication on: the editor's pages carry an admin token in
 * the URL (kept in memory by the page), the kiosk pages a display token made through the API.
 * Events of stream {@code kw} arrive four times a second for the whole class.
 */
@DisplayName("Dashboard editor and kiosk mode in a real browser")
class EditorKioskBrowserTest {

  private static TestPulse pulse;
  private static String admin;
  private static ScheduledExecutorService poster;

  @BeforeAll
  static void start() {
    Browser.assumeInstalled();
    pulse = TestPulse.startWithStorage(PgFixture.freshDatabase(), new JsonObject()
        .put("auth", new JsonObject().put("enabled", true))
        .put("live", new JsonObject().put("flushMs", 100).put("heartbeatMs", 1000)));
    admin = pulse.token("default", "admin");
    String ingest = pulse.token("default", "ingest");
    poster = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "kw-poster");
      t.setDaemon(true);
      return t;
    });
    poster.scheduleAtFixedRate(() -> {
      try {
        long now = System.currentTimeMillis();
        pulse.request("POST", "/api/v1/events", new JsonArray()
            .add(new JsonObject().put("stream", "kw").put("ts", now).put("dims", new JsonObject().put("region", "eu"))
                .put("values", new JsonObject().put("v", 10 + now % 7)))
            .add(new JsonObject().put("stream", "kw").put("ts", now).put("dims", new JsonObject().put("region", "us"))
                .put("values", new JsonObject().put("v", 20 + now % 5))).encode(), TestPulse.bearer(ingest));
      } catch (RuntimeException e) {
        // the next tick tries again
      }
    }, 0, 250, TimeUnit.MILLISECONDS);
    io.pulse.testing.Await.until("stream kw in the catalogue", () -> as(admin, "GET", "/api/v1/streams", null).body(),
        b -> b.contains("\"kw\""), 20_000);
  }

  @AfterAll
  static void stop() throws Exception {
    if (poster != null) {
      poster.shutdownNow();
      poster.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (pulse != null) {
      pulse.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static HttpResponse<String> as(String token, String method, String path, String body, String... more) {
    String[] h = new String[2 + more.length];
    h[0] = "Authorization";
    h[1] = "Bearer " + token;
    System.arraycopy(more, 0, h, 2, more.length);
    return pulse.request(method, path, body, h);
  }

  private static JsonObject statPanel(String id, int x) {
    return new JsonObject().put("id", id).put("kind", "stat").put("title", "Events " + id)
        .put("grid", new JsonObject().put("x", x).put("y", 0).put("w", 3).put("h", 3))
        .put("query", new JsonObject().put("stream", "kw").put("figure", "count"));
  }

  /** Stores a dashboard with {@code panels} stat panels; answers its document. */
  private static JsonObject dashboard(String id, String title, int panels) {
    JsonArray ps = new JsonArray();
    for (int i = 0; i < panels; i++) {
      ps.add(statPanel("p" + (i + 1), i * 3));
    }
    HttpResponse<String> r = as(admin, "POST", "/api/v1/dashboards", new JsonObject().put("id", id).put("title", title)
        .put("time", new JsonObject().put("range", "15m").put("window", "1s")).put("panels", ps).encode());
    assertEquals(201, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static JsonObject stored(String id) {
    HttpResponse<String> r = as(admin, "GET", "/api/v1/dashboards/" + id, null);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static String url(String query) {
    return pulse.baseUrl() + "/?" + query + "&access_token=" + admin;
  }

  /** Opens the dashboard and then its editor (the Edit button the page shows an admin). */
  private static void openEditor(Browser b, String id) throws Exception {
    b.get(url("dashboard=" + id));
    b.waitFor("the dashboard and its Edit button", Duration.ofSeconds(20), () ->
        b.driver().findElements(By.id("edit-btn")).size() == 1 && b.num("window.__pulse.stats().panels") > 0);
    b.driver().findElement(By.id("edit-btn")).click();
    b.waitFor("the editor", Duration.ofSeconds(10), () -> b.driver().findElements(By.cssSelector(".pe-editing #pe-save")).size() == 1);
  }

  private static String status(Browser b) {
    return b.driver().findElement(By.cssSelector(".pe-status")).getText();
  }

  private static void setTitle(Browser b, String title) {
    WebElement t = b.driver().findElement(By.id("pe-title"));
    t.clear();
    t.sendKeys(title);
  }

  /** Keys to whatever has the focus, as a user types them (with shift held when asked). */
  private static void keys(Browser b, boolean shift, Keys... keys) {
    for (Keys k : keys) {
      org.openqa.selenium.interactions.Actions a = new org.openqa.selenium.interactions.Actions(b.driver());
      (shift ? a.keyDown(Keys.SHIFT).sendKeys(k).keyUp(Keys.SHIFT) : a.sendKeys(k)).perform();
    }
  }

  // ---------------------------------------------------------------- editor

  @Test
  @DisplayName("the editor adds a panel and saves; a second browser showing the dashboard picks the change up by itself")
  void savedChangeReachesSecondBrowser() throws Exception {
    dashboard("ed-share", "Shared board", 1);
    try (Browser a = Browser.open(); Browser b = Browser.open()) {
      b.get(url("dashboard=ed-share"));
      b.waitFor("the dashboard in the second browser", Duration.ofSeconds(20), () -> b.num("window.__pulse.stats().panels") == 1);
      b.js("window.__noReload = true");

      openEditor(a, "ed-share");
      setTitle(a, "Shared board, edited");
      new org.openqa.selenium.support.ui.Select(a.driver().findElement(By.id("pe-add-kind"))).selectByValue("text");
      a.driver().findElement(By.id("pe-add")).click();
      a.driver().findElement(By.id("pe-text")).sendKeys("Hello from the editor");
      assertTrue(status(a).contains("Unsaved"), status(a));
      a.screenshot("editor.png");
      a.driver().findElement(By.id("pe-save")).click();
      a.waitFor("saved as version 2", Duration.ofSeconds(10), () -> status(a).contains("Saved, version 2"));

      JsonObject s = stored("ed-share");
      assertEquals(2, s.getInteger("version"));
      assertEquals("Shared board, edited", s.getString("title"));
      assertEquals(2, s.getJsonArray("panels").size());
      assertEquals("Hello from the editor", s.getJsonArray("panels").getJsonObject(1).getJsonObject("options").getString("text"));

      b.waitFor("the second browser to show the saved version without a reload", Duration.ofSeconds(20), () ->
          b.num("window.__pulse.stats().panels") == 2
              && "Shared board, edited".equals(b.driver().findElement(By.id("title")).getText()));
      assertEquals(Boolean.TRUE, b.js("return window.__noReload === true"), "picked up without a reload");
      assertTrue(b.driver().findElement(By.id("board")).getText().contains("Hello from the editor"));
    }
  }

  @Test
  @DisplayName("a save that lost the race shows both versions; nothing is lost, and 'overwrite' stores the user's edit")
  void conflictIsShownNotLost() throws Exception {
    dashboard("ed-race", "Race", 1);
    try (Browser a = Browser.open()) {
      openEditor(a, "ed-race");
      // someone else saves version 2 meanwhile
      JsonObject theirs = stored("ed-race").put("title", "Their title");
      HttpResponse<String> put = as(admin, "PUT", "/api/v1/dashboards/ed-race", theirs.encode(), "If-Match", "\"1\"");
      assertEquals(200, put.statusCode(), put.body());

      setTitle(a, "My title");
      a.driver().findElement(By.id("pe-save")).click();
      a.waitFor("the conflict dialog", Duration.ofSeconds(10), () -> a.driver().findElements(By.id("pe-conflict")).size() == 1);
      String mine = a.driver().findElement(By.id("pe-conflict-mine")).getText();
      String other = a.driver().findElement(By.id("pe-conflict-theirs")).getText();
      assertTrue(mine.contains("My title"), mine);
      assertTrue(other.contains("Their title"), other);
      assertTrue(a.driver().findElement(By.id("pe-conflict")).getText().contains("version 2"));
      assertEquals("Their title", stored("ed-race").getString("title"), "nothing overwritten yet");

      // keep editing first: the edit is still in the form
      a.driver().findElement(By.id("pe-conflict-keep")).click();
      assertEquals("My title", a.driver().findElement(By.id("pe-title")).getAttribute("value"));
      assertTrue(a.driver().findElement(By.cssSelector(".pe-alert")).getText().contains("Your edit is kept"));

      a.driver().findElement(By.id("pe-save")).click();
      a.waitFor("the conflict dialog again", Duration.ofSeconds(10), () -> a.driver().findElements(By.id("pe-conflict")).size() == 1);
      a.driver().findElement(By.id("pe-conflict-overwrite")).click();
      a.waitFor("saved as version 3", Duration.ofSeconds(10), () -> status(a).contains("Saved, version 3"));
      JsonObject s = stored("ed-race");
      assertEquals(3, s.getInteger("version"));
      assertEquals("My title", s.getString("title"));
    }
  }

  @Test
  @DisplayName("keyboard: arrow keys move the focused panel, shift+arrows resize it, the focus is visible, and the layout saves")
  void keyboardMovesAndResizes() throws Exception {
    dashboard("ed-keys", "Keys", 1);
    try (Browser a = Browser.open()) {
      openEditor(a, "ed-keys");
      WebElement box = a.driver().findElement(By.cssSelector("[data-panel=p1]"));
      box.click();
      a.waitFor("the panel focused", Duration.ofSeconds(5), () -> "p1".equals(a.js("return document.activeElement.dataset.panel")));
      assertNotEquals("none", a.js("return getComputedStyle(document.activeElement).outlineStyle"), "visible focus");
      keys(a, false, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_DOWN);
      keys(a, true, Keys.ARROW_RIGHT, Keys.ARROW_DOWN, Keys.ARROW_DOWN);
      String label = (String) a.js("return document.activeElement.getAttribute('aria-label')");
      assertTrue(label.contains("column 3, row 2, 4 wide, 5 high"), label);
      a.driver().findElement(By.id("pe-save")).click();
      a.waitFor("saved", Duration.ofSeconds(10), () -> status(a).contains("Saved, version 2"));
      JsonObject grid = stored("ed-keys").getJsonArray("panels").getJsonObject(0).getJsonObject("grid");
      assertEquals(new JsonObject().put("x", 2).put("y", 1).put("w", 4).put("h", 5), grid);

      // the grid's edge holds: 12 columns
      box = a.driver().findElement(By.cssSelector("[data-panel=p1]"));
      box.click();
      for (int i = 0; i < 12; i++) {
        keys(a, false, Keys.ARROW_RIGHT);
      }
      label = (String) a.js("return document.activeElement.getAttribute('aria-label')");
      assertTrue(label.contains("column 9,"), "x + w stays <= 12: " + label);
    }
  }

  @Test
  @DisplayName("export then import makes an equal dashboard; an import the server refuses shows its 400 reason")
  void exportImportRoundTrip() throws Exception {
    dashboard("ed-io", "Round trip", 2);
    try (Browser a = Browser.open()) {
      openEditor(a, "ed-io");
      a.driver().findElement(By.id("pe-export")).click();
      String exported = (String) a.js("return window.__pulseEditor.lastExport");
      JsonObject doc = new JsonObject(exported);
      assertEquals("Round trip", doc.getString("title"));
      assertFalse(doc.containsKey("version"), "no server fields in the export: " + exported);
      Path file = Files.createTempFile("dashboard-", ".json");
      Files.writeString(file, exported);

      a.driver().findElement(By.id("pe-import-file")).sendKeys(file.toAbsolutePath().toString());
      a.waitFor("the imported dashboard in the editor", Duration.ofSeconds(10), () -> status(a).contains("Imported"));
      String newId = (String) a.js("return window.__pulseEditor.id");
      assertNotEquals("ed-io", newId);
      JsonObject imported = stored(newId);
      assertEquals(stored("ed-io").getJsonArray("panels"), imported.getJsonArray("panels"));
      assertEquals("Round trip", imported.getString("title"));

      JsonObject bad = doc.copy();
      bad.getJsonArray("panels").getJsonObject(0).put("kind", "pie");
      Files.writeString(file, bad.encode());
      a.driver().findElement(By.id("pe-import-file")).sendKeys(file.toAbsolutePath().toString());
      a.waitFor("the server's reason", Duration.ofSeconds(10), () -> a.driver().findElement(By.cssSelector(".pe-alert")).isDisplayed());
      String alert = a.driver().findElement(By.cssSelector(".pe-alert")).getText();
      assertTrue(alert.contains("Not imported (400)") && alert.contains("panels[0].kind"), alert);
      Files.deleteIfExists(file);
    }
  }

  @Test
  @DisplayName("the mouse drags a panel across the grid; duplicate makes a copy; delete asks first, then removes it")
  void mouseDuplicateDelete() throws Exception {
    dashboard("ed-mouse", "Mouse", 1);
    try (Browser a = Browser.open()) {
      openEditor(a, "ed-mouse");
      WebElement grid = a.driver().findElement(By.id("pe-grid"));
      WebElement box = a.driver().findElement(By.cssSelector("[data-panel=p1]"));
      int column = grid.getSize().getWidth() / 12;
      new org.openqa.selenium.interactions.Actions(a.driver()).moveToElement(box).clickAndHold()
          .moveByOffset(column, 0).moveByOffset(column, 0).moveByOffset(column, 0).release().perform();
      a.waitFor("the panel three columns to the right", Duration.ofSeconds(5), () -> String.valueOf(
          a.js("return document.querySelector('[data-panel=p1]').getAttribute('aria-label')")).contains("column 4, row 1"));
      a.driver().findElement(By.id("pe-save")).click();
      a.waitFor("saved", Duration.ofSeconds(10), () -> status(a).contains("Saved, version 2"));
      assertEquals(3, stored("ed-mouse").getJsonArray("panels").getJsonObject(0).getJsonObject("grid").getInteger("x"));

      a.driver().findElement(By.id("pe-duplicate")).click();
      a.waitFor("the copy in the editor", Duration.ofSeconds(10), () -> status(a).contains("Duplicated"));
      String copy = (String) a.js("return window.__pulseEditor.id");
      assertNotEquals("ed-mouse", copy);
      assertEquals("Copy of Mouse", stored(copy).getString("title"));
      assertEquals(stored("ed-mouse").getJsonArray("panels"), stored(copy).getJsonArray("panels"));

      a.driver().findElement(By.id("pe-delete")).click();
      a.waitFor("the confirmation", Duration.ofSeconds(5), () -> a.driver().findElements(By.id("pe-confirm-no")).size() == 1);
      assertEquals("pe-confirm-no", a.js("return document.activeElement.id"), "the safe choice has the focus");
      a.driver().findElement(By.id("pe-confirm-no")).click();
      assertEquals(200, as(admin, "GET", "/api/v1/dashboards/" + copy, null).statusCode(), "cancel keeps it");
      a.driver().findElement(By.id("pe-delete")).click();
      a.waitFor("the confirmation", Duration.ofSeconds(5), () -> a.driver().findElements(By.id("pe-confirm-yes")).size() == 1);
      a.driver().findElement(By.id("pe-confirm-yes")).click();
      a.waitFor("the dashboard gone", Duration.ofSeconds(10), () ->
          as(admin, "GET", "/api/v1/dashboards/" + copy, null).statusCode() == 404);
      assertEquals(200, as(admin, "GET", "/api/v1/dashboards/ed-mouse", null).statusCode(), "the original stays");
    }
  }

  // ---------------------------------------------------------------- kiosk

  @Test
  @DisplayName("kiosk URL with a display token: the dashboard without chrome, again after a reload; once revoked, one plain message, no login form, no fast retry")
  void displayTokenThenRevoked() throws Exception {
    dashboard("tv-lobby", "Lobby", 2);
    HttpResponse<String> r = as(admin, "POST", "/api/v1/displays", "{\"name\":\"Lobby TV\",\"dashboard\":\"tv-lobby\"}");
    assertEquals(201, r.statusCode(), r.body());
    JsonObject display = new JsonObject(r.body());
    try (Browser b = Browser.open()) {
      b.get(pulse.baseUrl() + display.getString("url"));
      b.waitFor("the dashboard with live figures", Duration.ofSeconds(20), () ->
          b.num("window.__pulse.stats().panels") == 2 && b.num("window.__pulse.stats().lastDataAt") > 0);
      assertFalse(String.valueOf(b.js("return location.href")).contains("access_token"), "the token left the address bar");
      assertEquals(Boolean.TRUE, b.js("return document.documentElement.classList.contains('pk-kiosk')"));
      assertFalse(b.driver().findElement(By.cssSelector("header.topbar")).isDisplayed(), "no chrome");
      assertEquals("rgb(11, 14, 18)", b.js("return getComputedStyle(document.body).backgroundColor"), "dark");
      String fontSize = (String) b.js("return getComputedStyle(document.documentElement).fontSize");
      assertEquals("20.16px", fontSize, "1.05 vw at 1920 px");
      b.screenshot("kiosk-display.png");
      // a TV's browser that reloads the page (its address no longer has the token) shows the dashboard again
      b.driver().navigate().refresh();
      b.waitFor("the dashboard again after a reload", Duration.ofSeconds(20), () ->
          b.num("window.__pulse.stats().panels") == 2 && b.num("window.__pulse.stats().lastDataAt") > 0);
      assertTrue(b.driver().findElements(By.id("pk-message")).isEmpty(), "no revoked message after a reload");

      HttpResponse<String> del = as(admin, "DELETE", "/api/v1/displays/" + display.getString("id"), null);
      assertTrue(del.statusCode() == 200 || del.statusCode() == 204, del.body());
      b.waitFor("the revoked message", Duration.ofSeconds(30), () -> {
        List<WebElement> m = b.driver().findElements(By.id("pk-message"));
        return m.size() == 1 && m.get(0).isDisplayed() && m.get(0).getText().contains("revoked or has expired");
      });
      b.screenshot("kiosk-revoked.png");
      assertTrue(b.driver().findElements(By.cssSelector("input[type=password], form[action*=login]")).isEmpty(),
          "no login form");
      // no retry loop: the live socket is stopped with no reconnect scheduled, and the one retry of
      // the token is minutes away
      assertEquals(Boolean.TRUE, b.js("const c = window.__pulse.app.connection; return c.ws === null && !c.timers.reconnect"),
          "the live socket stopped, no reconnect scheduled");
      double retryInMs = b.num("window.__pulseKiosk.nextRetryAt - Date.now()");
      assertTrue(retryInMs > 3 * 60_000, "the token is tried again in minutes, not seconds: " + retryInMs + " ms");
    }
  }

  @Test
  @DisplayName("a playlist rotates between its two dashboards, the leaving dashboard's panels destroyed")
  void playlistRotates() throws Exception {
    dashboard("pl-a", "First", 1);
    dashboard("pl-b", "Second", 3);
    HttpResponse<String> r = as(admin, "POST", "/api/v1/playlists",
        "{\"id\":\"pl-ops\",\"title\":\"Ops\",\"interval\":\"10s\",\"dashboards\":[\"pl-a\",\"pl-b\"]}");
    assertEquals(201, r.statusCode(), r.body());
    HttpResponse<String> d = as(admin, "POST", "/api/v1/displays", "{\"name\":\"Ops TV\",\"playlist\":\"pl-ops\"}");
    assertEquals(201, d.statusCode(), d.body());
    String token = new JsonObject(d.body()).getString("token");
    try (Browser b = Browser.open()) {
      b.get(pulse.baseUrl() + "/?kiosk=1&playlist=pl-ops&access_token=" + token);
      b.waitFor("the first dashboard", Duration.ofSeconds(20), () ->
          "pl-a".equals(b.js("return window.__pulse.stats().dashboard")) && b.num("window.__pulse.stats().panels") == 1);
      b.waitFor("the second dashboard", Duration.ofSeconds(25), () ->
          "pl-b".equals(b.js("return window.__pulse.stats().dashboard")) && b.num("window.__pulse.stats().panels") == 3);
      assertEquals(3L, b.js("return document.querySelectorAll('#board .panel').length"),
          "only the shown dashboard's panels are in the page");
      b.waitFor("back to the first", Duration.ofSeconds(25), () ->
          "pl-a".equals(b.js("return window.__pulse.stats().dashboard")) && b.num("window.__pulse.stats().panels") == 1);
      b.waitFor("live figures", Duration.ofSeconds(10), () -> b.num("window.__pulse.stats().lastDataAt") > 0);
      assertTrue(b.driver().findElements(By.id("pk-message")).isEmpty()
          || !b.driver().findElement(By.id("pk-message")).isDisplayed(), "no message");
    }
  }
}

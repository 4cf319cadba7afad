package io.pulse.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The page's modules on their own, in a real Chromium (served by a real Pulse, no data needed):
 * every buffer stays bounded whatever it is fed (rings, maps, a DataSource given 100,000 rollups of
 * 1,000 series), the reconnect backoff stays within 0.5-1.5x of 0.5 s doubling to 10 s, and a
 * coarse window merges live windows exactly.
 */
@DisplayName("Wallboard modules: bounded buffers, backoff, window merging")
class PageModulesBrowserTest {

  private static Browser browser;
  private static TestPulse pulse;

  @BeforeAll
  static void open() throws Exception {
    browser = Browser.open();
    pulse = TestPulse.start(new JsonObject());
    browser.get(pulse.baseUrl() + "/");
  }

  @AfterAll
  static void close() {
    if (browser != null) {
      browser.close();
    }
    if (pulse != null) {
      pulse.close();
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> run(String body) {
    Object o = browser.driver().executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "(async () => {" + body + "})().then(done, e => done({error: String(e && e.stack || e)}));");
    Map<String, Object> m = (Map<String, Object>) o;
    assertTrue(m.get("error") == null, String.valueOf(m.get("error")));
    return m;
  }

  private static long n(Map<String, Object> m, String k) {
    return ((Number) m.get(k)).longValue();
  }

  @Test
  @DisplayName("Ring, BucketRing and BoundedMap never hold more than their capacity")
  void buffersBounded() {
    Map<String, Object> m = run("const b = await import('/js/buffers.js');"
        + "const r = new b.Ring(100); for (let i = 0; i < 10000; i++) r.push(i);"
        + "const br = new b.BucketRing(50); for (let i = 0; i < 5000; i++) br.upsert({start: i * 1000});"
        + "for (let i = 0; i < 100; i++) br.upsert({start: (4990 - i) * 1000, again: true});"
        + "br.upsert({start: 1000}); br.upsert({start: 4975500});"
        + "const bm = new b.BoundedMap(20); for (let i = 0; i < 1000; i++) bm.set('k' + i, i);"
        + "const starts = br.toArray().map(x => x.start);"
        + "return {ring: r.length, first: r.first(), last: r.last(), br: br.length, sorted: starts.every((s, i) => i === 0 || s > starts[i - 1]),"
        + " brFirst: starts[0], bm: bm.size, evicted: bm.evicted, hasOld: bm.has('k0'), hasNew: bm.has('k999')}");
    assertEquals(100, n(m, "ring"));
    assertEquals(9900, n(m, "first"));
    assertEquals(9999, n(m, "last"));
    assertEquals(50, n(m, "br"), "a bucket ring holds at most its capacity, also with updates and late inserts");
    assertEquals(Boolean.TRUE, m.get("sorted"), "kept sorted by start");
    assertEquals(20, n(m, "bm"));
    assertEquals(980, n(m, "evicted"));
    assertEquals(Boolean.FALSE, m.get("hasOld"));
    assertEquals(Boolean.TRUE, m.get("hasNew"));
  }

  @Test
  @DisplayName("reconnect backoff: 0.5 s doubling to 10 s, each delay times 0.5 to 1.5")
  void backoff() {
    Map<String, Object> m = run("const {Connection} = await import('/js/connection.js');"
        + "const lo = [], hi = [];"
        + "for (let a = 0; a < 12; a++) { lo.push(Connection.backoff(a, 0)); hi.push(Connection.backoff(a, 0.999999)); }"
        + "return {lo, hi}");
    List<?> lo = (List<?>) m.get("lo");
    List<?> hi = (List<?>) m.get("hi");
    assertEquals(250L, ((Number) lo.get(0)).longValue());
    assertEquals(750L, ((Number) hi.get(0)).longValue());
    assertEquals(500L, ((Number) lo.get(1)).longValue());
    assertEquals(5000L, ((Number) lo.get(11)).longValue(), "capped at 10 s before jitter");
    assertEquals(15000L, ((Number) hi.get(11)).longValue());
  }

  @Test
  @DisplayName("stale: set when the link is lost or no rollup came for a while with subscriptions open; cleared by the next rollup")
  void staleness() {
    Map<String, Object> m = run("const {Connection} = await import('/js/connection.js');"
        + "const c = new Connection({dataStaleMs: 20000}); const seen = []; c.on('stale', s => seen.push(s));"
        + "c.state = 'live'; c.subs.set('s1', {id: 's1', spec: {stream: 'x'}, handler: {}, status: 'live'});"
        + "c.lastDataAt = Date.now() - 1000; c.updateStale(); const fresh = c.staleSince;"
        + "c.lastDataAt = Date.now() - 30000; c.updateStale(); const quiet = c.staleSince;"
        + "c.onMessage(JSON.stringify({type: 'rollup', sub: 's1', start: 0, latest: Date.now() - 300, final: false}));"
        + "const after = c.staleSince;"
        + "c.lostAt = Date.now() - 5000; c.updateStale(); const lost = c.staleSince;"
        + "return {fresh, quiet: quiet > 0, quietAt: quiet, after, lost: c.lostAt === lost, events: seen.length}");
    assertEquals(0L, n(m, "fresh"), "data a second ago: fresh");
    assertEquals(Boolean.TRUE, m.get("quiet"), "no rollup for 30 s with a subscription open: stale");
    assertEquals(0L, n(m, "after"), "the next rollup clears it");
    assertEquals(Boolean.TRUE, m.get("lost"), "a lost link: stale since it was lost");
    assertEquals(3L, n(m, "events"));
  }

  @Test
  @DisplayName("every panel kind draws a view without errors (stacked time series, thresholds, text as text)")
  void panelsDrawAView() {
    Map<String, Object> m = run("const {Ring} = await import('/js/buffers.js');"
        + "const mkSeries = (key, vals) => { const r = new Ring(2000); const t0 = Math.floor(Date.now() / 1000) * 1000 - vals.length * 1000;"
        + " vals.forEach((v, i) => r.push({start: t0 + i * 1000, end: t0 + i * 1000 + 1000, value: v, count: v === null ? 0 : 1,"
        + " partial: i === vals.length - 1, score: i === 3 ? 0.9 : 0.1, band: {lo: 0, hi: 5}}));"
        + " return {key, dims: {k: key}, label: key, buckets: r, last: vals[vals.length - 1], lastSeen: Date.now() - 2000, score: 0.9, band: null}; };"
        + "const view = {window: 1000, from: 0, to: Date.now(), series: [mkSeries('a', [1, 2, null, 4, 5]), mkSeries('b', [2, 2, 2, null, 1])],"
        + " partialFrom: null, stale: false, status: 'live', error: null, warnings: []};"
        + "const conn = {serverNow: () => Date.now(), on: () => () => {}};"
        + "const alerts = {list: () => [], onChange: () => () => {}, watch: () => () => {}, status: 'ok'};"
        + "const out = {};"
        + "for (const kind of ['timeseries', 'stat', 'gauge', 'bar', 'table', 'statusgrid', 'alerts', 'text']) {"
        + "  const mod = (await import('/js/panels/' + kind + '.js')).default;"
        + "  const el = document.createElement('div'); el.style.width = '600px'; el.style.height = '300px'; document.body.append(el);"
        + "  const panel = {id: kind, kind, query: {stream: 's', groupBy: ['k']}, options: {stack: true, text: 'one\\n\\ntwo <i>x</i>',"
        + "   thresholds: [{value: 0, level: 'ok'}, {value: 4, level: 'critical'}], by: 'score'}};"
        + "  if (kind === 'statusgrid') delete panel.options.thresholds;" // by score: its default levels 0.5 and 0.8
        + "  const inst = mod.create(el, panel, {connection: conn, alerts, canAck: false});"
        + "  inst.update(view); inst.resize(600, 300); inst.update(view);"
        + "  out[kind] = el.textContent; inst.destroy(); el.remove(); }"
        + "return out");
    assertTrue(m.get("stat").toString().contains("Critical"), "5 is past the critical threshold, said in a word: " + m.get("stat"));
    assertTrue(m.get("gauge").toString().contains("Critical"), String.valueOf(m.get("gauge")));
    assertTrue(m.get("bar").toString().contains("a") && m.get("bar").toString().contains("b"), String.valueOf(m.get("bar")));
    assertTrue(m.get("table").toString().contains("Series"), String.valueOf(m.get("table")));
    assertTrue(m.get("statusgrid").toString().contains("Critical"), "score 0.9: critical, in a word: " + m.get("statusgrid"));
    assertTrue(m.get("alerts").toString().contains("No active alerts"), String.valueOf(m.get("alerts")));
    assertTrue(m.get("text").toString().contains("two <i>x</i>"), "text stays text: " + m.get("text"));
    assertTrue(m.get("timeseries").toString().contains("a") && m.get("timeseries").toString().contains("b"), String.valueOf(m.get("timeseries")));
  }

  @Test
  @DisplayName("an alerts panel without a stream lists the alerts of its dashboard's streams only; with one, that stream's")
  void alertsPanelFollowsItsDashboardsStreams() {
    Map<String, Object> m = run("const {AlertStore} = await import('/js/data.js');"
        + "const store = new AlertStore({api: null, connection: null}); store.status = 'ok';"
        + "for (const [id, stream] of [['a1', 'checkout'], ['a2', 'cart'], ['a3', 'payments']])"
        + "  store.put({id, stream, rule: 'r-' + stream, ruleName: 'rule of ' + stream, state: 'firing', severity: 'warning', at: Date.now()});"
        + "const mod = (await import('/js/panels/alerts.js')).default;"
        + "const shown = (query, streams) => { const el = document.createElement('div'); document.body.append(el);"
        + "  const inst = mod.create(el, {id: 'al', kind: 'alerts', query}, {alerts: store, canAck: false, streams});"
        + "  const ids = [...el.querySelectorAll('li[data-id]')].map(li => li.dataset.id).sort();"
        + "  inst.destroy(); el.remove(); return ids; };"
        + "return {dashboard: shown(null, ['checkout', 'cart']), named: shown({stream: 'payments'}, ['checkout', 'cart']),"
        + " everything: shown(null, [])}");
    assertEquals(List.of("a1", "a2"), m.get("dashboard"), "the dashboard's streams, not payments");
    assertEquals(List.of("a3"), m.get("named"), "the panel's own stream");
    assertEquals(List.of("a1", "a2", "a3"), m.get("everything"), "a dashboard that names no stream: every alert");
  }

  @Test
  @DisplayName("a DataSource fed 100,000 rollups of 1,000 series holds at most top x 2 series and 2,000 buckets each")
  void dataSourceBounded() {
    Map<String, Object> m = run("const {DataSource} = await import('/js/data.js');"
        + "const conn = {serverNow: () => Date.now(), subscribe: () => ({id: 'x', close() {}})};"
        + "const ds = new DataSource({id: 'p', kind: 'timeseries', query: {stream: 's', groupBy: ['k'], figure: 'count', top: 10}},"
        + " {connection: conn, api: null, time: {range: '24h', window: '1s'}});"
        + "ds.streamWindowMs = 1000; ds.windowMs = 1000; ds.rangeMs = 86400000;"
        + "const t0 = Math.floor(Date.now() / 1000) * 1000 - 50000000;"
        + "for (let i = 0; i < 100000; i++) ds.onRollup({type: 'rollup', window: '1s', start: t0 + i * 500 - (i * 500) % 1000,"
        + " final: true, count: 1, series: {k: 'v' + (i % 1000)}, values: {}});"
        + "for (let i = 0; i < 5000; i++) ds.onRollup({type: 'rollup', window: '1s', start: t0 + i * 1000, final: true, count: 2, series: {k: 'hot'}, values: {}});"
        + "const v = ds.view(); ds.destroy();"
        + "return {series: ds.series.size === 0 ? -1 : ds.series.size, held: v.seriesHeld, shown: v.series.length,"
        + " maxBuckets: Math.max(...v.series.map(s => s.buckets.length))}");
    assertTrue(n(m, "held") <= 20, "series held: " + m);
    assertTrue(n(m, "shown") <= 10, "series shown: " + m);
    assertTrue(n(m, "maxBuckets") <= 2000, "buckets per series: " + m);
  }

  @Test
  @DisplayName("a 10 s panel merges 1 s windows exactly: count, sum, min, max, mean; a window sent again replaces itself")
  void mergesWindows() {
    Map<String, Object> m = run("const {DataSource} = await import('/js/data.js');"
        + "const conn = {serverNow: () => Date.now(), subscribe: () => ({id: 'x', close() {}})};"
        + "const mk = figure => { const d = new DataSource({id: 'p', kind: 'stat', query: {stream: 's', metric: 'v', figure, window: '10s'}},"
        + " {connection: conn, api: null, time: {range: '5m'}}); d.streamWindowMs = 1000; return d; };"
        + "const t0 = Math.floor(Date.now() / 10000) * 10000 - 20000; const out = {};"
        + "for (const f of ['count', 'sum', 'min', 'max', 'mean']) { const d = mk(f);"
        + "  for (let i = 0; i < 10; i++) { const v = {count: 2, sum: 2 * i, min: i - 1, max: i + 1, mean: i};"
        + "    d.onRollup({type: 'rollup', window: '1s', start: t0 + i * 1000, final: i % 2 === 0, count: 2, series: {}, values: {v}});"
        + "    d.onRollup({type: 'rollup', window: '1s', start: t0 + i * 1000, final: true, count: 2, series: {}, values: {v}}); }"
        + "  out[f] = d.series.get('').buckets.at(t0).value; d.destroy(); }"
        + "return out");
    assertEquals(20.0, ((Number) m.get("count")).doubleValue());
    assertEquals(90.0, ((Number) m.get("sum")).doubleValue());
    assertEquals(-1.0, ((Number) m.get("min")).doubleValue());
    assertEquals(10.0, ((Number) m.get("max")).doubleValue());
    assertEquals(4.5, ((Number) m.get("mean")).doubleValue());
  }
}

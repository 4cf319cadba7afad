/*
 * Pulse wallboard: one stream's live rollups as a moving chart, plus the current alerts.
 *
 * Plain JS, no build step, no external resources (wallboards are often offline).
 * Selection lives in the URL (?stream=&groupBy=&metric=&stat=[&filter=region:eu][&kiosk=1][&access_token=])
 * so a TV can be pointed at a fixed address. The live feed is the WebSocket /api/v1/live/ws;
 * it reconnects with capped, jittered backoff and re-subscribes, so the page never needs a reload.
 *
 * Two subscriptions on the one socket when a group-by is chosen: the group-by feeds the chart's
 * lines and legend (at most MAX_PLOTTED series, the top ones by the chosen statistic), and a
 * second one without group-by ("<id>-total") carries the stream-wide figures the server merged
 * itself: the big number, events per second and the peak are read from it, so they are exact
 * whatever the number of series (a p99 of all events, not of one series or a sum of some).
 *
 * Test hooks (read by the browser tests, harmless otherwise):
 *   document.body.dataset.state  "connecting" | "live" | "reconnecting"
 *   window.pulse                 { rollups, lastRollup, points, sub, totalSub, headline, series,
 *                                  warnings, alertsStatus, historyCalls, ... }
 */
(() => {
  'use strict';

  // ---------------------------------------------------------------- constants
  const STATS = [
    ['count', 'count'], ['sum', 'sum'], ['mean', 'mean'], ['p50', 'p50 (median)'],
    ['p95', 'p95'], ['p99', 'p99'], ['min', 'min'], ['max', 'max'],
  ];
  const STAT_KEYS = STATS.map(s => s[0]);
  const DEFAULT_STAT = 'count';
  const WINDOWS_SHOWN = 120;           // ~2 minutes of 1 s windows
  const MAX_PLOTTED = 10;              // lines on the chart
  const MAX_TRACKED = 100;             // series holding chart points: the plotted ones and the next in line
  const MAX_KNOWN = 100000;            // distinct series remembered (to count them and pick the top ones)
  const RANK_MS = 1000;                // how often the drawn series are re-chosen
  const MIN_PLOTTED_MS = 20000;        // a drawn series stays at least this long: lines do not flicker in and out
  const INCUMBENT_BONUS = 0.5;         // ...and after that, a challenger must beat it by this much
  const SCORE_ALPHA = 0.2;             // weight of the newest window in a series' ranking score
  const STREAMS_REFRESH_MS = 10000;
  const ALERTS_REFRESH_MS = 30000;
  const RESOLVED_LINGER_MS = 8000;     // a resolved alert stays visible this long, then goes
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 15000;
  const CONNECT_TIMEOUT_MS = 10000;
  const PING_MS = 10000;               // we ask for a pong this often, so a dead link shows within ~25 s
  const SILENCE_RECONNECT_MS = 25000;  // nothing (heartbeat every 15 s, pongs every 10 s) for this long: dead link
  const STALE_AFTER_MS = 20000;        // no message at all for this long: show "stale"
  const FRAME_MS = 33;                 // ~30 fps is plenty for a 2-minute chart and kind to TV SoCs
  const SETTLE_MS = 600;               // after a window ends, its last events still come in for a flush tick or two
  const FINAL_MARGIN_MS = 500;         // a window's final rollup is overdue this long after it usually comes

  // Okabe–Ito, lightened where needed for a dark background; the last two repeat with a dash
  // pattern so ten lines stay distinguishable without relying on hue alone.
  const PALETTE = [
    { c: '#56B4E9' }, { c: '#E69F00' }, { c: '#2DBE94' }, { c: '#F0E442' }, { c: '#CC79A7' },
    { c: '#F07F45' }, { c: '#8DA9FF' }, { c: '#C9CED6' },
    { c: '#56B4E9', dash: [7, 5] }, { c: '#E69F00', dash: [7, 5] },
  ];
  const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

  // A unit read from the metric's name, the way people name metrics (latency_ms, cpu_pct, temp_c).
  const UNIT_SUFFIXES = [
    [/_(ms|millis)$/i, 'ms'], [/_(us|micros)$/i, 'µs'], [/_(s|sec|secs|seconds)$/i, 's'],
    [/_(pct|percent)$/i, '%'], [/_(c|celsius)$/i, '°C'],
  ];

  // ---------------------------------------------------------------- elements
  const $ = id => document.getElementById(id);
  const el = {
    stream: $('pick-stream'), groupBy: $('pick-groupby'), metric: $('pick-metric'), stat: $('pick-stat'),
    titleStream: $('title-stream'), titleDetail: $('title-detail'),
    conn: $('conn'), connLabel: $('conn-label'), connDetail: $('conn-detail'), clock: $('clock'),
    banner: $('banner'),
    heroLabel: $('hero-label'), heroValue: $('hero-value'), heroUnit: $('hero-unit'), heroNote: $('hero-note'),
    kpiRate: $('kpi-rate'), kpiSeries: $('kpi-series'), kpiPeak: $('kpi-peak'), kpiAge: $('kpi-age'),
    caption: $('chart-caption'), wrap: $('chart-wrap'), canvas: $('chart'), empty: $('chart-empty'),
    legend: $('legend'),
    alertsPanel: $('alerts-panel'), alertList: $('alert-list'), alertsEmpty: $('alerts-empty'), alertSummary: $('alert-summary'),
    alertsIcon: $('alerts-icon'), alertsText: $('alerts-empty-text'), alertsDetail: $('alerts-empty-detail'),
  };
  const ctx = el.canvas.getContext('2d');

  // ---------------------------------------------------------------- state
  const params = new URLSearchParams(location.search);
  const token = params.get('access_token') || params.get('token') || '';
  if (params.get('kiosk') === '1' || params.get('kiosk') === 'true') document.body.classList.add('kiosk');

  const sel = {
    stream: params.get('stream') || '',
    groupBy: splitList(params.get('groupBy')),
    metric: params.get('metric') || '',
    stat: STAT_KEYS.includes(params.get('stat')) ? params.get('stat') : DEFAULT_STAT,
    filter: parseFilter(params.get('filter')),
  };

  let streams = [];                 // last GET /api/v1/streams answer
  let streamsLoaded = false;
  let windowMs = 1000;
  let windowLabel = '1s';
  let selGen = 0;                   // bumps on every selection change (drops stale async answers)

  /**
   * Every series of the chart subscription seen in the chart's span, key -> record
   * { key, dims, label, lastStart, score, scoreStart, lastFinal, points: Map<start, point> | null, slot, plottedAt }.
   * Bounded by MAX_KNOWN; only the tracked ones (at most MAX_TRACKED) hold points.
   */
  const known = new Map();
  /** The tracked records (points held), key -> record; those with slot >= 0 are drawn. */
  const series = new Map();
  /** The stream-wide figures: the total subscription's windows (or the one series when not grouped). */
  const total = { points: new Map() };
  let knownOverflowAt = 0;          // performance.now() when a series could not be remembered (past MAX_KNOWN)
  let ranked = false;               // more series than lines: the drawn ones are chosen by rank()
  let lastRank = 0;
  let newestFinal = -Infinity;      // newest final window of the chart subscription (score decay reference)
  let finalLag = 1500;              // how long after a window's end its final rollup comes (measured)
  let subscribedAt = Infinity;      // server time the current subscriptions were confirmed
  let lastDataAt = 0;               // performance.now() of the last rollup for this selection
  let newest = -Infinity;           // newest window start held (cached: read every frame)
  const subWarnings = new Set();    // warnings the server gave with "subscribed"

  const pulse = window.pulse = {
    rollups: 0, lastRollup: null, points: 0, totalRollups: 0, lastTotalRollup: null,
    state: 'connecting', sub: null, totalSub: null, lastError: null, alerts: 0, reconnects: 0,
    headline: null, series: 0, warnings: [], alertsStatus: 'unknown', historyCalls: 0, duplicateFinals: 0, finalLag: null,
  };

  // ---------------------------------------------------------------- small helpers
  function splitList(s) { return (s || '').split(',').map(x => x.trim()).filter(Boolean); }

  /** "region:eu,region:us,store:s1" -> {region: ["eu", "us"], store: "s1"} (the server's filter shape). */
  function parseFilter(s) {
    const f = {};
    for (const part of splitList(s)) {
      const i = part.indexOf(':');
      if (i <= 0) continue;
      const k = part.slice(0, i), v = part.slice(i + 1);
      f[k] = k in f ? [].concat(f[k], v) : v;
    }
    return f;
  }

  function filterToString(f) {
    return Object.entries(f).flatMap(([k, v]) => [].concat(v).map(x => k + ':' + x)).join(',');
  }

  function parseDuration(s) {
    if (typeof s === 'number' && s > 0) return s;
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(String(s || '').trim());
    if (!m) return 0;
    const n = parseFloat(m[1]);
    return Math.round(n * ({ ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] || 'ms']));
  }

  function pad2(n) { return n < 10 ? '0' + n : '' + n; }
  function clockText(t, withSeconds = true) {
    const d = new Date(t);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + (withSeconds ? ':' + pad2(d.getSeconds()) : '');
  }

  function agoText(ms) {
    if (!(ms >= 0)) return '—';
    if (ms < 1000) return (ms / 1000).toFixed(1) + ' s';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + pad2(m % 60) + ' min';
    return Math.floor(h / 24) + ' d';
  }

  // Numbers. One scheme each: rates and compact figures carry 3 significant digits with k/M/G/T
  // (51/s, 3.8k/s, 34.3k/s, 0.07/s); the big figure and legend values are exact where they fit.
  const SUFFIXES = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  const finite = v => typeof v === 'number' && Number.isFinite(v);
  const trimZeros = s => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);

  /** n significant digits, compact: 51, 3.8k, 34.3k, 134k, 1.25M, 0.07. */
  function fmtSig(v, digits = 3) {
    if (!finite(v)) return '—';
    if (v === 0) return '0';
    if (Math.abs(v) < 0.001) return v.toExponential(1);
    const r = Number(v.toPrecision(digits));  // round first: 999.7 is "1k", not "1000"
    for (const [d, u] of SUFFIXES) if (Math.abs(r) >= d) return String(Number((r / d).toPrecision(digits))) + u;
    return String(r);
  }

  function fmtRate(v) { return finite(v) ? fmtSig(v) + '/s' : '—'; }

  /** A figure: exact integers up to 99,999 (34,312), 4 significant digits past that (134.5k), decimals as they matter. */
  function fmt(v) {
    if (!finite(v)) return '—';
    const a = Math.abs(v);
    if (a >= 1e5) return fmtSig(v, 4);
    if (Number.isInteger(v) || a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a === 0) return '0';
    if (a >= 100) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    if (a >= 0.001) return String(Number(v.toPrecision(3)));
    return v.toExponential(1);
  }

  function fmtCount(n) { return finite(n) ? Math.round(n).toLocaleString('en-US') : '—'; }

  function decimalsFor(step) {
    let dec = 0;
    while (dec < 6 && Math.abs(Math.round(step * Math.pow(10, dec)) - step * Math.pow(10, dec)) > 1e-6 * step * Math.pow(10, dec)) dec++;
    return dec;
  }

  /** Axis tick: 0, 500, 1k, 1.5k, 2k; 0, 0.25, 0.5; never "0k" and no trailing zeros. */
  function fmtTick(v, step) {
    if (Math.abs(v) < Math.abs(step) * 1e-9) return '0';
    const a = Math.abs(v);
    for (const [d, u] of SUFFIXES) if (a >= d) return trimZeros((v / d).toFixed(decimalsFor(step / d))) + u;
    return trimZeros(v.toFixed(decimalsFor(step)));
  }

  function unitOf(metric) {
    for (const [re, u] of UNIT_SUFFIXES) if (re.test(metric || '')) return u;
    return '';
  }
  /** The unit of the plotted figure: none for counts, the metric's otherwise. */
  function unit() { return sel.stat === 'count' ? '' : unitOf(sel.metric); }

  /** Sets a figure with its unit in a smaller span, touching the DOM only when it changes. */
  function setFigure(node, text, unitText) {
    const sig = text + '\u0000' + (unitText || '');
    if (node.dataset.fig === sig) return;
    node.dataset.fig = sig;
    node.textContent = text;
    if (unitText && text !== '—') {
      const u = document.createElement('span');
      u.className = 'unit' + (unitText === '%' || unitText === '/s' ? ' tight' : '');
      u.textContent = unitText;
      node.append(u);
    }
  }

  function seriesKey(dims) {
    if (!dims || typeof dims !== 'object') return '{}';
    const keys = Object.keys(dims);
    if (keys.length <= 1) return keys.length ? keys[0] + '\u0000' + dims[keys[0]] : '{}';
    return JSON.stringify(keys.sort().map(k => [k, dims[k]]));
  }

  function seriesLabel(dims) {
    const keys = dims && typeof dims === 'object' ? Object.keys(dims) : [];
    if (!keys.length) return 'total';
    const order = sel.groupBy.filter(k => keys.includes(k)).concat(keys.filter(k => !sel.groupBy.includes(k)).sort());
    return order.map(k => String(dims[k])).join(' · ');
  }

  function statLabel() { return (STATS.find(s => s[0] === sel.stat) || [sel.stat, sel.stat])[1]; }
  function isAdditive() { return sel.stat === 'count' || sel.stat === 'sum'; }
  function grouped() { return sel.groupBy.length > 0; }

  /** The number this page plots for one stored point, or undefined. */
  function pointValue(p) {
    if (!p) return undefined;
    if (sel.stat === 'count') return finite(p.count) ? p.count : undefined;
    const m = p.values && p.values[sel.metric];
    const v = m && m[sel.stat];
    return finite(v) ? v : undefined;
  }

  function apiFetch(path, timeoutMs = 8000) {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), timeoutMs);
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(path, { headers, cache: 'no-store', signal: ac.signal }).finally(() => clearTimeout(t));
  }

  // Server time estimate: heartbeats carry the server clock; a TV's clock may drift.
  let clockOffset = 0;
  const serverNow = () => Date.now() + clockOffset;

  // ---------------------------------------------------------------- banner
  // One line across the screen; kinds: auth, sub (subscription rejected), subwarn (server warnings), conn.
  let bannerKind = null;
  function showBanner(kind, text, level = 'error') {
    bannerKind = kind;
    el.banner.textContent = text;
    el.banner.dataset.kind = level;
    el.banner.dataset.source = kind;
    el.banner.hidden = false;
  }
  function clearBanner(kind) {
    if (kind && bannerKind !== kind) return;
    bannerKind = null;
    el.banner.hidden = true;
    el.banner.textContent = '';
    // a warning that was pushed aside by something more urgent comes back
    if (kind !== 'subwarn' && subWarnings.size) showWarnings();
  }
  function showWarnings() {
    if (!subWarnings.size || (bannerKind && bannerKind !== 'subwarn')) return;
    const list = [...subWarnings];
    showBanner('subwarn', (list.length > 1 ? 'Server warnings: ' : 'Server warning: ') + list.join(' · '), 'warn');
  }

  // ---------------------------------------------------------------- selection and URL
  function writeUrl() {
    const q = new URLSearchParams();
    if (sel.stream) q.set('stream', sel.stream);
    if (sel.groupBy.length) q.set('groupBy', sel.groupBy.join(','));
    if (sel.metric) q.set('metric', sel.metric);
    q.set('stat', sel.stat);
    if (Object.keys(sel.filter).length) q.set('filter', filterToString(sel.filter));
    for (const [k, v] of params) if (!q.has(k) && !['stream', 'groupBy', 'metric', 'stat', 'filter'].includes(k)) q.set(k, v);
    const url = location.pathname + '?' + q.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
    if (url !== location.pathname + location.search) history.replaceState(null, '', url);
  }

  function streamInfo(name) { return streams.find(s => s.stream === name); }

  function fillSelect(select, options, value) {
    // options: [value, label]; rebuilt only when they change so an open picker is not disturbed
    const sig = JSON.stringify(options);
    if (select.dataset.sig !== sig) {
      select.dataset.sig = sig;
      select.replaceChildren(...options.map(([v, l]) => {
        const o = document.createElement('option');
        o.value = v; o.textContent = l;
        return o;
      }));
    }
    select.value = value;
  }

  function renderPickers() {
    const names = streams.map(s => s.stream);
    const streamOpts = streams
      .slice().sort((a, b) => a.stream.localeCompare(b.stream))
      .map(s => [s.stream, s.stream + (finite(s.rate) ? '  ·  ' + fmtRate(s.rate) : '')]);
    if (sel.stream && !names.includes(sel.stream)) streamOpts.unshift([sel.stream, sel.stream + (streamsLoaded ? '  (no data yet)' : '')]);
    if (!sel.stream) streamOpts.unshift(['', streamsLoaded ? 'no streams yet' : 'loading…']);
    fillSelect(el.stream, streamOpts, sel.stream);

    const info = streamInfo(sel.stream);
    const dims = info && info.dims ? Object.keys(info.dims).sort() : [];
    const gbOpts = [['', 'none (stream total)']].concat(dims.map(d => [d, d]));
    const gbValue = sel.groupBy.join(',');
    if (gbValue && !gbOpts.some(o => o[0] === gbValue)) gbOpts.push([gbValue, sel.groupBy.join(' + ')]);
    fillSelect(el.groupBy, gbOpts, gbValue);

    const values = info && Array.isArray(info.values) ? info.values.slice().sort() : [];
    const mOpts = values.map(v => [v, v]);
    if (sel.metric && !values.includes(sel.metric)) mOpts.unshift([sel.metric, sel.metric]);
    if (!mOpts.length) mOpts.push(['', '—']);
    fillSelect(el.metric, mOpts, sel.metric);
    el.metric.disabled = sel.stat === 'count' && !values.length && !sel.metric;

    fillSelect(el.stat, STATS, sel.stat);
  }

  function renderTitles() {
    el.titleStream.textContent = sel.stream || 'No stream selected';
    const parts = [];
    parts.push(sel.stat === 'count' ? 'events per window' : statLabel() + ' of ' + (sel.metric || '—'));
    parts.push(sel.groupBy.length ? 'by ' + sel.groupBy.join(' + ') : 'stream total');
    const f = filterToString(sel.filter);
    if (f) parts.push('where ' + f.replace(/,/g, ', ').replace(/:/g, ' = '));
    el.titleDetail.textContent = parts.join('  ·  ');
    document.title = (sel.stream ? sel.stream + ' · ' : '') + 'Pulse';
    const u = unit();
    el.caption.textContent = (sel.stat === 'count' ? 'Events' : statLabel() + ' of ' + (sel.metric || '—'))
      + (u ? ' (' + u + ')' : '') + ' per ' + windowLabel + ' window  ·  last ' + agoText(WINDOWS_SHOWN * windowMs).replace(' ', '\u00a0');
  }

  /** Pick sensible defaults once the stream list is known, without overriding the URL. */
  function resolveDefaults() {
    let changed = false;
    if (!sel.stream && streams.length) {
      sel.stream = streams.slice().sort((a, b) => (b.rate || 0) - (a.rate || 0))[0].stream;
      changed = true;
    }
    const info = streamInfo(sel.stream);
    if (info && !sel.metric && Array.isArray(info.values) && info.values.length) {
      sel.metric = info.values.slice().sort()[0];
      changed = true;
    }
    return changed;
  }

  function onPickerChange(what) {
    if (what === 'stream') {
      sel.stream = el.stream.value;
      sel.groupBy = [];
      sel.metric = '';
      sel.filter = {};
      resolveDefaults();
    } else if (what === 'groupBy') {
      sel.groupBy = splitList(el.groupBy.value);
    } else if (what === 'metric') {
      sel.metric = el.metric.value;
    } else if (what === 'stat') {
      // every statistic of the metric is already in each rollup: no new subscription needed
      sel.stat = el.stat.value;
      rescoreAll(); rank(true);
      writeUrl(); renderPickers(); renderTitles(); yAnim.reset = true; legendSig = ''; updatePanels(); return;
    }
    writeUrl(); renderPickers(); renderTitles();
    resetData();
    subscribe();
  }
  el.stream.addEventListener('change', () => onPickerChange('stream'));
  el.groupBy.addEventListener('change', () => onPickerChange('groupBy'));
  el.metric.addEventListener('change', () => onPickerChange('metric'));
  el.stat.addEventListener('change', () => onPickerChange('stat'));

  // ---------------------------------------------------------------- streams list
  async function loadStreams() {
    try {
      const r = await apiFetch('api/v1/streams');
      if (r.status === 401 || r.status === 403) {
        // a plain message, never a login page (a wallboard has nobody to log in): what the server said, and what to do
        let why = '';
        try { why = String((await r.json()).error || ''); } catch (e) { /* not JSON */ }
        showBanner('auth', r.status === 401
          ? (token ? 'The token in this page\'s address was refused' + (why ? ' (' + why + ')' : '')
              + ': open it with a valid ?access_token=<token>.'
            : 'Not signed in: open this page with ?access_token=<token> (a token with the read scope).')
          : 'This token may not read streams' + (why ? ' (' + why + ')' : ' (403)') + '.');
        return;
      }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const j = await r.json();
      streams = Array.isArray(j.streams) ? j.streams.filter(s => s && typeof s.stream === 'string') : [];
      streamsLoaded = true;
      clearBanner('auth');
      const changed = resolveDefaults();
      renderPickers(); renderTitles();
      if (changed) { writeUrl(); resetData(); subscribe(); }
    } catch (e) {
      console.warn('pulse: stream list unavailable', e);
    }
  }

  // ---------------------------------------------------------------- series data
  function resetData() {
    selGen++;
    known.clear();
    series.clear();
    total.points.clear();
    knownOverflowAt = 0;
    ranked = false;
    newestFinal = -Infinity;
    subscribedAt = Infinity;
    lastDataAt = 0;
    newest = -Infinity;
    pulse.points = 0;
    pulse.series = 0;
    pulse.headline = null;
    yAnim.reset = true;
    legendSig = '';
    clearBanner('sub');
  }

  function freeSlot() {
    const used = new Set();
    for (const s of series.values()) if (s.slot >= 0) used.add(s.slot);
    for (let i = 0; i < MAX_PLOTTED; i++) if (!used.has(i)) return i;
    return -1;
  }

  function track(r) {
    if (!r.points) {
      r.points = new Map();
      if (r.lastFinal) r.points.set(r.lastFinal.start, r.lastFinal); // the window it was ranked on: not a blank line
    }
    series.set(r.key, r);
  }

  function untrack(r) {
    r.points = null;
    r.slot = -1;
    series.delete(r.key);
  }

  function plot(r, now) {
    if (r.slot >= 0) return;
    r.slot = freeSlot();
    r.plottedAt = now;
    r.steady = finite(r.score);  // chosen on its figures (not just first come): it may stay a while
  }

  /** Store one window; a running update never replaces a final one. */
  function storePoint(points, start, p, onlyIfAbsent) {
    const old = points.get(start);
    if (old && (onlyIfAbsent || (old.final && !p.final))) return false;
    if (old && old.final && p.final && !old.history && old !== p) {
      if (points === total.points && ++pulse.duplicateFinals === 1) {
        console.warn('pulse: the server sent a second final rollup for the window at', start, '- parts combined');
      }
      p = mergeFinals(old, p);
    }
    p.start = start;
    points.set(start, p);
    if (start > newest) newest = start;
    return true;
  }

  /**
   * A second final rollup for a window that already had one. The protocol says a window's final
   * comes once; a server that splits a window's final in two parts (seen: 9,998 then 2 events of
   * one window of a 10,000-series stream) would otherwise make the big figure read "2". The parts
   * are disjoint, so counts, sums, min and max combine exactly; a percentile cannot be combined
   * without the sketches, so the larger part's stands. Counted (stream total) in window.pulse.duplicateFinals.
   */
  function mergeFinals(a, b) {
    const n = x => (finite(x) ? x : 0);
    const out = { final: true, count: n(a.count) + n(b.count), values: {}, latest: Math.max(n(a.latest), n(b.latest)), at: b.at, parts: (a.parts || 1) + 1 };
    const names = new Set(Object.keys(a.values || {}).concat(Object.keys(b.values || {})));
    for (const name of names) {
      const x = a.values && a.values[name], y = b.values && b.values[name];
      if (!x || !y) { out.values[name] = x || y; continue; }
      const big = n(y.count) > n(x.count) ? y : x;
      const count = n(x.count) + n(y.count);
      const sum = finite(x.sum) && finite(y.sum) ? x.sum + y.sum : null;
      const pick = (f, u, v) => (finite(u) && finite(v) ? f(u, v) : finite(u) ? u : finite(v) ? v : null);
      out.values[name] = {
        count, sum, min: pick(Math.min, x.min, y.min), max: pick(Math.max, x.max, y.max),
        mean: sum !== null && count ? sum / count : big.mean, p50: big.p50, p95: big.p95, p99: big.p99,
      };
    }
    return out;
  }

  /** One window of one series of the chart subscription. */
  function chartPoint(dims, start, p, fromHistory) {
    const key = seriesKey(dims);
    let r = known.get(key);
    if (!r) {
      if (known.size >= MAX_KNOWN) { knownOverflowAt = performance.now(); return; }
      r = {
        key, dims: dims || {}, label: seriesLabel(dims), lastStart: start, score: NaN, scoreStart: -Infinity,
        lastFinal: null, points: null, slot: -1, plottedAt: 0, steady: false,
      };
      known.set(key, r);
      if (series.size < MAX_TRACKED) track(r);
      if (known.size <= MAX_PLOTTED) plot(r, performance.now());
    }
    if (start > r.lastStart) r.lastStart = start;
    if (p.final) {
      scoreFinal(r, start, p);
      if (start > newestFinal) newestFinal = start;
    }
    if (r.points) storePoint(r.points, start, p, fromHistory);
  }

  /**
   * Ranking score of a series for the chosen statistic, from its final windows: an exponential
   * average. For counts and sums a window without events is a zero, so the score decays over gaps.
   */
  function scoreFinal(r, start, p) {
    if (r.lastFinal && start <= r.lastFinal.start) return;   // older (history) or repeated
    r.lastFinal = p;
    const v = pointValue(p);
    if (!finite(v)) return;
    if (!finite(r.score)) r.score = v;
    else if (isAdditive()) r.score = r.score * Math.pow(1 - SCORE_ALPHA, Math.max(1, (start - r.scoreStart) / windowMs)) + SCORE_ALPHA * v;
    else r.score += SCORE_ALPHA * (v - r.score);
    r.scoreStart = start;
  }

  /** The statistic changed: every score restarts from the windows held. */
  function rescoreAll() {
    for (const r of known.values()) {
      const last = r.lastFinal;
      r.score = NaN; r.scoreStart = -Infinity; r.lastFinal = null; r.steady = false;
      if (r.points) for (const p of sortedPoints(r)) if (p.final) scoreFinal(r, p.start, p);
      if (!r.lastFinal && last) scoreFinal(r, last.start, last);
    }
  }

  function effectiveScore(r, additive) {
    if (!finite(r.score)) return -Infinity;
    if (!additive) return r.score;
    return r.score * Math.pow(1 - SCORE_ALPHA, Math.max(0, (newestFinal - r.scoreStart) / windowMs));
  }

  /**
   * Chooses the drawn series: all of them while they fit, else the top MAX_PLOTTED by their score
   * (a series drawn stays MIN_PLOTTED_MS, then must be beaten clearly), and the next ones in line
   * up to MAX_TRACKED keep points so that a newcomer does not start from nothing.
   */
  function rank(fresh) {
    const now = performance.now();
    lastRank = now;
    ranked = known.size > MAX_PLOTTED;
    if (!ranked) {
      for (const r of known.values()) { if (!r.points) track(r); plot(r, now); }
      return;
    }
    const additive = isAdditive();
    const freshFrom = newestFinal - 30 * windowMs;
    const cand = [];
    for (const r of known.values()) {
      let s = effectiveScore(r, additive);
      // a mean or percentile that stopped coming in is not "top" any more
      let tier = additive || r.lastStart >= freshFrom ? 1 : 0;
      if (!fresh && r.slot >= 0 && s > -Infinity) {
        if (r.steady && now - r.plottedAt < MIN_PLOTTED_MS) tier += 2;
        else s += Math.abs(s) * INCUMBENT_BONUS;
      }
      cand.push({ r, tier, s });
    }
    cand.sort((a, b) => b.tier - a.tier || b.s - a.s);
    const drawn = new Set(), kept = new Set();
    cand.forEach((c, i) => { if (i < MAX_PLOTTED) drawn.add(c.r); if (i < MAX_TRACKED) kept.add(c.r); });
    for (const r of [...series.values()]) if (!kept.has(r)) untrack(r);
    for (const r of series.values()) if (r.slot >= 0 && !drawn.has(r)) r.slot = -1;
    for (const r of kept) if (!r.points) track(r);
    for (const r of drawn) plot(r, now);
  }

  /** Drop windows that scrolled off the left edge and series not seen in the chart's span. */
  function prune() {
    const cutoff = viewRight() - (WINDOWS_SHOWN + 3) * windowMs;
    for (const [key, r] of known) {
      if (r.points) for (const start of r.points.keys()) if (start < cutoff) r.points.delete(start);
      if (r.lastStart < cutoff) { known.delete(key); if (r.points) untrack(r); }
    }
    for (const start of total.points.keys()) if (start < cutoff) total.points.delete(start);
    pulse.series = known.size;
  }

  function newestStart() { return newest; }

  /** Right edge of the chart: server "now", unless data runs ahead of it or lies entirely in the past. */
  function viewRight() {
    const now = serverNow();
    const n = newestStart();
    if (!Number.isFinite(n)) return now;
    if (n > now) return n + windowMs * 0.25;
    if (n < now - WINDOWS_SHOWN * windowMs) return n + windowMs; // replayed / old data: anchor to it
    return now;
  }

  // ---------------------------------------------------------------- history backfill (best effort)
  // Fills the chart at once after a page load, a new selection or a reconnect. Live points win;
  // an endpoint that is missing or answers in another shape is simply ignored. The endpoint is
  // probed once per page load: while that first answer is pending nobody else asks, and after
  // a 404 nobody asks again.
  let historyApi = null;   // null unknown, true answers, false missing (404)
  let historyProbe = null; // the first call, while it is pending

  async function fetchHistory(groupBy) {
    const to = serverNow();
    const q = new URLSearchParams({ from: String(Math.floor(to - WINDOWS_SHOWN * windowMs)), to: String(Math.floor(to)), step: windowLabel });
    if (groupBy.length) q.set('groupBy', groupBy.join(','));
    if (sel.metric) q.set('metric', sel.metric);
    if (Object.keys(sel.filter).length) q.set('filter', filterToString(sel.filter));
    pulse.historyCalls++;
    try {
      const r = await apiFetch('api/v1/streams/' + encodeURIComponent(sel.stream) + '/series?' + q);
      if (r.status === 404 || r.status === 405 || r.status === 501) { historyApi = false; return null; }
      if (!r.ok) return null;
      const j = await r.json();
      if (!j || !Array.isArray(j.series)) return null;
      historyApi = true;
      return j.series;
    } catch (e) {
      return null; // no history now: the live feed fills the chart
    }
  }

  function historyPoints(list, each) {
    for (const s of list || []) {
      if (!s || !Array.isArray(s.points)) continue;
      for (const pt of s.points) {
        if (!Array.isArray(pt) || pt.length < 2 || !pt[1] || typeof pt[1] !== 'object') continue;
        const o = pt[1];
        let values = o.values;
        if (!values || typeof values !== 'object') {
          values = {};
          if (sel.metric && o[sel.metric] && typeof o[sel.metric] === 'object') values[sel.metric] = o[sel.metric];
          else if (sel.metric && ('sum' in o || 'mean' in o || 'p95' in o)) values[sel.metric] = o;
        }
        const start = Number(pt[0]);
        if (Number.isFinite(start)) each(s.series || {}, start, { final: true, count: Number(o.count), values, history: true });
      }
    }
  }

  async function backfill() {
    const gen = selGen;
    if (!sel.stream) return;
    if (historyApi === null && historyProbe) await historyProbe.catch(() => {});
    if (historyApi === false || gen !== selGen) return;
    const run = (async () => {
      const main = await fetchHistory(sel.groupBy);
      if (gen !== selGen || !main) return;
      historyPoints(main, (dims, start, p) => {
        chartPoint(dims, start, p, true);
        if (!grouped()) storePoint(total.points, start, p, true);
      });
      if (grouped()) {
        const tot = await fetchHistory([]);
        if (gen !== selGen || !tot) return;
        historyPoints(tot, (dims, start, p) => storePoint(total.points, start, p, true));
      }
    })();
    if (historyApi === null) historyProbe = run;
    await run;
  }

  // ---------------------------------------------------------------- WebSocket
  let ws = null;
  let attempt = 0;
  let everLive = false;
  let reconnectTimer = 0;
  let reconnectAt = 0;
  let connectTimer = 0;
  let lastMsgAt = 0;
  let openedAt = 0;
  let subSeq = 0;
  let subId = null;                 // the chart subscription (with the group-by)
  let totalId = null;               // the stream total: "<subId>-total", or subId itself without group-by
  let closingReason = '';
  let lostAt = 0;                   // Date.now() when a live link was lost (0 while connected)

  function setState(s) {
    pulse.state = s;
    document.body.dataset.state = s;
    updateConn();
  }

  function wsUrl() {
    const u = new URL('api/v1/live/ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = token ? '?access_token=' + encodeURIComponent(token) : '';
    u.hash = '';
    return u.toString();
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    reconnectAt = 0;
    setState(everLive ? 'reconnecting' : 'connecting');
    let sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    subId = totalId = null;
    clearTimeout(connectTimer);
    connectTimer = setTimeout(() => { if (ws === sock && sock.readyState === WebSocket.CONNECTING) drop(sock); }, CONNECT_TIMEOUT_MS);
    sock.onopen = () => {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      everLive = true;
      closingReason = '';
      lostAt = 0;
      clearBanner('conn');
      lastMsgAt = openedAt = performance.now();
      setState('live');
      subscribe();
      if (pulse.reconnects) loadAlerts(true); // alerts may have changed (or been enabled) while we were away
    };
    sock.onmessage = ev => { if (ws === sock) onMessage(ev); };
    sock.onclose = () => { if (ws === sock) { ws = null; scheduleReconnect(); } };
    sock.onerror = () => { /* a close event follows */ };
  }

  /** Give up on a socket now (dead link, stuck handshake) and go through the reconnect path. */
  function drop(sock) {
    if (ws !== sock) return;
    ws = null;
    sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
    try { sock.close(); } catch (e) { /* already gone */ }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    subId = totalId = null;
    pulse.sub = pulse.totalSub = null;
    pulse.reconnects++;
    if (everLive && !lostAt) lostAt = Date.now();
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    const delay = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
    attempt++;
    reconnectAt = performance.now() + delay;
    setState(everLive ? 'reconnecting' : 'connecting');
    reconnectTimer = setTimeout(connect, delay);
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function subscribe() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (subId) send({ op: 'unsubscribe', id: subId });
    if (totalId && totalId !== subId) send({ op: 'unsubscribe', id: totalId });
    subId = totalId = null;
    pulse.sub = pulse.totalSub = null;
    subscribedAt = Infinity;
    subWarnings.clear();
    pulse.warnings = [];
    clearBanner('subwarn');
    clearBanner('sub');
    if (!sel.stream) return;
    subId = 's' + (++subSeq);
    const base = { op: 'subscribe', stream: sel.stream, filter: Object.assign({}, sel.filter) };
    if (sel.metric) base.metrics = [sel.metric];
    send(Object.assign({ id: subId, groupBy: sel.groupBy.slice() }, base));
    if (grouped()) {
      // the stream-wide figures, merged by the server: exact whatever the number of series
      totalId = subId + '-total';
      send(Object.assign({ id: totalId, groupBy: [] }, base));
    } else {
      totalId = subId;
    }
    pulse.sub = subId;
    pulse.totalSub = totalId;
    backfill();
  }

  function ours(sub) { return sub === subId || sub === totalId; }

  function onMessage(ev) {
    lastMsgAt = performance.now();
    // a link that has carried messages for a while is proven: the next drop starts the backoff at 1 s
    // again (a server that accepts and drops at once keeps backing off instead of being hammered)
    if (lastMsgAt - openedAt > 5000) attempt = 0;
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'rollup': onRollup(m); break;
      case 'alert': onAlert(m, performance.now()); renderAlerts(); break;
      case 'subscribed':
        if (ours(m.sub)) {
          const w = parseDuration(m.window);
          if (w) { windowMs = w; windowLabel = String(m.window); renderTitles(); }
          if (m.sub === subId) subscribedAt = Math.min(subscribedAt, serverNow());
          if (Array.isArray(m.warnings)) {
            for (const x of m.warnings) if (x !== null && x !== undefined && String(x).trim()) subWarnings.add(String(x).trim());
            pulse.warnings = [...subWarnings];
            showWarnings();
          }
        }
        break;
      case 'error':
        if (m.sub && !ours(m.sub)) break; // about a subscription we already left
        pulse.lastError = m.error || 'unknown error';
        showBanner('sub', (m.sub ? 'Subscription to “' + sel.stream + '” rejected: ' : 'Server error: ') + (m.error || 'unknown error'));
        break;
      case 'heartbeat':
      case 'pong':
        if (finite(m.at)) clockOffset = m.at - Date.now();
        break;
      case 'closing':
        // the server is going away on purpose (restart, deploy): say so, the close follows
        closingReason = m.reason || 'server restarting';
        break;
      default: break;
    }
  }

  function onRollup(m) {
    pulse.rollups++;
    if (typeof m.sub === 'string' && m.sub.endsWith('-total')) { pulse.totalRollups++; pulse.lastTotalRollup = m; }
    else pulse.lastRollup = m;
    if (m.sub && !ours(m.sub)) return;             // from a subscription we already left
    if (m.stream && m.stream !== sel.stream) return;
    const w = parseDuration(m.window);
    if (w && w !== windowMs) { windowMs = w; windowLabel = String(m.window); renderTitles(); }
    const start = Number(m.start);
    if (!Number.isFinite(start)) return;
    const now = serverNow();
    const p = { final: m.final === true, count: Number(m.count), values: m.values || {}, latest: Number(m.latest), at: now };
    if (p.final && finite(m.end)) {
      // how long finals take after a window ends (allowed lateness + a flush tick): when one is overdue,
      // the window it would have closed had no events
      const lag = Math.min(30000, Math.max(0, now - m.end));
      finalLag = lag > finalLag ? lag : finalLag + (lag - finalLag) * 0.05;
      pulse.finalLag = Math.round(finalLag);
    }
    if (!m.sub || m.sub === subId) chartPoint(m.series, start, p, false);
    if (!m.sub || m.sub === totalId) storePoint(total.points, start, p, false);
    lastDataAt = performance.now();
  }

  // ---------------------------------------------------------------- alerts
  /** id -> { a: alert message, seenAt, resolvedAt } */
  const alerts = new Map();
  let alertsApi = null;     // null unknown, true answers, false not on this server (404)
  let alertsProblem = '';   // why the last GET failed otherwise ('' when it did not)

  // what the panel says when it lists nothing: never "all clear" unless the server said so
  const ALERT_STATES = {
    unknown: { icon: 'M7 12h.01M12 12h.01M17 12h.01', text: 'Checking alert status…' },
    disabled: {
      icon: 'M8.6 5.7A6 6 0 0 1 18 11v4.2M16.5 18H4.5L6 16v-5a6 6 0 0 1 .5-2.4M10 20.5a2 2 0 0 0 4 0M4 4l16 16',
      text: 'Alerting not enabled on this server',
      detail: 'This panel fills in once alerting is turned on.',
    },
    unavailable: { icon: 'M12 7.5v5.5M12 16.5h.01', text: 'Alert status unavailable' },
    clear: { icon: 'M5 12.5l4.5 4.5L19 7.5', text: 'No active alerts' },
  };

  function onAlert(a, seenAt) {
    if (!a || !a.id) return;
    const id = String(a.id);
    const cur = alerts.get(id);
    if (cur && finite(cur.a.at) && finite(a.at) && a.at < cur.a.at) return; // older news
    if (a.state === 'resolved') {
      if (cur) { cur.a = a; cur.resolvedAt = cur.resolvedAt || performance.now(); cur.seenAt = seenAt; }
      return;
    }
    alerts.set(id, { a, seenAt, resolvedAt: 0 });
  }

  /** GET /api/v1/alerts; after a 404 only a forced call (a reconnect: maybe a newer server) asks again. */
  async function loadAlerts(force) {
    if (alertsApi === false && !force) return;
    const asked = performance.now();
    try {
      const r = await apiFetch('api/v1/alerts');
      if (r.status === 404 || r.status === 405 || r.status === 501) { alertsApi = false; alertsProblem = ''; renderAlerts(); return; }
      if (!r.ok) {
        alertsProblem = r.status === 401 || r.status === 403 ? 'this token may not read alerts (HTTP ' + r.status + ')' : 'the server answered HTTP ' + r.status;
        renderAlerts();
        return;
      }
      const j = await r.json();
      if (!j || !Array.isArray(j.alerts)) { alertsProblem = 'the server answered in an unknown shape'; renderAlerts(); return; }
      alertsApi = true;
      alertsProblem = '';
      const ids = new Set();
      for (const a of j.alerts) {
        if (!a || !a.id || a.state === 'resolved') continue;
        ids.add(String(a.id));
        onAlert(a, asked);
      }
      // anything we hold that the server no longer lists (and did not change since we asked) is over
      for (const [id, x] of alerts) if (!ids.has(id) && !x.resolvedAt && x.seenAt <= asked) x.resolvedAt = performance.now();
      renderAlerts();
    } catch (e) {
      if (alertsApi !== false) { alertsProblem = 'the server could not be reached'; renderAlerts(); }
    }
  }

  function renderAlerts() {
    const now = performance.now();
    for (const [id, x] of alerts) if (x.resolvedAt && now - x.resolvedAt > RESOLVED_LINGER_MS) alerts.delete(id);
    const list = [...alerts.values()].sort((x, y) =>
      (x.resolvedAt ? 1 : 0) - (y.resolvedAt ? 1 : 0)
      || (x.a.state === 'acknowledged' ? 1 : 0) - (y.a.state === 'acknowledged' ? 1 : 0)
      || (SEVERITY_RANK[x.a.severity] ?? 3) - (SEVERITY_RANK[y.a.severity] ?? 3)
      || (y.a.at || 0) - (x.a.at || 0));
    const active = list.filter(x => !x.resolvedAt);
    pulse.alerts = active.length;

    const items = list.slice(0, 30).map(x => alertItem(x));
    if (list.length > 30) {
      const li = document.createElement('li');
      li.className = 'alerts-more';
      li.textContent = '+' + (list.length - 30) + ' more';
      items.push(li);
    }
    el.alertList.replaceChildren(...items);

    const status = list.length ? 'active' : alertsProblem ? 'unavailable' : alertsApi === true ? 'clear'
      : alertsApi === false ? 'disabled' : 'unknown';
    pulse.alertsStatus = status;
    el.alertsEmpty.hidden = status === 'active';
    if (status !== 'active' && el.alertsEmpty.dataset.status + el.alertsDetail.dataset.problem !== status + alertsProblem) {
      const st = ALERT_STATES[status];
      el.alertsEmpty.dataset.status = status;
      el.alertsDetail.dataset.problem = alertsProblem;
      el.alertsIcon.querySelector('path').setAttribute('d', st.icon);
      el.alertsText.textContent = st.text;
      const detail = status === 'unavailable' ? alertsProblem.charAt(0).toUpperCase() + alertsProblem.slice(1) + '; retrying.' : st.detail || '';
      el.alertsDetail.textContent = detail;
      el.alertsDetail.hidden = !detail;
    }

    const counts = { critical: 0, warning: 0, info: 0 };
    for (const x of active) if (x.a.state !== 'acknowledged') counts[x.a.severity in counts ? x.a.severity : 'info']++;
    const pills = [];
    for (const sev of ['critical', 'warning', 'info']) {
      if (!counts[sev]) continue;
      const p = document.createElement('span');
      p.className = 'pill ' + sev;
      p.textContent = counts[sev] + ' ' + sev;
      pills.push(p);
    }
    if (!pills.length && (active.length || status === 'clear')) {
      const p = document.createElement('span');
      p.className = 'pill ok';
      p.textContent = active.length ? active.length + ' acknowledged' : 'all clear';
      pills.push(p);
    } else if (!pills.length && status === 'disabled') {
      const p = document.createElement('span');
      p.className = 'pill off';
      p.textContent = 'off';
      pills.push(p);
    }
    el.alertSummary.replaceChildren(...pills);
    el.alertsPanel.classList.toggle('has-critical', counts.critical > 0);
  }

  function alertItem(x) {
    const a = x.a;
    const sev = a.severity in SEVERITY_RANK ? a.severity : 'info';
    const state = x.resolvedAt ? 'resolved' : (a.state === 'acknowledged' ? 'acknowledged' : 'firing');
    const li = document.createElement('li');
    li.className = 'alert ' + sev + ' ' + state;
    li.dataset.alertId = a.id;

    const top = document.createElement('div');
    top.className = 'alert-top';
    const badge = document.createElement('span');
    badge.className = 'alert-sev';
    badge.textContent = sev;
    const rule = document.createElement('span');
    rule.className = 'alert-rule';
    rule.textContent = a.rule || a.id;
    const age = document.createElement('span');
    age.className = 'alert-age';
    age.textContent = Number.isFinite(a.at) ? agoText(Math.max(0, serverNow() - a.at)) : '';
    top.append(badge, rule, age);
    li.append(top);

    if (a.message) {
      const msg = document.createElement('div');
      msg.className = 'alert-msg';
      msg.textContent = a.message;
      li.append(msg);
    }

    const meta = document.createElement('div');
    meta.className = 'alert-meta';
    const st = document.createElement('span');
    st.className = 'state';
    st.textContent = state === 'acknowledged' ? 'ack' : state;
    meta.append(st);
    const where = [a.stream].concat(a.series && typeof a.series === 'object' ? Object.entries(a.series).map(([k, v]) => k + '=' + v) : []).filter(Boolean);
    if (where.length) { const w = document.createElement('span'); w.textContent = where.join(' · '); meta.append(w); }
    if (Number.isFinite(a.value)) { const v = document.createElement('span'); v.textContent = 'value ' + fmt(a.value); meta.append(v); }
    li.append(meta);
    return li;
  }

  // ---------------------------------------------------------------- panels (4 Hz)
  let legendSig = '';

  function plotted() {
    return [...series.values()].filter(s => s.slot >= 0)
      .sort((a, b) => a.label.localeCompare(b.label, undefined, { numeric: true }));
  }

  function sortedPoints(s) { return [...s.points.values()].sort((a, b) => a.start - b.start); }

  /** A window still taking events by the clock (a closed one may still wait for late events: nearly complete). */
  function isOpen(p) { return !p.final && p.start + windowMs > serverNow(); }

  /** Final, or ended long enough ago that the flush after its end has arrived: its figures are complete. */
  function isSettled(p) { return p.final || p.start + windowMs + SETTLE_MS <= serverNow(); }

  /** The figure to show as "current" for one chart series: for counts and sums the newest settled window. */
  function currentPoint(s, additive = isAdditive()) {
    if (!s.points) return null;
    const pts = sortedPoints(s);
    if (!pts.length) return null;
    const last = pts[pts.length - 1];
    if (!additive) return last;
    for (let i = pts.length - 1; i >= Math.max(0, pts.length - 3); i--) {
      if (isSettled(pts[i])) return last.start - pts[i].start <= 3 * windowMs ? pts[i] : last;
    }
    return last;
  }

  /** A series' current figure; the count or sum of a series that has gone quiet is 0, not its last value. */
  function currentValue(s, valueOf = pointValue, additive = isAdditive()) {
    if (!additive) {
      // the newest complete window that has the figure (a mean or percentile of no values is no figure),
      // as the big figure does; a window still filling only when there is nothing else
      const pts = s.points ? sortedPoints(s) : [];
      let open;
      for (let i = pts.length - 1; i >= 0; i--) {
        const v = valueOf(pts[i]);
        if (!finite(v)) continue;
        if (isSettled(pts[i])) return v;
        if (open === undefined) open = v;
      }
      return open !== undefined ? open : s.lastFinal ? valueOf(s.lastFinal) : undefined;
    }
    const p = currentPoint(s, additive) || s.lastFinal;
    if (!p) return undefined;
    if (additive && serverNow() - SETTLE_MS > p.start + 2 * windowMs) return 0;
    return valueOf(p);
  }

  /**
   * The stream-wide figure of the newest complete window, from the total subscription: its final
   * rollup (exact: the server merged every series, sketches included). Until the first final comes,
   * a settled window stands in. For counts and sums, a window whose final is overdue and that sent
   * nothing had no events: 0.
   * Returns { value, count, windowStart, final } or null.
   */
  function headline() {
    const pts = sortedPoints(total);
    const dueBy = serverNow() - windowMs - finalLag - FINAL_MARGIN_MS; // windows starting by now should be final
    let pick = null;
    for (let i = pts.length - 1; i >= 0; i--) if (pts[i].final) { pick = pts[i]; break; }
    // none final yet (just subscribed): a settled window stands in, until the first final
    if (!pick) for (let i = pts.length - 1; i >= 0; i--) if (isSettled(pts[i])) { pick = pts[i]; break; }
    if (isAdditive()) {
      // windows without events send nothing: when the newest window that should be final by now (finals
      // come in order, finalLag follows how late they come) sent nothing at all, its figure is 0
      const lastDue = Math.floor(dueBy / windowMs) * windowMs;
      if ((!pick || lastDue > pick.start) && !total.points.has(lastDue) && lastDue >= subscribedAt) {
        return { value: 0, count: 0, windowStart: lastDue, final: true };
      }
    }
    if (!pick) return null;
    return { value: pointValue(pick), count: pick.count, windowStart: pick.start, final: pick.final };
  }

  function metricPhrase() {
    return sel.stat === 'count' ? 'events per ' + windowLabel : statLabel() + ' of ' + (sel.metric || '—');
  }

  function scopePhrase() {
    return (grouped() ? 'All series' : 'Stream total') + (Object.keys(sel.filter).length ? ' (filtered)' : '');
  }

  function swatch(slot) {
    const p = PALETTE[slot % PALETTE.length];
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 36 16');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', '2'); line.setAttribute('y1', '8'); line.setAttribute('x2', '34'); line.setAttribute('y2', '8');
    line.setAttribute('stroke', p.c); line.setAttribute('stroke-width', '5'); line.setAttribute('stroke-linecap', 'round');
    if (p.dash) line.setAttribute('stroke-dasharray', '7 6');
    svg.append(line);
    return svg;
  }

  function updatePanels() {
    if (performance.now() - lastRank >= RANK_MS) rank(false);
    const list = plotted();
    const u = unit();
    const overflow = knownOverflowAt > 0 && performance.now() - knownOverflowAt < WINDOWS_SHOWN * windowMs;
    const hidden = known.size - list.length;
    pulse.series = known.size;
    pulse.points = countPlotted();

    // legend: rebuilt only when membership changes, values updated in place
    const more = hidden > 0 || overflow
      ? '+' + fmtCount(hidden) + (overflow ? '+' : '') + ' more series not drawn'
        + (ranked ? '  ·  lines: top ' + list.length + ' by ' + (sel.stat === 'count' ? 'events' : statLabel()) : '')
      : '';
    const sig = list.map(s => s.key + '#' + s.slot).join('|') + '/' + more;
    if (sig !== legendSig) {
      legendSig = sig;
      const items = list.map(s => {
        const li = document.createElement('li');
        li.dataset.series = s.label;
        const name = document.createElement('span');
        name.className = 'legend-name';
        name.textContent = s.label;
        name.title = s.label;
        const val = document.createElement('span');
        val.className = 'legend-value';
        li.append(swatch(s.slot), name, val);
        return li;
      });
      if (more) {
        const li = document.createElement('li');
        li.className = 'legend-more';
        li.textContent = more;
        items.push(li);
      }
      el.legend.replaceChildren(...items);
    }
    // hero: the stream-wide figure of the chosen statistic (total subscription), never one series'
    const h = sel.stream ? headline() : null;
    const heroVal = h ? h.value : undefined;

    const valueEls = el.legend.querySelectorAll('.legend-value');
    // not grouped, the one line is the stream total: the same figure as the big one
    list.forEach((s, i) => { if (valueEls[i]) setFigure(valueEls[i], fmt(grouped() ? currentValue(s) : heroVal), u); });
    pulse.headline = h ? { value: finite(heroVal) ? heroVal : null, windowStart: h.windowStart, final: h.final,
      count: finite(h.count) ? h.count : null, stat: sel.stat, metric: sel.metric } : null;
    const label = sel.stream ? scopePhrase() + '  ·  ' + metricPhrase() : '';
    if (el.heroLabel.textContent !== (label || '\u00a0')) el.heroLabel.textContent = label || '\u00a0';
    const heroText = finite(heroVal) ? fmt(heroVal) : 'no data';
    if (el.heroValue.textContent !== heroText) el.heroValue.textContent = heroText;
    el.heroUnit.textContent = finite(heroVal) ? u : '';
    el.heroValue.classList.toggle('none', !finite(heroVal));
    el.heroNote.textContent = h && finite(h.windowStart)
      ? windowLabel + ' window from ' + clockText(h.windowStart) + (h.final ? '' : ' (so far)') : '';

    // KPIs, all from the stream total: events per second of the hero's window, peak of the hero's figure
    let rate;
    if (h && finite(h.count)) rate = h.count / (windowMs / 1000);
    else if (!lastDataAt) {
      const info = streamInfo(sel.stream);
      rate = info && finite(info.rate) ? info.rate : undefined;
    }
    setFigure(el.kpiRate, fmtSig(rate), '/s');
    setFigure(el.kpiSeries, known.size ? fmtCount(known.size) + (overflow ? '+' : '') : '—', '');

    let peak;
    const left = viewRight() - WINDOWS_SHOWN * windowMs;
    for (const p of total.points.values()) {
      if (p.start < left || !isSettled(p)) continue;
      const v = pointValue(p);
      if (finite(v) && (peak === undefined || v > peak)) peak = v;
    }
    if (h && finite(heroVal) && (peak === undefined || heroVal > peak)) peak = heroVal;
    setFigure(el.kpiPeak, fmt(peak), u);

    const age = lastDataAt ? performance.now() - lastDataAt : NaN;
    el.kpiAge.textContent = lastDataAt ? agoText(age) + ' ago' : 'none yet';
    el.kpiAge.classList.toggle('warn', age > 5 * windowMs && age <= 60000);
    el.kpiAge.classList.toggle('crit', age > 60000);
    el.heroValue.classList.toggle('stale', !lastDataAt || age > 5 * windowMs || pulse.state !== 'live');

    // empty-state message over the chart
    let empty = '';
    if (!sel.stream) empty = streamsLoaded ? 'No streams yet — POST events to /api/v1/events' : 'Loading streams…';
    else if (!pulse.points) {
      if (bannerKind === 'sub') empty = 'No data: the subscription was rejected';
      else if (pulse.state !== 'live') empty = 'Connecting to the live feed…';
      else empty = 'Waiting for data on “' + sel.stream + '”…';
    }
    el.empty.textContent = empty;
    el.empty.hidden = !empty;
    fitHero();
  }

  /**
   * The big figure and the KPIs share a row; a long figure (or unit) would push the KPIs onto a
   * second row and squeeze the chart. Shrink the figure a little instead, as far as 60 %.
   */
  let fitSig = '';
  function fitHero() {
    const fig = el.heroValue.parentNode, main = fig.parentNode, kpis = el.kpiRate.closest('.kpis');
    const sig = [el.heroValue, el.heroUnit, el.kpiRate, el.kpiSeries, el.kpiPeak, el.kpiAge]
      .map(n => n.textContent.length).join(',') + '/' + main.parentNode.clientWidth;
    if (sig === fitSig) return;
    fitSig = sig;
    const wrapped = () => kpis.offsetTop >= main.offsetTop + main.offsetHeight - 1;
    let scale = 1;
    fig.style.setProperty('--hero-scale', '1');
    while (wrapped() && scale > 0.6) { scale -= 0.05; fig.style.setProperty('--hero-scale', scale.toFixed(2)); }
    if (wrapped()) fig.style.setProperty('--hero-scale', '1'); // a narrow screen: one above the other, full size
  }


  function updateConn() {
    const now = performance.now();
    const s = pulse.state;
    let label, detail = '';
    if (s === 'live') {
      const quiet = now - lastMsgAt;
      const stale = quiet > STALE_AFTER_MS;
      el.conn.classList.toggle('stale', stale);
      label = stale ? 'Stale' : 'Live';
      detail = 'last message ' + agoText(quiet) + ' ago';
    } else {
      el.conn.classList.remove('stale');
      label = s === 'reconnecting' ? 'Reconnecting' : 'Connecting';
      if (reconnectAt) {
        const wait = Math.max(0, reconnectAt - now);
        detail = (closingReason && attempt <= 1 ? closingReason.split(';')[0] + ' · ' : '')
          + 'retry in ' + Math.ceil(wait / 1000) + ' s' + (attempt > 1 ? ' · attempt ' + attempt : '');
      } else {
        detail = 'opening live feed…';
      }
    }
    el.connLabel.textContent = label;
    el.connDetail.textContent = detail;
  }

  // ---------------------------------------------------------------- chart
  const yAnim = { lo: 0, hi: 1, reset: true, last: 0 };
  let lastFrame = 0;
  let fontPx = 14;

  function countPlotted() {
    const left = viewRight() - (WINDOWS_SHOWN + 1) * windowMs;
    let n = 0;
    for (const s of series.values()) {
      if (s.slot < 0) continue;
      for (const p of s.points.values()) if (p.start >= left && Number.isFinite(pointValue(p))) n++;
    }
    return n;
  }

  function niceStep(range, maxTicks) {
    const raw = range / Math.max(1, maxTicks);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  }

  /** Target y range: honest zero for non-negative data that sits near it, headroom above, nice ends. */
  function yTarget(lo, hi, maxTicks) {
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (lo >= 0 && (isAdditive() || lo <= hi * 0.5)) lo = 0;
    if (hi <= 0 && hi >= lo * 0.5 && isAdditive()) hi = 0;
    if (hi - lo < 1e-12) {
      const d = Math.abs(hi) > 0 ? Math.abs(hi) * 0.25 : 1;
      if (lo !== 0) lo -= d;
      hi += d;
    } else {
      const pad = (hi - lo) * 0.08;
      hi += pad;
      if (lo !== 0) lo -= pad;
    }
    const step = niceStep(hi - lo, maxTicks);
    return { lo: Math.floor(lo / step + 1e-9) * step, hi: Math.ceil(hi / step - 1e-9) * step, step };
  }

  function timeStep(spanMs, widthPx, labelPx) {
    const steps = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];
    const maxLabels = Math.max(2, Math.floor(widthPx / labelPx));
    return steps.find(s => spanMs / s <= maxLabels) || steps[steps.length - 1];
  }

  function resizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    const w = el.wrap.clientWidth, h = el.wrap.clientHeight;
    const pw = Math.max(1, Math.round(w * dpr)), ph = Math.max(1, Math.round(h * dpr));
    if (el.canvas.width !== pw || el.canvas.height !== ph) { el.canvas.width = pw; el.canvas.height = ph; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { w, h };
  }

  function draw(now) {
    const { w, h } = resizeCanvas();
    ctx.clearRect(0, 0, w, h);
    if (w < 50 || h < 50) return;
    const fs = Math.round(fontPx * 1.0);
    const font = '600 ' + fs + 'px system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif';

    const span = WINDOWS_SHOWN * windowMs;
    const right = viewRight();
    const left = right - span;
    const list = [...series.values()].filter(s => s.slot >= 0);

    // visible values
    let vmin = Infinity, vmax = -Infinity, count = 0;
    const projectOpen = isAdditive();
    const lines = list.map(s => {
      const pts = [];
      for (const p of sortedPoints(s)) {
        if (p.start < left - 2 * windowMs) continue;
        let v = pointValue(p);
        if (!Number.isFinite(v)) continue;
        const open = isOpen(p);
        // A count or sum of a window still filling is drawn as an estimate of the whole window (dashed),
        // or the right edge would saw-tooth down at each new window: what has come so far, plus the rest of
        // the window at the pace of the window before. How far the window is covered is read from the
        // newest event time folded in ("latest"), since events reach the server a little after their time.
        // Without a window before, scale up if enough came.
        const unsettled = !isSettled(p);
        if (unsettled && projectOpen && (Number.isFinite(p.latest) || Number.isFinite(p.at))) {
          const reached = Number.isFinite(p.latest) && p.latest >= p.start ? p.latest + 1 : p.at;
          const f = Math.min(1, Math.max(0, (reached - p.start) / windowMs));
          const before = pts[pts.length - 1];
          if (before && p.start - before.t <= windowMs) v += (1 - f) * before.v;
          else if (p.count >= 10) v /= Math.max(f, 0.5);
        }
        pts.push({ t: p.start, v, open, unsettled });
        if (p.start >= left) { count++; if (v < vmin) vmin = v; if (v > vmax) vmax = v; }
      }
      // counts and sums of windows without events are zero, and the server sends nothing for them:
      // carry a quiet series down to zero up to the last window the clock has closed (+ a flush tick)
      const tail = pts[pts.length - 1];
      if (projectOpen && tail && !tail.open) {
        const closedBy = serverNow() - windowMs - SETTLE_MS;
        if (tail.t + windowMs <= closedBy) {
          let z = tail.t + windowMs;
          while (z + windowMs <= closedBy) z += windowMs;
          pts.push({ t: tail.t + windowMs, v: 0, open: false, filled: true });
          if (z > tail.t + windowMs) pts.push({ t: z, v: 0, open: false, filled: true });
          if (vmin > 0) vmin = 0;
        }
      }
      return { s, pts };
    });
    pulse.points = count;

    // plot area
    ctx.font = font;
    const maxTicks = Math.max(2, Math.min(6, Math.floor(h / (fs * 3.2))));
    const tgt = yTarget(vmin, vmax, maxTicks);
    const dt = yAnim.last ? Math.min(500, now - yAnim.last) : 0;
    yAnim.last = now;
    if (yAnim.reset || !Number.isFinite(yAnim.lo)) { yAnim.lo = tgt.lo; yAnim.hi = tgt.hi; yAnim.reset = false; }
    else { const k = 1 - Math.exp(-dt / 180); yAnim.lo += (tgt.lo - yAnim.lo) * k; yAnim.hi += (tgt.hi - yAnim.hi) * k; }
    const lo = yAnim.lo, hi = yAnim.hi === yAnim.lo ? yAnim.lo + 1 : yAnim.hi;

    const ticks = [];
    for (let v = tgt.lo; v <= tgt.hi + tgt.step * 1e-6; v += tgt.step) ticks.push(Math.abs(v) < tgt.step * 1e-9 ? 0 : v);
    const labels = ticks.map(v => fmtTick(v, tgt.step));
    const labelW = Math.max(...labels.map(l => ctx.measureText(l).width), ctx.measureText('0').width);
    // with several lines, name each at its head so a viewer across the room needs no legend lookup
    const drawn = lines.filter(l => l.pts.length);
    const direct = drawn.length > 1;
    const nameW = direct ? Math.max(...drawn.map(l => ctx.measureText(l.s.label).width)) : 0;
    const padL = Math.ceil(labelW + fs * 0.9), padR = Math.ceil(direct ? Math.min(nameW, w * 0.18) + fs * 1.6 : fs * 0.9), padT = Math.ceil(fs * 0.7), padB = Math.ceil(fs * 2.0);
    const pw = w - padL - padR, ph = h - padT - padB;
    if (pw < 20 || ph < 20) return;
    const X = t => padL + ((t - left) / span) * pw;
    const Y = v => padT + (1 - (v - lo) / (hi - lo)) * ph;

    // grid and y labels
    ctx.lineWidth = 1;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    if (count) ticks.forEach((v, i) => {
      const y = Math.round(Y(v)) + 0.5;
      if (y < padT - 1 || y > padT + ph + 1) return;
      ctx.strokeStyle = v === 0 ? 'rgba(200,215,235,0.28)' : 'rgba(200,215,235,0.09)';
      ctx.beginPath(); ctx.moveTo(padL, y); ctx.lineTo(padL + pw, y); ctx.stroke();
      ctx.fillStyle = '#8b9bb0';
      ctx.fillText(labels[i], padL - fs * 0.5, y);
    });

    // time axis
    const tStep = timeStep(span, pw, fs * 7);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tzOffset = new Date(right).getTimezoneOffset() * 60000;
    for (let t = Math.ceil((left - tzOffset) / tStep) * tStep + tzOffset; t <= right; t += tStep) {
      const x = Math.round(X(t)) + 0.5;
      ctx.strokeStyle = 'rgba(200,215,235,0.06)';
      ctx.beginPath(); ctx.moveTo(x, padT); ctx.lineTo(x, padT + ph); ctx.stroke();
      ctx.strokeStyle = 'rgba(200,215,235,0.25)';
      ctx.beginPath(); ctx.moveTo(x, padT + ph); ctx.lineTo(x, padT + ph + fs * 0.35); ctx.stroke();
      const lx = Math.min(Math.max(x, padL + fs * 2.2), padL + pw - fs * 2.2);
      ctx.fillStyle = '#8b9bb0';
      ctx.fillText(clockText(t, tStep < 60000), lx, padT + ph + fs * 0.5);
    }
    ctx.strokeStyle = 'rgba(200,215,235,0.22)';
    ctx.beginPath(); ctx.moveTo(padL, padT + ph + 0.5); ctx.lineTo(padL + pw, padT + ph + 0.5); ctx.stroke();

    // series lines
    ctx.save();
    ctx.beginPath(); ctx.rect(padL, padT - 6, pw + padR, ph + 12); ctx.clip();
    const lw = Math.max(2, fs * 0.19);
    const single = drawn.length === 1;
    const heads = [];
    const gapZero = isAdditive();
    for (const { s, pts } of lines) {
      if (!pts.length) continue;
      const pal = PALETTE[s.slot % PALETTE.length];
      // expand: additive stats read missing windows as zero; others leave a gap (no data is not zero)
      const run = [];
      let segs = [[]];
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i], prev = pts[i - 1];
        if (prev && p.t - prev.t > 1.5 * windowMs) {
          if (gapZero) {
            segs[segs.length - 1].push({ t: prev.t + windowMs, v: 0 });
            segs[segs.length - 1].push({ t: p.t - windowMs, v: 0 });
          } else segs.push([]);
        }
        segs[segs.length - 1].push(p);
      }
      // windows whose figures may still change (open, or just ended) are drawn dashed at the head
      const lastSeg = segs[segs.length - 1];
      const tailPts = [];
      while (lastSeg.length && lastSeg[lastSeg.length - 1].unsettled) tailPts.unshift(lastSeg.pop());
      run.push(...segs);

      const path = seg => { ctx.beginPath(); seg.forEach((p, i) => (i ? ctx.lineTo(X(p.t), Y(p.v)) : ctx.moveTo(X(p.t), Y(p.v)))); };
      if (single) {
        const base = Y(Math.max(lo, Math.min(hi, 0 >= lo && 0 <= hi ? 0 : lo)));
        const g = ctx.createLinearGradient(0, padT, 0, padT + ph);
        g.addColorStop(0, hexA(pal.c, 0.30)); g.addColorStop(1, hexA(pal.c, 0.02));
        for (const seg of run) {
          const full = seg === run[run.length - 1] ? seg.concat(tailPts) : seg;
          if (full.length < 2) continue;
          path(full);
          ctx.lineTo(X(full[full.length - 1].t), base); ctx.lineTo(X(full[0].t), base); ctx.closePath();
          ctx.fillStyle = g; ctx.fill();
        }
      }
      ctx.strokeStyle = pal.c;
      ctx.lineWidth = lw;
      ctx.lineJoin = 'round'; ctx.lineCap = 'round';
      ctx.setLineDash(pal.dash ? pal.dash.map(d => d * lw / 2.5) : []);
      for (const seg of run) { if (seg.length >= 2) { path(seg); ctx.stroke(); } }
      const tailFrom = run[run.length - 1][run[run.length - 1].length - 1];
      if (tailPts.length) {
        const dashed = tailFrom && tailPts[0].t - tailFrom.t <= 1.5 * windowMs ? [tailFrom].concat(tailPts) : tailPts;
        if (dashed.length >= 2) {
          ctx.globalAlpha = 0.6;
          ctx.setLineDash([lw * 1.6, lw * 1.6]);
          path(dashed); ctx.stroke();
          ctx.globalAlpha = 1;
        }
      }
      ctx.setLineDash([]);
      ctx.fillStyle = pal.c;
      if (run.length > 1) {
        // a sparse series (windows without events: no mean or percentile there) reads as dots joined
        // where windows are adjacent, not as a scatter of dashes
        for (const seg of run) for (const p of seg) {
          if (p.t < left - windowMs) continue;
          ctx.beginPath(); ctx.arc(X(p.t), Y(p.v), seg.length === 1 ? lw * 1.25 : lw * 0.95, 0, Math.PI * 2); ctx.fill();
        }
      } else if (run[0].length === 1) {
        ctx.beginPath(); ctx.arc(X(run[0][0].t), Y(run[0][0].v), lw * 1.3, 0, Math.PI * 2); ctx.fill();
      }
      // head marker
      const head = tailPts.length ? tailPts[tailPts.length - 1] : tailFrom;
      if (head) {
        const hx = X(head.t), hy = Y(head.v);
        heads.push({ x: hx, y: hy, label: s.label, color: pal.c });
        ctx.fillStyle = hexA(pal.c, 0.22);
        ctx.beginPath(); ctx.arc(hx, hy, lw * 3.2, 0, Math.PI * 2); ctx.fill();
        ctx.fillStyle = pal.c;
        ctx.beginPath(); ctx.arc(hx, hy, lw * 1.5, 0, Math.PI * 2); ctx.fill();
      }
    }
    ctx.restore();

    if (direct && heads.length) {
      // spread labels vertically so they never overlap, keeping each as close to its line as possible
      const gap = fs * 1.15;
      heads.sort((a, b) => a.y - b.y);
      heads.forEach((hd, i) => { hd.ly = Math.max(hd.y, i ? heads[i - 1].ly + gap : padT + gap / 2); });
      const bottom = padT + ph - gap / 2;
      for (let i = heads.length - 1; i >= 0; i--) {
        const max = i === heads.length - 1 ? bottom : heads[i + 1].ly - gap;
        if (heads[i].ly > max) heads[i].ly = max;
      }
      const lx = padL + pw + fs * 0.9;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.font = '700 ' + fs + 'px system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif';
      for (const hd of heads) {
        ctx.strokeStyle = hexA(hd.color, 0.45);
        ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(hd.x + lw * 3.4, hd.y); ctx.lineTo(lx - fs * 0.25, hd.ly); ctx.stroke();
        ctx.fillStyle = hd.color;
        let text = hd.label;
        const maxW = padR - fs * 1.0;
        while (text.length > 2 && ctx.measureText(text).width > maxW) text = text.slice(0, -2) + '…';
        ctx.fillText(text, lx, hd.ly);
      }
    }
  }

  function hexA(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16 & 255) + ',' + (n >> 8 & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  function frame(ts) {
    requestAnimationFrame(frame);
    if (ts - lastFrame < FRAME_MS) return;
    lastFrame = ts;
    try { draw(ts); } catch (e) { console.error('pulse: draw failed', e); }
  }

  // ---------------------------------------------------------------- timers
  function tick() {
    fontPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 14;
    el.clock.textContent = clockText(Date.now());
    updateConn();
    updatePanels();
    // a link that went silent past two heartbeats is dead even if the socket has not noticed
    if (ws && ws.readyState === WebSocket.OPEN && performance.now() - lastMsgAt > SILENCE_RECONNECT_MS) drop(ws);
    // the pill is small: after a while, say it across the screen that the figures are not live
    if (lostAt && Date.now() - lostAt > 20000 && (!bannerKind || bannerKind === 'conn' || bannerKind === 'subwarn')) {
      showBanner('conn', 'Live feed lost at ' + clockText(lostAt) + ' (' + agoText(Date.now() - lostAt)
        + ' ago) — retrying automatically; the figures below are not current.', 'warn');
    }
  }

  function ping() {
    if (ws && ws.readyState === WebSocket.OPEN && performance.now() - lastMsgAt > PING_MS / 2) send({ op: 'ping' });
  }

  window.addEventListener('online', () => { if (!ws && reconnectTimer) connect(); });

  async function start() {
    setState('connecting');
    renderPickers(); renderTitles(); renderAlerts();
    // know the stream's dims and values before subscribing, so defaults do not cause a second subscription
    await Promise.race([loadStreams(), new Promise(r => setTimeout(r, 3000))]);
    writeUrl();
    connect();
    loadAlerts();
    setInterval(loadStreams, STREAMS_REFRESH_MS);
    setInterval(() => { if (alertsApi !== false) loadAlerts(); }, ALERTS_REFRESH_MS);
    setInterval(prune, 1000);
    setInterval(renderAlerts, 1000);
    setInterval(tick, 250);
    setInterval(ping, PING_MS);
    tick();
    requestAnimationFrame(frame);
  }

  start();
})();

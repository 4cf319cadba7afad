// DataSource: the numbers of one panel (wallboard contract section 2). History first, then live,
// with no gap:
//   1. GET /api/v1/streams/{s}/series?from=<range>&step=<window>&groupBy&filter&metric: the stored
//      buckets at the panel's step (percentiles of merged sketches, exact).
//   1b. ...read up to `to` = since (below) exactly, so the open bucket's stored part is its base.
//   2. Subscribe on the shared socket with since = the first stream window that storage may not
//      hold yet (the one holding now - 5 s). The server replays the stored windows from there, then
//      the live feed, at the stream's window; they are added to the open bucket's base.
//   3. Live rollups come at the stream's window (1 s by default). For a coarser panel window they
//      are merged exactly for count, sum, min, max and mean (mean = sum / count); for p50/p95/p99
//      the open bucket shows the newest live percentile, marked provisional, and each closed
//      bucket is read again from /series (exact) a few seconds after it closed.
//   After a reconnect the subscription resumes with since = the window after the newest final one:
//   the open bucket's windows are keyed by their start, so one that comes again replaces itself.
// Missing data is a gap (null), never zero, for every value figure; the count of an empty bucket
// is 0. Partial buckets (the first and last of /series, the open live one) are marked.
// Everything held is bounded: at most `top` x 2 series (the least recently updated forgotten
// first), 2,000 buckets per series, the live sub-windows of the open buckets only.
// A view goes to the panel at most every 250 ms.

import { BoundedMap, BucketRing, Ring, LIMITS } from './buffers.js';

const DURATIONS = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
export const WINDOWS = ['1s', '5s', '10s', '30s', '1m', '5m', '15m', '1h'];
export const RANGES = ['5m', '15m', '1h', '6h', '24h', '7d'];
export const FIGURES = ['count', 'sum', 'min', 'max', 'mean', 'p50', 'p95', 'p99'];
const PERCENTILES = new Set(['p50', 'p95', 'p99']);
const EMIT_MS = 250;
const SETTLE_MS = 5000;       // a bucket that ended this long ago is held complete by storage
const REREAD_AFTER_MS = 3000; // a closed percentile bucket is read again from /series this long after its end

export function parseDuration(s) {
  if (typeof s === 'number') return s;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(String(s || '').trim());
  if (!m) return 0;
  return m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * DURATIONS[m[2]];
}

export function formatDuration(ms) {
  for (const [u, f] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]]) {
    if (ms >= f && ms % f === 0) return ms / f + u;
  }
  return ms + 'ms';
}

/** The series key of dims (group-by order); '' for the stream total. */
export function seriesKey(dims, groupBy) {
  if (!groupBy || !groupBy.length) return '';
  return groupBy.map(g => (dims && dims[g] !== undefined ? String(dims[g]) : '')).join(' · ');
}

function finite(v) { return typeof v === 'number' && Number.isFinite(v) ? v : null; }

/** The figure of a rollup or a /series point: {count, values: {name: {count, sum, ...}}}. */
export function figureOf(p, metric, figure) {
  if (!p) return null;
  if (figure === 'count') {
    if (!metric) return finite(p.count) ?? 0;
    const v = p.values && p.values[metric];
    return v ? (finite(v.count) ?? 0) : 0;
  }
  const v = p.values && p.values[metric];
  return v ? finite(v[figure]) : null;
}

/** What a rollup or point carries for merging: counts, sum, min, max, and the percentile asked for. */
function aggOf(p, metric, figure) {
  const v = (metric && p.values && p.values[metric]) || null;
  return {
    count: finite(p.count) ?? 0,
    vcount: v ? (finite(v.count) ?? 0) : (metric ? 0 : finite(p.count) ?? 0),
    sum: v ? finite(v.sum) : null,
    min: v ? finite(v.min) : null,
    max: v ? finite(v.max) : null,
    pct: PERCENTILES.has(figure) ? figureOf(p, metric, figure) : null,
    latest: finite(p.latest),
  };
}

function valueOf(a, metric, figure) {
  switch (figure) {
    case 'count': return metric ? a.vcount : a.count;
    case 'sum': return a.vcount > 0 ? a.sum : null;
    case 'min': return a.vcount > 0 ? a.min : null;
    case 'max': return a.vcount > 0 ? a.max : null;
    case 'mean': return a.vcount > 0 && a.sum !== null ? a.sum / a.vcount : null;
    default: return a.vcount > 0 || (!metric && a.count > 0) ? a.pct : null;
  }
}

function parseAnomaly(a) {
  if (!a) return null;
  if (typeof a === 'string') { try { return JSON.parse(a); } catch (e) { return null; } }
  return typeof a === 'object' ? a : null;
}

/** The detector's band {lo, hi} when its explanation is about this panel's figure, else null. */
export function bandOf(anomaly, metric, figure) {
  const a = parseAnomaly(anomaly);
  if (!a || !Array.isArray(a.band)) return null;
  const want = metric ? metric + '.' + figure : figure;
  if (a.figure !== want && !(figure === 'count' && a.figure === 'count')) return null;
  const lo = finite(a.band[0]); const hi = finite(a.band[1]);
  return lo === null || hi === null ? null : { lo, hi };
}

let derivePromise = null;
/** derive.js (H2), loaded once and only when a panel asks for a derived figure. */
export function loadDerive() {
  if (!derivePromise) derivePromise = import('./derive.js').catch(e => { derivePromise = null; throw e; });
  return derivePromise;
}

export class DataSource {
  /**
   * @param panel the PANEL document; @param env {connection, api, time: dashboard time, onView(view),
   * onError(message), tzOffsetMin}
   */
  constructor(panel, env) {
    this.panel = panel;
    this.env = env;
    const q = panel.query || {};
    const t = env.time || {};
    this.q = q;
    this.stream = q.stream;
    this.figure = FIGURES.includes(q.figure) ? q.figure : 'count';
    this.metric = q.metric || null;
    this.groupBy = Array.isArray(q.groupBy) ? q.groupBy.slice() : (q.groupBy ? [String(q.groupBy)] : []);
    this.filter = q.filter && typeof q.filter === 'object' ? q.filter : {};
    this.windowMs = parseDuration(q.window || t.window || '1s') || 1000;
    this.rangeMs = parseDuration(q.range || t.range || '15m') || 900000;
    if (!q.window) {
      // the dashboard's resolution, coarsened where the range would need more buckets than a series holds
      for (const w of WINDOWS.map(parseDuration)) {
        if (w >= this.windowMs && this.rangeMs / w <= LIMITS.bucketsPerSeries) { this.windowMs = w; break; }
      }
    }
    this.top = Math.max(1, Math.min(LIMITS.maxTop, Number(q.top) || LIMITS.defaultTop));
    this.streamWindowMs = 1000;
    this.series = new BoundedMap(Math.min(400, this.top * 2));
    this.listeners = new Set();
    this.sub = null;
    this.destroyed = false;
    this.status = 'loading';     // loading | history | live | error
    this.error = null;
    this.warnings = [];
    this.historyLoaded = false;
    this.historyCalls = 0;
    this.rollups = 0;
    this.liveSince = null;       // the since= of the subscription
    this.newestFinal = -Infinity; // newest final sub-window start seen
    this.rereads = new Set();    // bucket starts to read again (percentiles), bounded by the open buckets
    this.rereadTimer = 0;
    this.emitTimer = 0;
    this.lastEmit = 0;
    this.dirty = false;
    this.stale = false;
    this.deriveMod = null;
    this.derived = null;         // DataSource of a ratio's denominator
    this.lastView = null;
    if (env.onView) this.listeners.add(env.onView);
  }

  onView(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  async start() {
    const d = this.panel.derive;
    if (d && d.op) {
      try {
        this.deriveMod = await loadDerive();
      } catch (e) {
        this.fail('derived figures are not available on this page (derive.js did not load)');
      }
      if (d.op === 'ratio' && d.denominator && typeof d.denominator === 'object') {
        const den = Object.assign({}, this.panel, { id: this.panel.id + '~den', derive: undefined,
          query: Object.assign({}, this.q, d.denominator) });
        this.derived = new DataSource(den, Object.assign({}, this.env, { onView: () => this.markDirty(), onError: null }));
        this.derived.start();
      }
    }
    if (this.destroyed) return;
    // the stream's own window: a panel's step is at least that, and a multiple of it
    if (this.env.streamInfo) {
      const info = await this.env.streamInfo(this.stream).catch(() => null);
      const w = info ? parseDuration(info.window) : 0;
      if (w) this.setStreamWindow(w);
      // before its first event the stream had no data: those buckets are gaps, not zeros
      this.firstSeen = info && Number.isFinite(info.firstSeen) ? info.firstSeen : null;
    }
    if (this.destroyed) return;
    await this.loadHistory();
    if (this.destroyed) return;
    this.subscribe();
  }

  destroy() {
    this.destroyed = true;
    if (this.sub) this.sub.close();
    this.sub = null;
    clearTimeout(this.emitTimer);
    clearTimeout(this.rereadTimer);
    if (this.derived) this.derived.destroy();
    this.listeners.clear();
    this.series.clear();
  }

  fail(message) {
    this.error = message;
    if (this.env.onError) this.env.onError(message);
    this.markDirty();
  }

  params(from, to) {
    const filter = [];
    for (const [k, v] of Object.entries(this.filter)) for (const x of (Array.isArray(v) ? v : [v])) filter.push(k + ':' + x);
    return { from, to, step: formatDuration(this.windowMs), groupBy: this.groupBy.join(',') || null,
      filter, metric: this.metric || null };
  }

  async readSeries(from, to) {
    this.historyCalls++;
    return this.env.api.get('/api/v1/streams/' + encodeURIComponent(this.stream) + '/series', this.params(from, to));
  }

  seriesFor(dims) {
    const key = seriesKey(dims, this.groupBy);
    let s = this.series.get(key);
    if (!s) {
      const d = {};
      for (const g of this.groupBy) if (dims && dims[g] !== undefined) d[g] = String(dims[g]);
      s = { key, dims: d, label: key || 'all', buckets: new BucketRing(LIMITS.bucketsPerSeries), score: null, band: null, touched: 0 };
      this.series.set(key, s);
    } else if (Date.now() - s.touched > 1000) {
      this.series.set(key, s); // refresh its place: the least recently updated series is forgotten first
    }
    s.touched = Date.now();
    return s;
  }

  async loadHistory() {
    const now = this.env.connection.serverNow();
    // storage holds every window that ended SETTLE_MS ago; from there on the live feed replays them
    const since = Math.floor((now - SETTLE_MS) / this.streamWindowMs) * this.streamWindowMs;
    this.liveSince = since;
    let from = Math.max(0, now - this.rangeMs);
    if (this.firstSeen) from = Math.max(from, Math.floor(this.firstSeen / this.windowMs) * this.windowMs);
    if (from >= since) {
      this.historyLoaded = true; // a stream younger than the settling time: the live feed's replay has it all
      return;
    }
    let j = null;
    try {
      // history up to since= exactly: the live feed's replay starts there, so nothing counts twice
      j = await this.readSeries(from, since);
    } catch (e) {
      if (e.status === 400) { this.fail(e.message); return; }
      // storage off (503) or a stream with no history yet (404): live only
      this.liveSince = null;
      this.warnings.push('no stored history: ' + e.message);
      return;
    }
    if (this.destroyed || !j || !Array.isArray(j.series)) return;
    // more series stored than the panel holds: keep the largest by their newest value (the ones it shows)
    let list = j.series;
    if (list.length > this.series.capacity) {
      const lastOf = one => {
        const pts = one.points || [];
        for (let i = pts.length - 1; i >= 0; i--) {
          const v = figureOf(pts[i][1], this.metric, this.figure);
          if (v !== null && !(this.figure === 'count' && v === 0)) return v;
        }
        return -Infinity;
      };
      list = list.map(one => [lastOf(one), one]).sort((x, y) => y[0] - x[0]).slice(0, this.series.capacity).map(x => x[1]).reverse();
    }
    for (const one of list) {
      const s = this.seriesFor(one.series || {});
      for (const [ts, p] of one.points || []) {
        const a = aggOf(p, this.metric, this.figure);
        const b = { start: ts, end: ts + this.windowMs, count: a.count, agg: a, value: valueOf(a, this.metric, this.figure),
          partial: p.partial === true, score: finite(p.score), band: null };
        if (this.windowMs === this.streamWindowMs) b.band = bandOf(p.anomaly, this.metric, this.figure);
        if (b.end > since) {
          // the open bucket: its stored part (windows before since=) is its base; live windows add to it
          b.base = a;
          b.subs = new Map();
          b.partial = true;
          if (PERCENTILES.has(this.figure)) b.provisional = true;
        }
        s.buckets.upsert(b);
      }
    }
    this.historyLoaded = true;
    this.status = 'history';
    this.markDirty();
  }

  setStreamWindow(w) {
    this.streamWindowMs = w;
    if (this.windowMs < w) this.windowMs = w;
    else if (this.windowMs % w) this.windowMs = Math.ceil(this.windowMs / w) * w;
  }

  subscribe() {
    if (!this.stream) return;
    const spec = { stream: this.stream, groupBy: this.groupBy, filter: this.filter,
      metrics: this.metric ? [this.metric] : null, since: this.liveSince };
    this.sub = this.env.connection.subscribe(spec, {
      onRollup: m => this.onRollup(m),
      onSubscribed: m => {
        const w = parseDuration(m.window);
        if (w) this.setStreamWindow(w);
        this.warnings = (m.warnings || []).map(String);
        this.error = null;
        this.status = 'live';
        this.markDirty();
      },
      onHistory: m => { if (m.error || m.warning) this.warnings.push(String(m.error || m.warning)); this.markDirty(); },
      onError: msg => { this.status = 'error'; this.fail(msg); },
      // after a reconnect: from the first bucket not closed yet (older ones are complete here)
      resumeSince: () => {
        if (!Number.isFinite(this.newestFinal)) return this.liveSince;
        return this.newestFinal + this.streamWindowMs;
      },
    });
  }

  onRollup(m) {
    const start = Number(m.start);
    if (!Number.isFinite(start)) return;
    this.rollups++;
    const w = parseDuration(m.window) || this.streamWindowMs;
    const s = this.seriesFor(m.series || {});
    const bStart = Math.floor(start / this.windowMs) * this.windowMs;
    const a = aggOf(m, this.metric, this.figure);
    const score = finite(m.score);
    if (m.final && start > this.newestFinal) this.newestFinal = start;
    let b = s.buckets.at(bStart);
    if (this.windowMs <= w) {
      b = { start: bStart, end: bStart + this.windowMs, count: a.count, agg: a, value: valueOf(a, this.metric, this.figure),
        partial: !m.final, provisional: false, score, band: bandOf(m.anomaly, this.metric, this.figure), latest: a.latest };
      s.buckets.upsert(b);
    } else {
      if (b && !b.subs) return; // a closed bucket: complete, from storage or its finals
      if (!b) {
        // a bucket of live windows only (no stored part: it started after since=)
        b = { start: bStart, end: bStart + this.windowMs, count: 0, agg: null, value: null, partial: true,
          provisional: false, score: null, band: null, subs: new Map() };
        if (!s.buckets.upsert(b)) return;
      }
      if (b.subs.size < LIMITS.subWindowsPerBucket || b.subs.has(start)) b.subs.set(start, a);
      this.mergeSubs(b, start, a);
      if (score !== null && (b.score === null || score > b.score)) b.score = score;
    }
    if (score !== null) s.score = score;
    if (m.final) this.closeBuckets(start + w);
    this.markDirty();
  }

  /** A coarse bucket from its live sub-windows: exact for count/sum/min/max/mean. */
  mergeSubs(b, newestStart, newest) {
    const t = { count: 0, vcount: 0, sum: null, min: null, max: null, pct: null, latest: null };
    for (const x of b.base ? [b.base, ...b.subs.values()] : b.subs.values()) {
      t.count += x.count;
      t.vcount += x.vcount;
      if (x.sum !== null) t.sum = (t.sum ?? 0) + x.sum;
      if (x.min !== null) t.min = t.min === null ? x.min : Math.min(t.min, x.min);
      if (x.max !== null) t.max = t.max === null ? x.max : Math.max(t.max, x.max);
      if (x.latest !== null) t.latest = t.latest === null ? x.latest : Math.max(t.latest, x.latest);
    }
    if (PERCENTILES.has(this.figure)) {
      // provisional: the newest live percentile until the bucket closes and is read from /series
      if (!b.newestSub || newestStart >= b.newestSub) { b.newestSub = newestStart; b.pct = newest.pct; }
      t.pct = b.pct;
      b.provisional = true;
    }
    b.agg = t;
    b.count = t.count;
    b.value = valueOf(t, this.metric, this.figure);
  }

  /** Buckets that ended by `t` are closed: their sub-windows are dropped; percentiles are read again. */
  closeBuckets(t) {
    if (this.windowMs <= this.streamWindowMs) {
      for (const s of this.series.values()) {
        const b = s.buckets.last();
        if (b && b.partial && b.end <= t) b.partial = false;
      }
      return;
    }
    for (const s of this.series.values()) {
      for (let i = s.buckets.length - 1; i >= 0 && i >= s.buckets.length - 3; i--) {
        const b = s.buckets.get(i);
        if (b.subs && b.end <= t) {
          b.subs = null;
          b.partial = false;
          if (PERCENTILES.has(this.figure) && this.rereads.size < 16) this.rereads.add(b.start);
        }
      }
    }
    if (this.rereads.size && !this.rereadTimer) {
      this.rereadTimer = setTimeout(() => this.reread(), REREAD_AFTER_MS);
    }
  }

  /** Closed percentile buckets from /series: the merged sketches, exact. */
  async reread() {
    this.rereadTimer = 0;
    if (this.destroyed || !this.rereads.size) return;
    const starts = [...this.rereads].sort((x, y) => x - y);
    this.rereads.clear();
    let j;
    try {
      j = await this.readSeries(starts[0], starts[starts.length - 1] + this.windowMs);
    } catch (e) {
      return; // the provisional figure stays, marked
    }
    if (this.destroyed || !j || !Array.isArray(j.series)) return;
    for (const one of j.series) {
      const s = this.series.get(seriesKey(one.series || {}, this.groupBy));
      if (!s) continue;
      for (const [ts, p] of one.points || []) {
        const b = s.buckets.at(ts);
        if (!b || b.subs) continue;
        const v = figureOf(p, this.metric, this.figure);
        if (p.count > 0 || v !== null) { b.value = v; b.provisional = false; }
      }
    }
    this.markDirty();
  }

  markDirty() {
    this.dirty = true;
    if (this.emitTimer || this.destroyed) return;
    const wait = Math.max(0, EMIT_MS - (performance.now() - this.lastEmit));
    this.emitTimer = setTimeout(() => { this.emitTimer = 0; this.emit(); }, wait);
  }

  setStale(stale) {
    if (this.stale !== stale) { this.stale = stale; this.markDirty(); }
  }

  emit() {
    if (this.destroyed) return;
    this.lastEmit = performance.now();
    this.dirty = false;
    const v = this.view();
    this.lastView = v;
    for (const fn of this.listeners) { try { fn(v); } catch (e) { console.error(e); } }
  }

  /** The view of contract section 4, with the derived figure applied when the panel has one. */
  view() {
    const now = this.env.connection.serverNow();
    const from = now - this.rangeMs;
    const list = [];
    for (const s of this.series.values()) {
      s.buckets.dropBefore(from - this.windowMs);
      if (!s.buckets.length) continue;
      list.push(s);
    }
    const out = [];
    let partialFrom = null;
    for (const s of list) {
      let buckets = s.buckets;
      const d = this.panel.derive;
      if (d && d.op && this.deriveMod) buckets = this.applyDerive(s, d, now);
      let last = null; let lastSeen = null; let lastBucket = null;
      for (let i = buckets.length - 1; i >= 0; i--) {
        const b = buckets.get(i);
        if (last === null && b.value !== null && b.value !== undefined) { last = b.value; lastBucket = b; }
        if (lastSeen === null && b.count > 0) lastSeen = b.end;
        if (last !== null && lastSeen !== null) break;
      }
      if (d && d.op === 'lastSeen' && this.deriveMod) lastSeen = this.deriveMod.lastSeen(s.buckets.toArray());
      const lb = s.buckets.last();
      if (lb && (lb.partial || lb.provisional) && (partialFrom === null || lb.start < partialFrom)) partialFrom = lb.start;
      let band = null;
      for (let i = s.buckets.length - 1; i >= 0 && i >= s.buckets.length - 3; i--) {
        const b = s.buckets.get(i);
        if (b.band) { band = b.band; break; }
      }
      out.push({ key: s.key, dims: s.dims, label: s.label, buckets, last, lastBucket, lastSeen, score: s.score, band });
    }
    // at most `top` series: the largest last value first (a gap ranks last)
    out.sort((x, y) => (y.last ?? -Infinity) - (x.last ?? -Infinity) || (x.key < y.key ? -1 : 1));
    if (out.length > this.top) out.length = this.top;
    return { panel: this.panel.id, window: this.windowMs, from, to: now, series: out, partialFrom,
      stale: this.stale, figure: this.figure, metric: this.metric, status: this.status, error: this.error,
      warnings: this.warnings.slice(0, 5), derive: this.panel.derive || null, seriesHeld: this.series.size };
  }

  applyDerive(s, spec, now) {
    const mod = this.deriveMod;
    const arr = s.buckets.toArray().map(b => ({ start: b.start, end: b.end, value: b.value ?? null, count: b.count || 0,
      partial: b.partial || b.provisional || undefined }));
    const ctx = { now, tzOffsetMin: this.env.tzOffsetMin ?? mod.localTzOffsetMin(), windowMs: this.windowMs };
    let res;
    try {
      if (spec.op === 'ratio') {
        // the denominator series this one divides by, matched as /api/v1/query does (derive.js)
        const dd = this.derived;
        const denKey = dd ? (mod.denominatorDims ? seriesKey(mod.denominatorDims(s.dims, dd.groupBy), dd.groupBy) : s.key) : null;
        const den = dd && dd.series.get(denKey);
        const denArr = den ? den.buckets.toArray().map(b => ({ start: b.start, end: b.end, value: b.value ?? null, count: b.count || 0 })) : [];
        res = mod.deriveRatio(spec, arr, denArr, ctx);
      } else {
        res = mod.derive(spec, arr, ctx);
      }
    } catch (e) {
      if (!this.error) this.fail('derive: ' + e.message);
      return s.buckets;
    }
    const ring = new Ring(LIMITS.bucketsPerSeries);
    for (let i = 0; i < res.length; i++) {
      const src = s.buckets.get(i);
      ring.push({ start: res[i].start, end: res[i].end, value: res[i].value, count: arr[i].count,
        partial: !!(src && src.partial), provisional: !!(src && src.provisional), score: src ? src.score : null, band: null });
    }
    return ring;
  }

  /** Buckets held (for the page's stats). */
  bucketsHeld() {
    let n = 0;
    for (const s of this.series.values()) n += s.buckets.length;
    if (this.derived) n += this.derived.bucketsHeld();
    return n;
  }
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
const STATE_RANK = { firing: 0, pending: 1, acknowledged: 2, resolved: 3 };

/**
 * The alerts the page knows of, one store for every panel: GET /api/v1/alerts (again every 15 s
 * and after a reconnect) plus the live `alert` messages of every subscription. At most 200 held;
 * resolved ones linger 10 s, then go.
 */
export class AlertStore {
  constructor({ api, connection }) {
    this.api = api;
    this.connection = connection;
    this.alerts = new BoundedMap(LIMITS.alerts);
    this.listeners = new Set();
    this.status = 'unknown'; // unknown | ok | disabled | forbidden | error
    this.error = null;
    this.timer = 0;
    this.streams = new Map(); // stream -> {sub, refs}: a subscription that brings a stream's alert messages
    this.off = [];
  }

  start() {
    this.off.push(this.connection.on('alert', m => this.put(m)));
    this.off.push(this.connection.on('state', s => { if (s === 'live') this.load(); }));
    this.load();
    this.timer = setInterval(() => this.load(), 15000);
    return this;
  }

  stop() {
    clearInterval(this.timer);
    for (const f of this.off) f();
    for (const x of this.streams.values()) x.sub.close();
    this.streams.clear();
  }

  /** Makes sure alert messages of `stream` arrive (a panel that names one); returns a release function. */
  watch(stream) {
    if (!stream) return () => {};
    let x = this.streams.get(stream);
    if (!x) {
      x = { refs: 0, sub: this.connection.subscribe({ stream, metrics: null }, { onRollup() {}, onError() {} }) };
      this.streams.set(stream, x);
    }
    x.refs++;
    return () => {
      if (--x.refs === 0) { x.sub.close(); this.streams.delete(stream); }
    };
  }

  onChange(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  changed() { for (const fn of this.listeners) { try { fn(this); } catch (e) { console.error(e); } } }

  put(a) {
    if (!a || !a.id) return;
    const cur = this.alerts.get(a.id);
    if (cur && Number.isFinite(cur.at) && Number.isFinite(a.at) && a.at < cur.at) return;
    const copy = Object.assign({}, a, { seenAt: Date.now() });
    if (a.state === 'resolved' && !cur) return;
    this.alerts.set(a.id, copy);
    this.changed();
  }

  async load() {
    try {
      const j = await this.api.get('/api/v1/alerts');
      const ids = new Set();
      for (const a of (j && j.alerts) || []) {
        if (!a || !a.id || a.state === 'resolved') continue;
        ids.add(a.id);
        if (this.alerts.size < LIMITS.alerts || this.alerts.has(a.id)) this.put(a);
      }
      for (const [id, a] of this.alerts) if (!ids.has(id) && a.state !== 'resolved') { a.state = 'resolved'; a.seenAt = Date.now(); }
      this.status = 'ok';
      this.error = null;
    } catch (e) {
      this.status = e.status === 404 || e.status === 503 ? 'disabled' : e.status === 403 ? 'forbidden' : 'error';
      this.error = e.message;
    }
    this.changed();
  }

  /** The alerts of `stream` (a name, a list of names, or null for all) in `states`, firing and severe first. */
  list(stream, states) {
    const now = Date.now();
    for (const [id, a] of this.alerts) if (a.state === 'resolved' && now - a.seenAt > 10000) this.alerts.delete(id);
    const out = [];
    for (const a of this.alerts.values()) {
      if (stream && (Array.isArray(stream) ? !stream.includes(a.stream) : a.stream !== stream)) continue;
      if (states && !states.includes(a.state) && a.state !== 'resolved') continue;
      out.push(a);
    }
    out.sort((x, y) => (STATE_RANK[x.state] ?? 9) - (STATE_RANK[y.state] ?? 9)
      || (SEVERITY_RANK[x.severity] ?? 9) - (SEVERITY_RANK[y.severity] ?? 9) || (y.at || 0) - (x.at || 0));
    return out;
  }

  ack(id, comment) { return this.api.post('/api/v1/alerts/' + encodeURIComponent(id) + '/ack', comment ? { comment } : {}).then(a => { if (a && a.id) this.put(a); return a; }); }

  unack(id) { return this.api.post('/api/v1/alerts/' + encodeURIComponent(id) + '/unack', {}).then(a => { if (a && a.id) this.put(a); return a; }); }

  /** A silence of the alert's rule and series for `duration` (e.g. "1h"). */
  silence(a, duration, comment) {
    const matchers = [{ name: 'rule', value: String(a.rule), isRegex: false, isEqual: true }];
    for (const [k, v] of Object.entries(a.series || {})) matchers.push({ name: k, value: String(v), isRegex: false, isEqual: true });
    return this.api.post('/api/v1/silences', { matchers, duration, comment: comment || 'silenced from the wallboard' });
  }
}

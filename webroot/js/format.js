// Number, time and label formatting shared by the panels, plus small DOM helpers (text only:
// nothing here ever parses HTML).

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) e.append(kid);
  return e;
}

export function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

/**
 * A figure for people: grouped digits, `decimals` (default: 0 for big numbers, up to 2 otherwise), a
 * unit. The unit "percent" shows a fraction (a ratio's 0.052) as a percentage (5.2%).
 */
export function fmt(v, opts = {}) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (opts.unit === 'percent') {
    v *= 100;
    opts = Object.assign({}, opts, { unit: '%' });
  }
  let d = opts.decimals;
  if (d === undefined || d === null) {
    const a = Math.abs(v);
    d = a >= 1000 || Number.isInteger(v) ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  }
  let s;
  if (opts.compact && Math.abs(v) >= 1e6) {
    s = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(v);
  } else {
    s = v.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: Math.max(0, Math.min(10, d)) });
  }
  if (opts.unit === '%') return s + '%';
  return opts.unit ? s + ' ' + opts.unit : s;
}

export function pad2(n) { return String(n).padStart(2, '0'); }

export function hms(ms) {
  const d = new Date(ms);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

/** "4 s", "3 min 20 s", "2 h 5 min", "3 d" */
export function age(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d';
}

/** A unit read from the metric's name when the panel gives none (latency_ms, cpu_pct, temp_c). */
export function unitOf(panel) {
  const o = panel.options || {};
  if (o.unit !== undefined) return o.unit;
  const q = panel.query || {};
  if (panel.derive && panel.derive.op === 'ratio') return '';
  if (panel.derive && panel.derive.op === 'rate') return '/' + (panel.derive.per || '1s').replace(/^1/, '');
  if (!q.metric || q.figure === 'count' || !q.figure) return '';
  const m = /_(ms|millis)$|^ms$/i.test(q.metric) ? 'ms' : /_(pct|percent)$/i.test(q.metric) ? '%' : /_(s|sec|seconds)$/i.test(q.metric) ? 's' : '';
  return m;
}

/** What the panel shows, in words: "p99 of amount", "count", "declined / all". */
export function figureLabel(panel) {
  const q = panel.query || {};
  const f = q.figure || 'count';
  let s = q.metric ? f + ' of ' + q.metric : (f === 'count' ? 'events' : f);
  const d = panel.derive;
  if (d && d.op) s = d.op === 'rate' ? s + ' per ' + (d.per || '1s') : d.op === 'movingAverage' ? s + ', moving average of ' + d.n
    : d.op === 'cumulative' ? s + ' since ' + d.since : d.op === 'ratio' ? s + ' (ratio)' : d.op === 'lastSeen' ? 'last seen' : s;
  return s;
}

/** Okabe-Ito, lightened for a dark background: distinguishable by most colour-blind viewers. */
export const PALETTE = ['#56B4E9', '#E69F00', '#2DBE94', '#F0E442', '#CC79A7', '#F07F45', '#8DA9FF', '#C9CED6',
  '#9AD0F5', '#F5C86B'];

export const LEVELS = {
  ok: { word: 'OK', icon: '✓', cls: 'lvl-ok' },
  warning: { word: 'Warning', icon: '!', cls: 'lvl-warning' },
  critical: { word: 'Critical', icon: '✕', cls: 'lvl-critical' },
  unknown: { word: 'No data', icon: '?', cls: 'lvl-unknown' },
};

/** The level of `v` against thresholds [{value, level}] (the highest threshold value <= v wins); 'ok' below all. */
export function levelOf(v, thresholds, fallback = 'ok') {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'unknown';
  if (!Array.isArray(thresholds) || !thresholds.length) return fallback;
  let lvl = fallback;
  let best = -Infinity;
  for (const t of thresholds) {
    const tv = Number(t && t.value);
    if (Number.isFinite(tv) && v >= tv && tv >= best && LEVELS[t.level]) { best = tv; lvl = t.level; }
  }
  return lvl;
}

/** A panel body's message line (waiting, error, warnings). */
export function note(body) {
  const el = h('div', { class: 'panel-note', role: 'status' });
  body.prepend(el); // first: an error must stay in sight whatever the panel draws below
  return {
    el,
    set(text, level) {
      el.textContent = text || '';
      el.hidden = !text;
      el.className = 'panel-note' + (level ? ' note-' + level : '');
    },
  };
}

/** "waiting for data" / the error / nothing, from a view. */
/** A panel's state line (error, loading, waiting) and its stale look, from the view: every panel's first step. */
export function showViewState(el, msg, view) {
  const [text, lvl] = viewNote(view);
  msg.set(text, lvl);
  el.classList.toggle('is-stale', !!view.stale);
}

export function viewNote(view) {
  if (view.error) return [view.error, 'error'];
  if (!view.series.length) return [view.status === 'loading' ? 'Loading…' : 'Waiting for data…', ''];
  return ['', ''];
}

/**
 * Keeps `container`'s children one per item, by key: an item seen before keeps its element (only
 * update() runs), a new one gets create(), gone ones are removed, and the order follows `items`.
 * Panels redraw four times a second; reusing elements keeps the DOM and the garbage flat.
 */
export function keyed(container, items, keyOf, create, update) {
  const old = new Map();
  for (const el of [...container.children]) old.set(el.dataset.key, el);
  let i = 0;
  for (const item of items) {
    const k = String(keyOf(item));
    let el = old.get(k);
    if (el) old.delete(k); else { el = create(item); el.dataset.key = k; }
    update(el, item);
    if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null);
    i++;
  }
  for (const el of old.values()) el.remove();
}

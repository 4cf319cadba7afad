// The wallboard page: boot and routing (contract section 7).
//   /                      home: the dashboards (ready ones first) and "explore one stream"
//   /?stream=&groupBy=&metric=&stat=   explore, as the old page did (old URLs keep working)
//   /?dashboard=<id>       one dashboard; &kiosk hides the chrome (kiosk.js, H4)
//   /?playlist=<id>        rotation (kiosk.js, H4)
//   &access_token=<jwt>    a display token: sent as Bearer and on the socket, removed from the
//                          address bar at once and kept in this tab's sessionStorage, so that a
//                          reload (a TV's browser recovering) keeps it
// One Connection (one WebSocket) carries every panel's subscription; one DataSource per panel
// turns history and live rollups into views; each panel kind is a module of ./panels/, loaded
// when a dashboard uses it. Testing hooks: window.__pulse = {app, stats()}.

import { createApi, REVOKED_MESSAGE } from './api.js';
import { Connection } from './connection.js';
import { DataSource, AlertStore, FIGURES, RANGES, WINDOWS } from './data.js';
import { layout } from './grid.js';
import { h, clear, hms, fmt } from './format.js';

const KINDS = ['timeseries', 'stat', 'gauge', 'bar', 'table', 'statusgrid', 'alerts', 'text'];
const NO_QUERY = new Set(['alerts', 'text']);
const $ = id => document.getElementById(id);

const params = new URLSearchParams(location.search);
const TOKEN_KEY = 'pulse.access_token';
const token = params.get('access_token') || storedToken();
if (params.has('access_token')) {
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* storage off: the token lives in memory only */ }
  params.delete('access_token');
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
}
const kiosk = params.has('kiosk') && params.get('kiosk') !== '0' && params.get('kiosk') !== 'false';
if (kiosk) {
  document.body.classList.add('kiosk');
  // no chrome on a TV, but the link state and the freshness badge stay in a corner
  document.getElementById('corner').append(document.getElementById('conn'), document.getElementById('fresh'));
}

const api = createApi({ token });
const connection = new Connection({ token });
const alerts = new AlertStore({ api, connection });
const panelModules = new Map();
const errors = [];            // the last messages shown (bounded)

let board = null;             // {id, doc, grid, panels: [{cell, source, view, inst}], destroyed}
let firstDataAt = null;       // performance.now() when the first figures were painted
let revoked = false;
let catalog = null;           // GET /api/v1/streams, once: each stream's window

/** A stream's catalogue entry ({stream, dims, values, window}) or null. */
function streamInfo(name) {
  if (!catalog) catalog = api.get('/api/v1/streams').then(j => (j && j.streams) || []).catch(() => []);
  return catalog.then(list => list.find(s => (s.stream || s.name) === name) || null);
}

function loadKind(kind) {
  if (!KINDS.includes(kind)) return Promise.reject(new Error('unknown panel kind "' + kind + '"'));
  if (!panelModules.has(kind)) {
    const p = import('./panels/' + kind + '.js').then(m => m.default);
    p.catch(() => panelModules.delete(kind));
    panelModules.set(kind, p);
  }
  return panelModules.get(kind);
}

function hasScope(name) {
  const c = app.caller;
  if (!c || !Array.isArray(c.scopes)) return false;
  return c.scopes.some(s => s === 'admin' || s === name || String(s).startsWith(name + ':'));
}

// ---------------------------------------------------------------- chrome: banners, status, clock

function banner(text, id = 'banner') {
  const el = $(id);
  el.textContent = text || '';
  el.hidden = !text;
  if (text) { errors.push(text); if (errors.length > 20) errors.shift(); }
}

function renderConn() {
  const s = connection.state;
  document.body.dataset.state = s;
  const label = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting', closed: 'Stopped' }[s] || s;
  $('conn-label').textContent = label;
  let detail = '';
  if (s === 'reconnecting') {
    const secs = Math.max(0, Math.ceil((connection.reconnectAt - performance.now()) / 1000));
    detail = (connection.closingReason ? connection.closingReason + ' · ' : '') + 'retry in ' + secs + ' s';
  }
  $('conn-detail').textContent = detail;
  $('conn').dataset.state = s;
}

function renderStale() {
  const since = connection.staleSince;
  if (since) {
    const why = connection.state === 'live' ? 'no new data' : 'connection lost';
    $('stale').textContent = 'Stale since ' + hms(since) + ' (' + why + '): the figures below are not current';
  }
  $('stale').hidden = !since;
  document.body.classList.toggle('stale', !!since);
  if (board) for (const p of board.panels) if (p.source) p.source.setStale(!!since);
}

function renderFresh() {
  const f = connection.freshnessMs;
  const el = $('fresh');
  el.textContent = f === null ? '—' : (f < 10000 ? (f / 1000).toFixed(1) + ' s' : Math.round(f / 1000) + ' s');
  el.dataset.level = f === null ? 'unknown' : f < 2000 ? 'ok' : f < 10000 ? 'warning' : 'critical';
  el.setAttribute('aria-label', 'Event-to-screen delay ' + el.textContent);
}

function tickClock() {
  $('clock').textContent = hms(Date.now());
  renderConn();
  renderFresh();
}

function showRevoked(err) {
  if (revoked) return;
  revoked = true;
  document.body.classList.add('revoked');
  closeBoard();
  connection.stop();
  alerts.stop();
  clear($('main'));
  $('main').append(h('div', { class: 'revoked-message', role: 'alert' },
    h('p', { text: REVOKED_MESSAGE + '.' }),
    h('p', { class: 'muted', text: err && err.message ? 'The server said: ' + err.message : '' })));
}

// ---------------------------------------------------------------- painting

const pending = new Map(); // panel entry -> newest view
let frame = 0;

function schedulePaint(entry, view) {
  pending.set(entry, view);
  if (!frame) frame = requestAnimationFrame(paint);
}

function paint() {
  frame = 0;
  let painted = false;
  for (const [entry, view] of pending) {
    entry.view = view;
    if (!entry.inst || entry.destroyed) continue;
    try {
      entry.inst.update(view);
      entry.updates++;
      if (view.series.some(s => s.last !== null)) painted = true;
      entry.cell.setBadge(view.error ? 'error' : '', view.error ? 'error' : '');
    } catch (e) {
      console.error(e);
      entry.cell.setBadge('error', 'error');
    }
  }
  pending.clear();
  if (painted) {
    // the frame with these figures is on screen at the next frame's start
    requestAnimationFrame(() => {
      connection.markPainted();
      if (firstDataAt === null) firstDataAt = performance.now();
    });
  }
}

// ---------------------------------------------------------------- dashboards

function closeBoard() {
  if (!board) return;
  board.destroyed = true;
  for (const p of board.panels) {
    p.destroyed = true;
    if (p.source) p.source.destroy();
    if (p.inst) { try { p.inst.destroy(); } catch (e) { console.error(e); } }
    if (p.release) p.release();
  }
  board.grid.destroy();
  clear($('board'));
  pending.clear();
  board = null;
}

/** Renders a dashboard document (from the API, the editor, or the explore form). */
async function show(doc, id = null, meta = {}) {
  closeBoard();
  $('home').hidden = !meta.home;
  const el = $('board');
  el.hidden = false;
  const b = { id, doc, meta, panels: [], destroyed: false, grid: null };
  board = b;
  if (id && !meta.home && !kiosk) import('./watch.js').then(m => m.watchDashboard(app, id, meta.version, null, doc)); // H4: saved changes from elsewhere
  if (!meta.home) {
    $('title').textContent = doc.title || id || 'Dashboard';
    $('subtitle').textContent = doc.description || '';
    document.title = (doc.title || 'Dashboard') + ' · Pulse';
  }
  renderActions();
  const panels = Array.isArray(doc.panels) ? doc.panels : [];
  b.grid = layout(el, panels);
  // a dashboard fills the screen's height (a TV shows it whole); explore keeps fixed rows
  const rows = panels.reduce((m, p) => Math.max(m, ((p.grid && p.grid.y) || 0) + ((p.grid && p.grid.h) || 4)), 1);
  el.style.setProperty('--rows', String(rows));
  el.classList.toggle('fill', !meta.home);
  const tzOffsetMin = -new Date().getTimezoneOffset();
  const streams = namedStreams(panels);
  for (const cell of b.grid.cells) {
    const panel = cell.panel;
    const entry = { cell, panel, source: null, inst: null, view: null, updates: 0, destroyed: false, release: null, error: null };
    b.panels.push(entry);
    const onError = msg => {
      entry.error = msg;
      cell.setBadge('error', 'error');
      cell.badge.title = msg;
      cell.el.dataset.error = msg;
    };
    if (!NO_QUERY.has(panel.kind) && panel.query && panel.query.stream) {
      entry.source = new DataSource(panel, { connection, api, time: doc.time, tzOffsetMin, streamInfo,
        onView: v => { if (!entry.destroyed) schedulePaint(entry, v); }, onError });
      if (connection.staleSince) entry.source.stale = true;
    }
    loadKind(panel.kind).then(mod => {
      if (entry.destroyed) return;
      // caller and canAck are read when used: whoami may answer after the panels are drawn
      const ctx = { data: entry.source, theme: 'dark', kiosk, api, alerts, connection, app, onError, streams,
        get caller() { return app.caller; }, get canAck() { return hasScope('alerts'); } };
      entry.inst = mod.create(cell.body, panel, ctx);
      cell.onResize((w, hh) => { if (entry.inst && entry.inst.resize) entry.inst.resize(w, hh); });
      if (entry.view) schedulePaint(entry, entry.view);
      if (panel.kind === 'alerts') {
        const watched = panel.query && panel.query.stream ? [panel.query.stream] : streams;
        const releases = watched.map(s => alerts.watch(s));
        entry.release = () => releases.forEach(r => r && r());
      }
    }).catch(e => {
      onError('cannot show this panel: ' + e.message);
      cell.body.append(h('div', { class: 'panel-note note-error', text: 'Cannot show this panel: ' + e.message }));
    });
    if (entry.source) entry.source.start().catch(e => onError(e.message));
  }
  return b;
}

async function preloadDashboard(id) {
  return api.get('/api/v1/dashboards/' + encodeURIComponent(id));
}

async function openDashboard(id, doc) {
  try {
    const d = doc || await preloadDashboard(id);
    const u = new URLSearchParams(location.search);
    if (!u.has('playlist')) {
      u.delete('stream'); u.set('dashboard', id);
      history.replaceState(null, '', location.pathname + '?' + u.toString());
    }
    return await show(d, id, { version: d.version });
  } catch (e) {
    if (e.status === 401) return null;
    banner('Dashboard “' + id + '”: ' + e.message);
    $('title').textContent = 'Dashboard not available';
    return null;
  }
}

function renderActions() {
  const a = $('actions');
  clear(a);
  if (kiosk) return;
  if (board && !board.meta.home) {
    // the dashboard's time range and resolution for this screen (panels with their own keep them)
    const t = board.doc.time || {};
    const range = h('select', { id: 'pick-dash-range', 'aria-label': 'Time range',
      onchange: ev => retime({ range: ev.target.value }) }, RANGES.map(r => option(r, 'last ' + r, (t.range || '15m') === r)));
    const win = h('select', { id: 'pick-dash-window', 'aria-label': 'Resolution',
      onchange: ev => retime({ window: ev.target.value }) }, WINDOWS.map(w => option(w, 'per ' + w, (t.window || '1s') === w)));
    a.append(range, win);
  }
  if (board && board.id) {
    a.append(h('a', { class: 'btn', href: '/', text: 'All dashboards' }));
    if (hasScope('admin')) {
      a.append(h('button', { class: 'btn', type: 'button', id: 'edit-btn', text: 'Edit', onclick: () => edit() }));
    }
  } else if (hasScope('admin')) {
    a.append(h('button', { class: 'btn', type: 'button', id: 'new-btn', text: 'New dashboard',
      onclick: () => edit({ title: 'New dashboard', time: { range: '15m', window: '1s' }, panels: [] }) }));
  }
}

/** The same dashboard at another range or resolution (not saved: the stored document is unchanged). */
function retime(change) {
  if (!board) return;
  const doc = Object.assign({}, board.doc, { time: Object.assign({}, board.doc.time || {}, change) });
  show(doc, board.id, board.meta);
}

function edit(doc) {
  const target = doc || (board && board.doc);
  closeBoard(); // H4: the editor replaces the live panels (their sources and subscriptions stop)
  import('./editor.js').then(m => m.mount(app, $('board'), target, board && board.id))
    .catch(e => banner('The editor is not available on this page (' + e.message + ').'));
}

// ---------------------------------------------------------------- home and explore

async function showHome() {
  closeBoard();
  $('home').hidden = false;
  $('board').hidden = false;
  $('title').textContent = 'Pulse';
  $('subtitle').textContent = 'Dashboards and live streams';
  renderActions();
  const list = $('dash-list');
  clear(list);
  try {
    const j = await api.get('/api/v1/dashboards');
    const all = (j && j.dashboards) || [];
    const ready = d => !!d.ready || String(d.id).startsWith('ready-');
    all.sort((x, y) => (ready(y) - ready(x)) || String(x.title || x.id).localeCompare(String(y.title || y.id)));
    for (const d of all) {
      list.append(h('li', { class: ready(d) ? 'ready' : '' },
        h('a', { href: '?dashboard=' + encodeURIComponent(d.id), dataset: { id: d.id } },
          h('b', { text: d.title || d.name || d.id }),
          h('span', { class: 'muted', text: ' ' + ((d.panels && d.panels.length) || 0) + ' panels' + (ready(d) ? ' · ready-made' : '') }))));
    }
    $('dash-note').hidden = all.length > 0;
    $('dash-note').textContent = 'No dashboards yet.';
  } catch (e) {
    if (e.status === 401) return;
    $('dash-note').hidden = false;
    $('dash-note').textContent = 'Dashboards are not available: ' + e.message;
  }
  await setupExplore();
}

let streams = [];

function option(value, label, selected) {
  const o = h('option', { value, text: label });
  if (selected) o.selected = true;
  return o;
}

async function setupExplore() {
  catalog = null;
  await streamInfo('');
  streams = await catalog;
  const sel = exploreSelection();
  const sEl = $('pick-stream');
  clear(sEl);
  sEl.append(option('', streams.length ? '— choose a stream —' : 'no streams yet', !sel.stream));
  const names = streams.map(s => s.name || s.stream).filter(Boolean);
  if (sel.stream && !names.includes(sel.stream)) names.unshift(sel.stream);
  for (const n of names) sEl.append(option(n, n, n === sel.stream));
  fillExploreDims(sel);
  const form = $('explore-form');
  form.onchange = ev => {
    if (ev.target.id === 'pick-stream') {
      const s = { stream: sEl.value, groupBy: [], metric: '', stat: 'count', range: $('pick-range').value };
      fillExploreDims(s);
    }
    const s = readExplore();
    const u = new URLSearchParams();
    if (s.stream) u.set('stream', s.stream);
    if (s.groupBy.length) u.set('groupBy', s.groupBy.join(','));
    if (s.metric) u.set('metric', s.metric);
    if (s.stat !== 'count') u.set('stat', s.stat);
    if (s.range !== '15m') u.set('range', s.range);
    history.replaceState(null, '', location.pathname + (u.toString() ? '?' + u : ''));
    explore(s);
  };
  form.onsubmit = ev => ev.preventDefault();
  if (sel.stream) explore(sel);
}

function exploreSelection() {
  const u = new URLSearchParams(location.search);
  return {
    stream: u.get('stream') || '',
    groupBy: (u.get('groupBy') || '').split(',').map(s => s.trim()).filter(Boolean),
    metric: u.get('metric') || '',
    stat: FIGURES.includes(u.get('stat')) ? u.get('stat') : 'count',
    range: RANGES.includes(u.get('range')) ? u.get('range') : '15m',
    filter: u.getAll('filter'),
  };
}

function fillExploreDims(sel) {
  const info = streams.find(s => (s.name || s.stream) === sel.stream) || {};
  const dims = Array.isArray(info.dims) ? info.dims.map(d => (typeof d === 'string' ? d : d.name)) : Object.keys(info.dims || {});
  const values = Array.isArray(info.values) ? info.values.map(v => (typeof v === 'string' ? v : v.name))
    : Array.isArray(info.valueNames) ? info.valueNames : Object.keys(info.values || {});
  const g = $('pick-groupby'); clear(g);
  g.append(option('', '(none: stream total)', !sel.groupBy.length));
  for (const d of new Set([...dims, ...sel.groupBy])) g.append(option(d, d, sel.groupBy[0] === d));
  const m = $('pick-metric'); clear(m);
  m.append(option('', '(events)', !sel.metric));
  for (const v of new Set([...values, ...(sel.metric ? [sel.metric] : [])])) m.append(option(v, v, sel.metric === v));
  const f = $('pick-figure'); clear(f);
  for (const x of FIGURES) f.append(option(x, x, sel.stat === x));
  const r = $('pick-range'); clear(r);
  for (const x of RANGES) r.append(option(x, 'last ' + x, sel.range === x));
}

function readExplore() {
  return {
    stream: $('pick-stream').value,
    groupBy: $('pick-groupby').value ? [$('pick-groupby').value] : [],
    metric: $('pick-metric').value,
    stat: $('pick-figure').value || 'count',
    range: $('pick-range').value || '15m',
    filter: [],
  };
}

/** The explore view: an in-memory dashboard of one stream, as the old page showed it. */
export function exploreDoc(s) {
  const figure = s.metric ? s.stat : (s.stat === 'count' ? 'count' : 'count');
  const filter = {};
  for (const f of s.filter || []) {
    const i = f.indexOf(':');
    if (i > 0) (filter[f.slice(0, i)] = filter[f.slice(0, i)] || []).push(f.slice(i + 1));
  }
  const q = { stream: s.stream, metric: s.metric || undefined, figure, filter, range: s.range };
  const label = (s.metric ? figure + ' of ' + s.metric : 'events');
  return {
    title: s.stream,
    time: { range: s.range || '15m', window: '1s' },
    panels: [
      { id: 'chart', kind: 'timeseries', title: label + (s.groupBy.length ? ' by ' + s.groupBy.join(', ') : ''),
        grid: { x: 0, y: 0, w: 9, h: 9 }, query: Object.assign({}, q, { groupBy: s.groupBy, top: 10 }) },
      { id: 'total', kind: 'stat', title: 'All series: ' + label, grid: { x: 9, y: 0, w: 3, h: 4 }, query: q },
      { id: 'series', kind: 'table', title: 'Series', grid: { x: 9, y: 4, w: 3, h: 5 },
        query: Object.assign({}, q, { groupBy: s.groupBy, top: 50 }), options: { columns: ['series', 'last', 'max', 'score'] } },
      { id: 'alerts', kind: 'alerts', title: 'Alerts', grid: { x: 0, y: 9, w: 12, h: 4 }, query: { stream: s.stream } },
    ],
  };
}

function explore(s) {
  if (!s.stream) { closeBoard(); $('home').hidden = false; return; }
  const doc = exploreDoc(s);
  show(doc, null, { home: true, explore: true });
  $('subtitle').textContent = 'Exploring ' + s.stream;
}

// ---------------------------------------------------------------- app, hooks, boot

export const app = {
  api, connection, alerts, caller: null, kiosk, params,
  openDashboard, preloadDashboard, show, showHome, edit,
  /** {id, doc, el, version} of what is on screen, or null. */
  current() { return board ? { id: board.id, doc: board.doc, el: $('board'), version: board.meta.version } : null; },
  onDashboardSaved(d) { if (d && d.id) openDashboard(d.id, d); },
  onDashboardDeleted() { location.href = '/'; },
  banner,
};

function stats() {
  let series = 0; let buckets = 0;
  const panels = [];
  if (board) {
    for (const p of board.panels) {
      if (p.source) { series += p.source.series.size; buckets += p.source.bucketsHeld(); }
      const v = p.view;
      panels.push({ id: p.panel.id, kind: p.panel.kind, updates: p.updates, error: p.error || (v && v.error) || null,
        status: v ? v.status : null, series: v ? v.series.length : 0,
        last: v && v.series[0] ? v.series[0].last : null, historyCalls: p.source ? p.source.historyCalls : 0,
        rollups: p.source ? p.source.rollups : 0, subscription: p.source && p.source.sub ? p.source.sub.id : null });
    }
  }
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    panels: board ? board.panels.length : 0,
    seriesBuffered: series,
    bucketsBuffered: buckets,
    alertsHeld: alerts.alerts.size,
    domNodes: document.getElementsByTagName('*').length,
    lastDataAt: connection.lastDataAt || null,
    freshnessMs: connection.freshnessMs,
    firstDataMs: firstDataAt === null ? null : Math.round(firstDataAt - (nav ? nav.startTime : 0)),
    state: connection.state,
    reconnects: connection.reconnects,
    rollups: connection.rollups,
    staleSince: connection.staleSince || null,
    subscriptions: [...connection.subs.values()].map(s => ({ id: s.id, stream: s.spec.stream, status: s.status, error: s.error })),
    errors: errors.slice(),
    panelStats: panels,
    dashboard: board ? board.id : null,
  };
}

/** The buckets a panel shows for one series (by key; the first series by default): [[start, value, open, count]]. */
function buckets(panelId, key) {
  const p = board && board.panels.find(x => x.panel.id === panelId);
  const v = p && p.view;
  if (!v) return [];
  const s = key === undefined ? v.series[0] : v.series.find(x => x.key === key);
  return s ? s.buckets.toArray().map(b => [b.start, b.value ?? null, !!(b.partial || b.provisional), b.count ?? null]) : [];
}

window.__pulse = { app, stats, buckets };

async function boot() {
  api.onRevoked(err => { if (token) showRevoked(err); else banner('Not signed in or the token was refused: ' + err.message); });
  connection.on('state', st => {
    renderConn();
    // the server closed the socket for the token ("token revoked", "token expired"): ask the API,
    // whose 401 brings the plain message instead of reconnecting for ever
    if (st === 'reconnecting' && /token/i.test(connection.closingReason || '')) api.get('/api/v1/whoami').catch(() => {});
  });
  connection.on('stale', () => renderStale());
  tickClock();
  setInterval(() => { tickClock(); if (connection.staleSince) renderStale(); }, 1000);
  connection.start();
  alerts.start();
  streamInfo(''); // the catalogue (stream windows) is asked at once, not on the first panel's need
  // who the caller is (scopes: may it acknowledge, edit?) is asked beside the dashboard, not before it
  const who = api.get('/api/v1/whoami').then(c => { app.caller = c; }, () => { app.caller = null; })
    .then(() => { if (!revoked) renderActions(); });
  const dash = params.get('dashboard');
  if (kiosk || params.has('playlist')) {
    import('./kiosk.js').then(m => m.start(app)).catch(e => {
      console.info('kiosk mode module not available:', e.message);
      if (params.has('playlist')) banner('Playlists need the kiosk module, which this page could not load.');
    });
  }
  // the panel modules (fetched already: index.html preloads them) are evaluated, uPlot with them,
  // while the dashboard's document is on its way rather than after it came
  if (dash) for (const k of KINDS) loadKind(k).catch(() => {});
  if (dash) await openDashboard(dash);
  else if (!params.has('playlist')) await showHome();
  await who;
}

boot();

/**
 * The streams a dashboard's panels name: each query's stream and a ratio's denominator stream (the
 * server's DashboardDocs.streams, which is also what a display token of the dashboard may read).
 */
function namedStreams(panels) {
  const out = new Set();
  for (const p of panels) {
    if (p.query && typeof p.query.stream === 'string') out.add(p.query.stream);
    const den = p.derive && p.derive.denominator;
    if (den && typeof den.stream === 'string') out.add(den.stream);
  }
  return [...out];
}

/** The display token this tab was opened with, after a reload took it out of the address. */
function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
}

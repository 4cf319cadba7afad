// The dashboard editor (issue 14, contract section 7): create a dashboard, add panels from the
// stream catalogue, move and resize them on the 12-column grid with the mouse or the keyboard,
// configure them, save with optimistic concurrency (If-Match; a 409 shows both versions and lets
// the user reload or overwrite), duplicate, delete, export and import as JSON.
//
//   import('./editor.js').then(m => m.mount(app, dashboardEl, doc))
//
// `doc` is the stored dashboard as GET /api/v1/dashboards/{id} answers it (with id and version),
// or null/undefined for a new one. The editor works on a copy; nothing is sent before Save.

const COLS = 12;
const KINDS = ['timeseries', 'stat', 'gauge', 'bar', 'table', 'statusgrid', 'alerts', 'text'];
const FIGURES = ['count', 'sum', 'min', 'max', 'mean', 'p50', 'p95', 'p99'];
const WINDOWS = ['', '1s', '5s', '10s', '30s', '1m', '5m', '15m', '1h'];
const RANGES = ['', '5m', '15m', '1h', '6h', '24h', '7d'];
const DERIVES = ['', 'ratio', 'rate', 'cumulative', 'movingAverage', 'lastSeen'];
const SERVER_FIELDS = ['id', 'version', 'updatedBy', 'updatedAt', 'deleted'];
const NO_QUERY = new Set(['alerts', 'text']);

/**
 * One REST call as {status, ok, json, text}: through the page's api module (js/api.js: its token,
 * its 401 handling) when there is one, else plain fetch. Never throws for an HTTP status.
 */
export async function http(app, method, path, body, headers = {}) {
  const api = app && app.api;
  if (api && typeof api.request === 'function') {
    try {
      const json = await api.request(method, path, {body, headers});
      return {status: 200, ok: true, json, text: ''};
    } catch (e) {
      return {status: e.status || 0, ok: false, json: e.body || {error: e.message}, text: e.message};
    }
  }
  const h = Object.assign({Accept: 'application/json'}, headers);
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {method, headers: h, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    return {status: 0, ok: false, json: {error: 'the server could not be reached'}, text: ''};
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  return {status: res.status, ok: res.ok, json, text};
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) if (k != null) e.append(k);
  return e;
}

/** The document as stored, without the server's fields. */
export function bare(doc) {
  const d = JSON.parse(JSON.stringify(doc || {}));
  for (const f of SERVER_FIELDS) delete d[f];
  return d;
}

// ---- the grid model: pure functions, kept separate so they can be reasoned about ----

export function clampGrid(g) {
  const w = Math.max(1, Math.min(COLS, Math.round(g.w || 1)));
  const h = Math.max(1, Math.min(24, Math.round(g.h || 1)));
  const x = Math.max(0, Math.min(COLS - w, Math.round(g.x || 0)));
  const y = Math.max(0, Math.round(g.y || 0));
  return {x, y, w, h};
}

/** The first free place for a w x h panel, left to right then top to bottom. */
export function freeSpot(panels, w, h) {
  const taken = (x, y) => panels.some(p => p.grid && x < p.grid.x + p.grid.w && x + w > p.grid.x
      && y < p.grid.y + p.grid.h && y + h > p.grid.y);
  for (let y = 0; y < 500; y++) {
    for (let x = 0; x + w <= COLS; x++) if (!taken(x, y)) return {x, y, w, h};
  }
  return {x: 0, y: 0, w, h};
}

export function nextPanelId(panels) {
  const used = new Set(panels.map(p => p.id));
  for (let i = panels.length + 1; ; i++) if (!used.has('p' + i)) return 'p' + i;
}

function defaultPanel(kind, stream, id) {
  const p = {id, kind, title: kind === 'text' ? 'Notes' : (stream ? stream.stream : kind),
    grid: {x: 0, y: 0, w: kind === 'stat' || kind === 'gauge' ? 3 : 6, h: 4}};
  if (kind === 'text') p.options = {text: ''};
  else if (kind === 'alerts') { if (stream) p.query = {stream: stream.stream}; }
  else p.query = {stream: stream ? stream.stream : '', figure: 'count'};
  return p;
}

// ---- mount ----

export function mount(app, dashboardEl, doc) {
  stylesheet('/css/editor.css');
  const open = window.__pulseEditor;
  if (open && open.host === dashboardEl && dashboardEl.classList.contains('pe-editing')) {
    // already editing here: never replace an edit in progress
    const t = document.getElementById('pe-title');
    if (t) t.focus();
    return open;
  }
  const ed = new Editor(app, dashboardEl, doc);
  ed.render();
  window.__pulseEditor = ed;
  return ed;
}

class Editor {
  constructor(app, host, doc) {
    this.app = app;
    this.host = host;
    this.base = doc && doc.id ? JSON.parse(JSON.stringify(doc)) : null; // the version the edit started from
    this.doc = doc ? bare(doc) : {title: 'New dashboard', time: {range: '15m', window: '1s'}, panels: []};
    if (!Array.isArray(this.doc.panels)) this.doc.panels = [];
    this.doc.panels.forEach(p => { p.grid = clampGrid(p.grid || {}); });
    this.dirty = !this.base;
    this.selected = this.doc.panels.length ? this.doc.panels[0].id : null;
    this.streams = [];
    this.lastExport = null;
    this.cleanup = [];
    this.loadCatalogue();
  }

  get id() { return this.base ? this.base.id : null; }
  get version() { return this.base ? this.base.version : null; }

  async loadCatalogue() {
    try {
      const r = await http(this.app, 'GET', '/api/v1/streams');
      if (r.ok && r.json) {
        this.streams = r.json.streams || [];
        if (this.form) this.renderForm();
        this.renderAddMenu();
      }
    } catch (e) { this.say('Could not load the stream catalogue: ' + e.message, 'error'); }
  }

  stream(name) { return this.streams.find(s => s.stream === name) || null; }

  // ---------- rendering ----------

  render() {
    this.host.replaceChildren();
    this.host.classList.remove('grid', 'fill'); // the page's dashboard grid classes, left on the host
    this.host.classList.add('pe-editing');
    this.status = el('p', {class: 'pe-status', role: 'status', 'aria-live': 'polite'});
    this.alert = el('div', {class: 'pe-alert', role: 'alert', hidden: true});
    this.titleInput = el('input', {id: 'pe-title', type: 'text', maxlength: 120, value: this.doc.title || '',
      'aria-label': 'Dashboard title', oninput: e => { this.doc.title = e.target.value; this.touch(); }});
    this.addSelect = el('select', {id: 'pe-add-stream', 'aria-label': 'Stream for the new panel'});
    this.addKind = el('select', {id: 'pe-add-kind', 'aria-label': 'Kind of the new panel'},
        KINDS.map(k => el('option', {value: k, text: k})));
    this.fileInput = el('input', {id: 'pe-import-file', type: 'file', accept: 'application/json,.json', class: 'pe-visually-hidden',
      'aria-label': 'Import a dashboard from a JSON file', onchange: e => this.importFile(e.target.files[0])});
    const bar = el('div', {class: 'pe-toolbar', role: 'toolbar', 'aria-label': 'Dashboard editor'},
        el('label', {for: 'pe-title', class: 'pe-visually-hidden', text: 'Title'}), this.titleInput,
        el('span', {class: 'pe-group'}, this.addKind, this.addSelect,
            el('button', {id: 'pe-add', type: 'button', text: 'Add panel', onclick: () => this.addPanel()})),
        el('span', {class: 'pe-group'},
            el('button', {id: 'pe-save', type: 'button', class: 'pe-primary', text: 'Save', onclick: () => this.save()}),
            el('button', {id: 'pe-duplicate', type: 'button', text: 'Duplicate', onclick: () => this.duplicate()}),
            el('button', {id: 'pe-export', type: 'button', text: 'Export JSON', onclick: () => this.exportJson()}),
            el('button', {id: 'pe-import', type: 'button', text: 'Import JSON', onclick: () => this.fileInput.click()}),
            this.fileInput,
            el('button', {id: 'pe-delete', type: 'button', class: 'pe-danger', text: 'Delete',
              disabled: !this.id, onclick: () => this.remove()}),
            el('button', {id: 'pe-close', type: 'button', text: 'Close', onclick: () => this.close()})));
    this.gridEl = el('div', {id: 'pe-grid', class: 'pe-grid', role: 'application',
      'aria-label': 'Panel layout: arrow keys move the focused panel, shift and arrow keys resize it, Enter edits it, Delete removes it'});
    this.form = el('form', {id: 'pe-form', class: 'pe-form', 'aria-label': 'Panel settings', onsubmit: e => e.preventDefault()});
    const help = el('p', {id: 'pe-grid-help', class: 'pe-help',
      text: 'Click a panel or tab to it. Arrow keys move it, Shift+arrow keys resize it, Enter edits it, Delete removes it. Drag a panel to move it, drag its corner to resize it.'});
    this.host.append(bar, this.alert, this.status, help,
        el('div', {class: 'pe-body'}, this.gridEl, this.form));
    this.renderAddMenu();
    this.renderGrid();
    this.renderForm();
    this.updateStatus();
    const beforeUnload = e => { if (this.dirty) { e.preventDefault(); e.returnValue = ''; } };
    window.addEventListener('beforeunload', beforeUnload);
    this.cleanup.push(() => window.removeEventListener('beforeunload', beforeUnload));
  }

  renderAddMenu() {
    if (!this.addSelect) return;
    const cur = this.addSelect.value;
    this.addSelect.replaceChildren(el('option', {value: '', text: '(no stream)'}),
        ...this.streams.map(s => el('option', {value: s.stream, text: s.stream})));
    if (cur) this.addSelect.value = cur;
    else if (this.streams.length) this.addSelect.value = this.streams[0].stream;
  }

  renderGrid(focusId) {
    const rows = Math.max(8, ...this.doc.panels.map(p => p.grid.y + p.grid.h + 2));
    this.gridEl.style.setProperty('--pe-rows', rows);
    this.gridEl.replaceChildren(...this.doc.panels.map(p => this.panelBox(p)));
    if (!this.doc.panels.length) {
      this.gridEl.append(el('p', {class: 'pe-empty', text: 'No panels yet: choose a kind and a stream above and press Add panel.'}));
    }
    const f = focusId && this.gridEl.querySelector(`[data-panel="${CSS.escape(focusId)}"]`);
    if (f) f.focus();
  }

  panelBox(p) {
    const g = p.grid;
    const q = p.query || {};
    const summary = NO_QUERY.has(p.kind) ? (p.kind === 'text' ? 'text' : 'alerts' + (q.stream ? ' of ' + q.stream : ''))
        : [q.stream, q.metric, q.figure || 'count', q.groupBy && q.groupBy.length ? 'by ' + q.groupBy.join(',') : '']
            .filter(Boolean).join(' · ');
    const box = el('div', {class: 'pe-panel' + (p.id === this.selected ? ' pe-selected' : ''), tabindex: 0,
      'data-panel': p.id, role: 'button', 'aria-pressed': p.id === this.selected ? 'true' : 'false',
      'aria-label': `${p.title || p.id}, ${p.kind}, column ${g.x + 1}, row ${g.y + 1}, ${g.w} wide, ${g.h} high`,
      'aria-describedby': 'pe-grid-help'},
        el('div', {class: 'pe-panel-head'}, el('strong', {text: p.title || p.id}), el('span', {class: 'pe-kind', text: p.kind})),
        el('div', {class: 'pe-panel-query', text: summary}),
        el('div', {class: 'pe-panel-pos', text: `${g.x},${g.y} ${g.w}×${g.h}`}),
        el('div', {class: 'pe-resize', title: 'Drag to resize', 'aria-hidden': 'true'}));
    box.style.gridColumn = `${g.x + 1} / span ${g.w}`;
    box.style.gridRow = `${g.y + 1} / span ${g.h}`;
    box.addEventListener('keydown', e => this.onKey(e, p));
    box.addEventListener('focus', () => this.select(p.id, false));
    box.addEventListener('pointerdown', e => this.onPointer(e, p, box));
    return box;
  }

  select(id, rerender = true) {
    if (this.selected === id) return;
    this.selected = id;
    for (const b of this.gridEl.querySelectorAll('.pe-panel')) {
      const on = b.dataset.panel === id;
      b.classList.toggle('pe-selected', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    if (rerender) this.renderGrid(id);
    this.renderForm();
  }

  panel() { return this.doc.panels.find(p => p.id === this.selected) || null; }

  // ---------- moving and resizing ----------

  onKey(e, p) {
    const d = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]}[e.key];
    if (d) {
      e.preventDefault();
      const g = Object.assign({}, p.grid);
      if (e.shiftKey) { g.w += d[0]; g.h += d[1]; } else { g.x += d[0]; g.y += d[1]; }
      this.setGrid(p, g, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const first = this.form.querySelector('select, input, textarea');
      if (first) first.focus();
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      this.deletePanel(p);
    }
  }

  setGrid(p, g, focus) {
    const c = clampGrid(g);
    if (c.x === p.grid.x && c.y === p.grid.y && c.w === p.grid.w && c.h === p.grid.h) return;
    p.grid = c;
    this.touch();
    this.renderGrid(focus ? p.id : null);
    this.say(`${p.title || p.id}: column ${c.x + 1}, row ${c.y + 1}, ${c.w} wide, ${c.h} high`);
  }

  onPointer(e, p, box) {
    if (e.button !== 0) return;
    const resize = e.target.classList.contains('pe-resize');
    const rect = this.gridEl.getBoundingClientRect();
    const cellW = rect.width / COLS;
    const rowH = parseFloat(getComputedStyle(this.gridEl).gridAutoRows) || 40;
    const start = {x: e.clientX, y: e.clientY, g: Object.assign({}, p.grid)};
    box.setPointerCapture(e.pointerId);
    box.focus();
    const move = ev => {
      const dx = Math.round((ev.clientX - start.x) / cellW);
      const dy = Math.round((ev.clientY - start.y) / (rowH + 8));
      const g = resize ? {x: start.g.x, y: start.g.y, w: start.g.w + dx, h: start.g.h + dy}
          : {x: start.g.x + dx, y: start.g.y + dy, w: start.g.w, h: start.g.h};
      const c = clampGrid(g);
      box.style.gridColumn = `${c.x + 1} / span ${c.w}`;
      box.style.gridRow = `${c.y + 1} / span ${c.h}`;
      box.classList.add('pe-dragging');
      start.last = c;
    };
    const up = () => {
      box.removeEventListener('pointermove', move);
      box.removeEventListener('pointerup', up);
      box.removeEventListener('pointercancel', up);
      box.classList.remove('pe-dragging');
      if (start.last) this.setGrid(p, start.last, true);
    };
    box.addEventListener('pointermove', move);
    box.addEventListener('pointerup', up);
    box.addEventListener('pointercancel', up);
  }

  // ---------- the panel form ----------

  renderForm() {
    const p = this.panel();
    const f = this.form;
    f.replaceChildren();
    if (!p) {
      f.append(el('p', {text: 'Select a panel to configure it.'}));
      return;
    }
    const field = (label, input, hint) => {
      const id = input.id;
      return el('div', {class: 'pe-field'}, el('label', {for: id, text: label}), input,
          hint ? el('small', {id: id + '-hint', text: hint}) : null);
    };
    const select = (id, values, cur, on, labels) => {
      const s = el('select', {id, onchange: e => on(e.target.value)},
          values.map((v, i) => el('option', {value: v, text: labels ? labels[i] : (v || '(default)')})));
      s.value = cur == null ? '' : String(cur);
      return s;
    };
    const change = () => { this.touch(); this.refreshBox(p); };
    f.append(el('h2', {text: `Panel ${p.id}`}));
    f.append(field('Kind', select('pe-kind', KINDS, p.kind, v => {
      p.kind = v;
      if (NO_QUERY.has(v)) { if (v === 'text') delete p.query; }
      else if (!p.query) p.query = {stream: this.streams[0] ? this.streams[0].stream : '', figure: 'count'};
      change();
      this.renderForm();
    })));
    f.append(field('Title', el('input', {id: 'pe-ptitle', type: 'text', maxlength: 120, value: p.title || '',
      oninput: e => { p.title = e.target.value; change(); }})));

    if (p.kind === 'text') {
      p.options = p.options || {};
      f.append(field('Text', el('textarea', {id: 'pe-text', rows: 6, maxlength: 4000,
        oninput: e => {
          p.options.text = e.target.value;
          const o = document.getElementById('pe-options');
          if (o) o.value = JSON.stringify(p.options, null, 1);
          change();
        }}, p.options.text || ''),
      'Plain text; blank lines make paragraphs.'));
    } else {
      this.queryFields(f, p, field, select, change);
    }

    if (!NO_QUERY.has(p.kind)) this.deriveFields(f, p, field, select, change);

    const opts = el('textarea', {id: 'pe-options', rows: 4, spellcheck: 'false', 'aria-describedby': 'pe-options-hint'},
        JSON.stringify(p.options || {}, null, 1));
    opts.addEventListener('change', () => {
      try {
        const o = JSON.parse(opts.value || '{}');
        if (typeof o !== 'object' || Array.isArray(o) || o === null) throw new Error('must be a JSON object');
        p.options = o;
        opts.removeAttribute('aria-invalid');
        change();
      } catch (err) {
        opts.setAttribute('aria-invalid', 'true');
        this.say('Options: ' + err.message, 'error');
      }
    });
    f.append(field('Options (JSON)', opts, 'Per kind, e.g. {"unit":"ms","decimals":1}'));
    f.append(el('div', {class: 'pe-form-actions'},
        el('button', {type: 'button', id: 'pe-panel-dup', text: 'Duplicate panel', onclick: () => this.duplicatePanel(p)}),
        el('button', {type: 'button', id: 'pe-panel-del', class: 'pe-danger', text: 'Remove panel',
          onclick: () => this.deletePanel(p)})));
  }

  queryFields(f, p, field, select, change) {
    p.query = p.query || {};
    const q = p.query;
    const names = this.streams.map(s => s.stream);
    if (q.stream && !names.includes(q.stream)) names.unshift(q.stream);
    const streamValues = p.kind === 'alerts' ? [''].concat(names) : names;
    f.append(field('Stream', select('pe-stream', streamValues, q.stream || '', v => {
      if (v) q.stream = v; else delete q.stream;
      delete q.metric; delete q.groupBy; delete q.filter;
      change();
      this.renderForm();
    }, streamValues.map(v => v || '(every stream)'))));
    if (p.kind === 'alerts') return;
    const s = this.stream(q.stream);
    const metrics = [''].concat(s ? s.values : []);
    if (q.metric && !metrics.includes(q.metric)) metrics.push(q.metric);
    f.append(field('Figure', select('pe-figure', FIGURES, q.figure || 'count', v => { q.figure = v; change(); })));
    f.append(field('Value', select('pe-metric', metrics, q.metric || '', v => {
      if (v) q.metric = v; else delete q.metric;
      change();
    }, metrics.map(v => v || '(none: count)'))));
    const dims = s ? Object.keys(s.dims || {}) : [];
    if (dims.length) {
      const fs = el('fieldset', {class: 'pe-dims'}, el('legend', {text: 'Group by'}));
      for (const d of dims) {
        const id = 'pe-group-' + d;
        fs.append(el('label', {for: id}, el('input', {id, type: 'checkbox', checked: (q.groupBy || []).includes(d),
          onchange: e => {
            const g = new Set(q.groupBy || []);
            if (e.target.checked) g.add(d); else g.delete(d);
            if (g.size) q.groupBy = dims.filter(x => g.has(x)); else delete q.groupBy;
            change();
          }}), ' ' + d));
      }
      f.append(fs);
      const ff = el('fieldset', {class: 'pe-filter'}, el('legend', {text: 'Filter (values of one dim are alternatives)'}));
      for (const d of dims) {
        const id = 'pe-filter-' + d;
        const values = (s.dims[d] || []).slice(0, 200);
        const sel = el('select', {id, multiple: true, size: Math.min(4, Math.max(2, values.length)), onchange: e => {
          const chosen = [...e.target.selectedOptions].map(o => o.value);
          q.filter = Object.assign({}, q.filter || {});
          if (chosen.length) q.filter[d] = chosen; else delete q.filter[d];
          if (!Object.keys(q.filter).length) delete q.filter;
          change();
        }}, values.map(v => el('option', {value: v, text: v, selected: ((q.filter || {})[d] || []).includes(v)})));
        ff.append(field(d, sel));
      }
      f.append(ff);
    }
    f.append(field('Window', select('pe-window', WINDOWS, q.window || '', v => {
      if (v) q.window = v; else delete q.window;
      change();
    })));
    f.append(field('Range', select('pe-range', RANGES, q.range || '', v => {
      if (v) q.range = v; else delete q.range;
      change();
    })));
    f.append(field('Top N series', el('input', {id: 'pe-top', type: 'number', min: 1, max: 200, value: q.top || '',
      placeholder: '20', oninput: e => {
        const n = parseInt(e.target.value, 10);
        if (n >= 1 && n <= 200) q.top = n; else delete q.top;
        change();
      }})));
  }

  deriveFields(f, p, field, select, change) {
    const d = p.derive || null;
    f.append(field('Derived figure', select('pe-derive', DERIVES, d ? d.op : '', v => {
      if (!v) delete p.derive;
      else p.derive = v === 'ratio' ? {op: v, denominator: {filter: {}}} : v === 'rate' ? {op: v, per: '1s'}
          : v === 'cumulative' ? {op: v, since: 'today'} : v === 'movingAverage' ? {op: v, n: 5} : {op: v};
      change();
      this.renderForm();
    })));
    if (!d) return;
    if (d.op === 'rate') {
      f.append(field('Per', select('pe-derive-per', ['1s', '1m', '1h'], d.per || '1s', v => { d.per = v; change(); })));
    } else if (d.op === 'cumulative') {
      f.append(field('Since', select('pe-derive-since', ['today', 'range'], typeof d.since === 'string' ? d.since : 'today',
          v => { d.since = v; change(); })));
    } else if (d.op === 'movingAverage') {
      f.append(field('Over N windows', el('input', {id: 'pe-derive-n', type: 'number', min: 2, max: 100, value: d.n || 5,
        oninput: e => { const n = parseInt(e.target.value, 10); if (n >= 2 && n <= 100) { d.n = n; change(); } }})));
    } else if (d.op === 'ratio') {
      const ta = el('textarea', {id: 'pe-derive-den', rows: 2, spellcheck: 'false'}, JSON.stringify(d.denominator || {}));
      ta.addEventListener('change', () => {
        try { d.denominator = JSON.parse(ta.value || '{}'); ta.removeAttribute('aria-invalid'); change(); } catch (err) {
          ta.setAttribute('aria-invalid', 'true');
          this.say('Denominator: ' + err.message, 'error');
        }
      });
      f.append(field('Denominator (query fields that differ)', ta, 'e.g. {"filter": {}} for "over all"'));
    }
  }

  refreshBox(p) {
    const old = this.gridEl.querySelector(`[data-panel="${CSS.escape(p.id)}"]`);
    if (old) old.replaceWith(this.panelBox(p));
  }

  // ---------- panels ----------

  addPanel() {
    if (this.doc.panels.length >= 48) { this.say('A dashboard holds at most 48 panels.', 'error'); return; }
    const kind = this.addKind.value;
    const p = defaultPanel(kind, this.stream(this.addSelect.value), nextPanelId(this.doc.panels));
    p.grid = freeSpot(this.doc.panels, p.grid.w, p.grid.h);
    this.doc.panels.push(p);
    this.selected = p.id;
    this.touch();
    this.renderGrid(p.id);
    this.renderForm();
    this.say(`Added ${kind} panel ${p.id}.`);
  }

  duplicatePanel(p) {
    if (this.doc.panels.length >= 48) { this.say('A dashboard holds at most 48 panels.', 'error'); return; }
    const c = JSON.parse(JSON.stringify(p));
    c.id = nextPanelId(this.doc.panels);
    c.grid = freeSpot(this.doc.panels, p.grid.w, p.grid.h);
    this.doc.panels.push(c);
    this.selected = c.id;
    this.touch();
    this.renderGrid(c.id);
    this.renderForm();
  }

  async deletePanel(p) {
    if (!(await confirmDialog(`Remove the panel “${p.title || p.id}”?`, 'Remove'))) return;
    const i = this.doc.panels.indexOf(p);
    this.doc.panels = this.doc.panels.filter(x => x !== p);
    const next = this.doc.panels[Math.min(i, this.doc.panels.length - 1)];
    this.selected = next ? next.id : null;
    this.touch();
    this.renderGrid(this.selected);
    this.renderForm();
  }

  // ---------- saving ----------

  touch() { this.dirty = true; this.updateStatus(); }

  updateStatus(extra) {
    const v = this.base ? `version ${this.base.version}` : 'not saved yet';
    this.status.textContent = (extra ? extra + ' — ' : '') + (this.dirty ? `Unsaved changes (${v})` : `Saved, ${v}`);
    this.host.dataset.dirty = this.dirty ? 'true' : 'false';
  }

  say(msg, level = 'info') {
    if (level === 'error') {
      this.alert.hidden = false;
      this.alert.replaceChildren(el('span', {text: msg}),
          el('button', {type: 'button', class: 'pe-dismiss', 'aria-label': 'Dismiss', text: '×',
            onclick: () => { this.alert.hidden = true; }}));
    } else {
      this.updateStatus(msg);
    }
  }

  clearAlert() { this.alert.hidden = true; this.alert.replaceChildren(); }

  async save(force) {
    this.clearAlert();
    const body = this.doc;
    let r;
    if (!this.id) {
      r = await http(this.app, 'POST', '/api/v1/dashboards', body);
    } else {
      const ifMatch = force != null ? force : this.version;
      r = await http(this.app, 'PUT', '/api/v1/dashboards/' + encodeURIComponent(this.id), body,
          {'If-Match': `"${ifMatch}"`});
    }
    if (r.ok && r.json) {
      this.base = r.json;
      this.dirty = false;
      document.getElementById('pe-delete').disabled = false;
      this.updateStatus('Saved');
      return r.json;
    }
    if (r.status === 409 && this.id) {
      await this.conflict();
      return null;
    }
    this.say(`Not saved (${r.status}): ${(r.json && r.json.error) || r.text || 'no answer'}`, 'error');
    return null;
  }

  /** Someone saved in between: show both versions; reload theirs, overwrite with mine, or keep editing. */
  async conflict() {
    const theirs = await http(this.app, 'GET', '/api/v1/dashboards/' + encodeURIComponent(this.id));
    if (!theirs.ok) {
      this.say(`Not saved: the dashboard changed, and reading it back failed (${theirs.status}). Your edit is kept.`, 'error');
      return;
    }
    const t = theirs.json;
    const mine = JSON.stringify(this.doc, null, 2);
    const other = JSON.stringify(bare(t), null, 2);
    const dlg = el('dialog', {id: 'pe-conflict', class: 'pe-dialog pe-conflict', 'aria-labelledby': 'pe-conflict-title'},
        el('h2', {id: 'pe-conflict-title', text: 'Someone else saved this dashboard'}),
        el('p', {text: `You started from version ${this.version}; it is now at version ${t.version}, saved by ${
          t.updatedBy || 'someone'}${t.updatedAt ? ' at ' + new Date(t.updatedAt).toLocaleString() : ''}. Nothing was lost: choose what to keep.`}),
        el('div', {class: 'pe-compare'},
            el('section', {}, el('h3', {text: 'Your version (not saved)'}), el('pre', {id: 'pe-conflict-mine', tabindex: 0, text: mine})),
            el('section', {}, el('h3', {text: `Their version ${t.version}`}), el('pre', {id: 'pe-conflict-theirs', tabindex: 0, text: other}))),
        el('div', {class: 'pe-dialog-actions'},
            el('button', {type: 'button', id: 'pe-conflict-overwrite', class: 'pe-danger', value: 'overwrite',
              text: `Overwrite with mine (as version ${t.version + 1})`}),
            el('button', {type: 'button', id: 'pe-conflict-reload', value: 'reload', text: 'Discard mine, load theirs'}),
            el('button', {type: 'button', id: 'pe-conflict-keep', value: 'keep', text: 'Keep editing'})));
    const choice = await showDialog(dlg, '#pe-conflict-keep');
    if (choice === 'overwrite') {
      await this.save(t.version);
    } else if (choice === 'reload') {
      this.base = t;
      this.doc = bare(t);
      this.doc.panels = (this.doc.panels || []).map(p => Object.assign(p, {grid: clampGrid(p.grid || {})}));
      this.dirty = false;
      this.selected = this.doc.panels.length ? this.doc.panels[0].id : null;
      this.render();
      this.updateStatus(`Loaded version ${t.version}`);
    } else {
      this.say(`Not saved: version ${t.version} is newer than yours (${this.version}). Your edit is kept; save again to choose.`, 'error');
    }
  }

  async duplicate() {
    const copy = JSON.parse(JSON.stringify(this.doc));
    delete copy.ready;
    copy.title = ('Copy of ' + (copy.title || 'dashboard')).slice(0, 120);
    const r = await http(this.app, 'POST', '/api/v1/dashboards', copy);
    if (!r.ok) { this.say(`Not duplicated (${r.status}): ${(r.json && r.json.error) || r.text}`, 'error'); return; }
    this.openInEditor(r.json, `Duplicated as “${r.json.title}”`);
  }

  async remove() {
    if (!this.id) return;
    if (!(await confirmDialog(`Delete the dashboard “${this.doc.title}”? Its history stays in the audit log.`, 'Delete'))) return;
    const r = await http(this.app, 'DELETE', '/api/v1/dashboards/' + encodeURIComponent(this.id), undefined,
        {'If-Match': `"${this.version}"`});
    if (r.status === 409) { await this.conflict(); return; }
    if (!r.ok) { this.say(`Not deleted (${r.status}): ${(r.json && r.json.error) || r.text}`, 'error'); return; }
    this.dirty = false;
    this.destroy();
    if (this.app && typeof this.app.onDashboardDeleted === 'function') this.app.onDashboardDeleted(this.id);
    else location.assign('/');
  }

  exportJson() {
    const text = JSON.stringify(this.doc, null, 2) + '\n';
    this.lastExport = text;
    const name = (this.doc.title || 'dashboard').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dashboard';
    const url = URL.createObjectURL(new Blob([text], {type: 'application/json'}));
    const a = el('a', {href: url, download: name + '.json', hidden: true});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.say('Exported ' + name + '.json');
    return text;
  }

  async importFile(file) {
    if (!file) return;
    const text = await file.text();
    this.fileInput.value = '';
    return this.importText(text);
  }

  /** Creates a new dashboard from JSON text; the server validates it and its 400 reason is shown. */
  async importText(text) {
    this.clearAlert();
    let doc;
    try { doc = JSON.parse(text); } catch (e) { this.say('Not imported: the file is not JSON (' + e.message + ')', 'error'); return null; }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) { this.say('Not imported: the file must hold one JSON object', 'error'); return null; }
    const body = bare(doc);
    delete body.ready;
    const r = await http(this.app, 'POST', '/api/v1/dashboards', body);
    if (!r.ok) { this.say(`Not imported (${r.status}): ${(r.json && r.json.error) || r.text}`, 'error'); return null; }
    this.openInEditor(r.json, `Imported as “${r.json.title}”`);
    return r.json;
  }

  openInEditor(stored, msg) {
    if (this.dirty && this.base) {
      // the current edit is not thrown away silently: it stays as an offer in the status line
      this.say('Your unsaved edit of the previous dashboard was left behind.', 'error');
    }
    this.base = stored;
    this.doc = bare(stored);
    this.doc.panels = (this.doc.panels || []).map(p => Object.assign(p, {grid: clampGrid(p.grid || {})}));
    this.dirty = false;
    this.selected = this.doc.panels.length ? this.doc.panels[0].id : null;
    this.render();
    this.updateStatus(msg);
    try { history.replaceState(null, '', '?dashboard=' + encodeURIComponent(stored.id) + '&edit'); } catch (e) { /* ignore */ }
  }

  async close() {
    if (this.dirty && !(await confirmDialog('Leave the editor and drop your unsaved changes?', 'Drop changes'))) return;
    const id = this.id;
    this.destroy();
    if (this.app && typeof this.app.openDashboard === 'function' && id) this.app.openDashboard(id);
    else location.assign(id ? '/?dashboard=' + encodeURIComponent(id) : '/');
  }

  destroy() {
    this.cleanup.forEach(f => f());
    this.cleanup = [];
    this.host.classList.remove('pe-editing');
    this.host.replaceChildren();
    if (window.__pulseEditor === this) window.__pulseEditor = null;
  }
}

export function stylesheet(href) {
  if (![...document.querySelectorAll('link[rel=stylesheet]')].some(l => l.getAttribute('href') === href)) {
    document.head.append(el('link', {rel: 'stylesheet', href}));
  }
}

/** A modal <dialog>; resolves with the value of the button pressed, or 'keep' on Escape. */
function showDialog(dlg, focusSel) {
  return new Promise(resolve => {
    document.body.append(dlg);
    const done = v => { if (dlg.open) dlg.close(); dlg.remove(); resolve(v); };
    dlg.addEventListener('click', e => { if (e.target.tagName === 'BUTTON') done(e.target.value); });
    dlg.addEventListener('cancel', e => { e.preventDefault(); done('keep'); });
    dlg.showModal();
    const first = dlg.querySelector(focusSel || 'button');
    if (first) first.focus();
  });
}

export function confirmDialog(text, yes) {
  const dlg = el('dialog', {class: 'pe-dialog pe-confirm', role: 'alertdialog', 'aria-labelledby': 'pe-confirm-text'},
      el('p', {id: 'pe-confirm-text', text}),
      el('div', {class: 'pe-dialog-actions'},
          el('button', {type: 'button', id: 'pe-confirm-yes', class: 'pe-danger', value: 'yes', text: yes}),
          el('button', {type: 'button', id: 'pe-confirm-no', value: 'no', text: 'Cancel'})));
  return showDialog(dlg, '#pe-confirm-no').then(v => v === 'yes');
}

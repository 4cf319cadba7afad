// Table panel: one row per series (at most `top`), columns from options.columns among
// series, last, min, max, mean (over the buckets in range), score (the newest anomaly score),
// lastSeen (age of the newest bucket with events, ticking).
// Options: {unit, decimals, columns: ["series","last","min","max","mean","score","lastSeen"]}.

import { h, fmt, unitOf, note, showViewState, clear, age, keyed } from '../format.js';

const ALL = ['series', 'last', 'min', 'max', 'mean', 'score', 'lastSeen'];
const HEAD = { series: 'Series', last: 'Last', min: 'Min', max: 'Max', mean: 'Mean', score: 'Anomaly score', lastSeen: 'Last seen' };

export default {
  kind: 'table',
  create(el, panel, ctx) {
    const o = panel.options || {};
    const unit = unitOf(panel);
    // with derive lastSeen the figure is a time: shown as an age that ticks
    const lastSeenOp = !!(panel.derive && panel.derive.op === 'lastSeen');
    const cols = Array.isArray(o.columns) && o.columns.length ? o.columns.filter(c => ALL.includes(c)) : ['series', 'last', 'min', 'max', 'mean'];
    const tbody = h('tbody');
    const table = h('table', { class: 'tbl' },
      h('thead', null, h('tr', null, cols.map(c => h('th', { scope: 'col', class: c === 'series' ? '' : 'num', text: HEAD[c] })))), tbody);
    el.append(h('div', { class: 'tbl-wrap' }, table));
    const msg = note(el);
    msg.set('Loading…');
    let last = null;
    const render = () => {
      const view = last;
      if (!view) return;
      const rows = [];
      const now = ctx.connection.serverNow();
      for (const s of view.series) {
        let min = null; let max = null; let sum = 0; let n = 0;
        if (!lastSeenOp) s.buckets.forEach(b => {
          const v = b.value;
          if (v === null || v === undefined || !Number.isFinite(v)) return;
          min = min === null ? v : Math.min(min, v);
          max = max === null ? v : Math.max(max, v);
          sum += v; n++;
        });
        const ageOf = t => (t === null || t === undefined ? '—' : age(now - t) + ' ago');
        const cell = {
          series: s.label, last: lastSeenOp ? ageOf(s.last) : fmt(s.last, { unit, decimals: o.decimals }), min: fmt(min, { unit, decimals: o.decimals }),
          max: fmt(max, { unit, decimals: o.decimals }), mean: fmt(n ? sum / n : null, { unit, decimals: o.decimals }),
          score: s.score === null || s.score === undefined ? '—' : s.score.toFixed(2),
          lastSeen: s.lastSeen ? age(now - s.lastSeen) + ' ago' : '—',
        };
        rows.push([s, cell]);
      }
      keyed(tbody, rows, r => r[0].key,
        ([s]) => h('tr', { dataset: { series: s.key } }, cols.map(c => h('td', { class: c === 'series' ? '' : 'num' }))),
        (tr, [, cell]) => cols.forEach((c, i) => { if (tr.children[i].textContent !== cell[c]) tr.children[i].textContent = cell[c]; }));
    };
    const ticker = cols.includes('lastSeen') || lastSeenOp ? setInterval(render, 1000) : 0;
    return {
      update(view) {
        showViewState(el, msg, view);
        last = view;
        render();
      },
      resize() {},
      destroy() { clearInterval(ticker); last = null; clear(tbody); },
    };
  },
};

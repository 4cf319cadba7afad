// Bar / leaderboard panel: one bar per series of the group-by, by its newest value, sorted
// (desc by default), at most `top` (query.top). Bars are plain elements sized through the CSSOM.
// Options: {unit, decimals, sort: "desc"|"asc", horizontal: true}.

import { h, fmt, unitOf, note, viewNote, clear } from '../format.js';

export default {
  kind: 'bar',
  create(el, panel) {
    const o = panel.options || {};
    const unit = unitOf(panel);
    const list = h('ol', { class: 'bars', 'aria-label': panel.title || 'Leaderboard' });
    el.append(list);
    const msg = note(el);
    msg.set('Loading…');
    return {
      update(view) {
        const [text, lvl] = viewNote(view);
        msg.set(text, lvl);
        el.classList.toggle('is-stale', !!view.stale);
        const rows = view.series.filter(s => s.last !== null).slice();
        rows.sort((a, b) => (o.sort === 'asc' ? a.last - b.last : b.last - a.last));
        const top = Math.max(...rows.map(r => Math.abs(r.last)), 0) || 1;
        clear(list);
        rows.forEach((r, i) => {
          const fill = h('div', { class: 'bar-fill' });
          fill.style.width = (Math.abs(r.last) / top * 100).toFixed(1) + '%';
          list.append(h('li', { dataset: { series: r.key } },
            h('span', { class: 'bar-label' }, h('span', { class: 'bar-rank', text: (i + 1) + '.' }), r.label),
            h('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
            h('span', { class: 'bar-value', text: fmt(r.last, { unit, decimals: o.decimals, compact: true }) })));
        });
      },
      resize() {},
      destroy() { clear(list); },
    };
  },
};

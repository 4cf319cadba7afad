// Bar / leaderboard panel: one bar per series of the group-by, by its newest value, sorted
// (desc by default), at most `top` (query.top). Bars are plain elements sized through the CSSOM.
// Options: {unit, decimals, sort: "desc"|"asc", horizontal: true}.

import { h, fmt, unitOf, note, showViewState, clear, keyed } from '../format.js';

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
        showViewState(el, msg, view);
        const rows = view.series.filter(s => s.last !== null).slice();
        rows.sort((a, b) => (o.sort === 'asc' ? a.last - b.last : b.last - a.last));
        const top = Math.max(...rows.map(r => Math.abs(r.last)), 0) || 1;
        keyed(list, rows, r => r.key,
          r => h('li', { dataset: { series: r.key } },
            h('span', { class: 'bar-label' }, h('span', { class: 'bar-rank' }), h('span', { class: 'bar-name', text: r.label })),
            h('div', { class: 'bar-track', 'aria-hidden': 'true' }, h('div', { class: 'bar-fill' })),
            h('span', { class: 'bar-value' })),
          (li, r) => {
            li.querySelector('.bar-rank').textContent = (rows.indexOf(r) + 1) + '.';
            li.querySelector('.bar-fill').style.width = (Math.abs(r.last) / top * 100).toFixed(1) + '%';
            li.querySelector('.bar-value').textContent = fmt(r.last, { unit, decimals: o.decimals, compact: true });
          });
      },
      resize() {},
      destroy() { clear(list); },
    };
  },
};

// Gauge panel: the first series' newest value on a half-circle scale from min to max (SVG), the
// arc coloured by the thresholds' level, with the value and the level word written out.
// Options: {unit, decimals, min: 0, max: 100, thresholds: [{value, level}]}.

import { h, svg, fmt, unitOf, levelOf, LEVELS, note, showViewState, figureLabel } from '../format.js';

const R = 80;
const LEN = Math.PI * R;

export default {
  kind: 'gauge',
  create(el, panel) {
    const o = panel.options || {};
    const unit = unitOf(panel);
    const min = Number.isFinite(o.min) ? o.min : 0;
    const max = Number.isFinite(o.max) && o.max > min ? o.max : 100;
    const s = svg('svg', { viewBox: '0 0 200 110', role: 'img', 'aria-label': figureLabel(panel) });
    const d = 'M 20 100 A 80 80 0 0 1 180 100';
    const track = svg('path', { d, class: 'track', fill: 'none', 'stroke-width': 16, 'stroke-linecap': 'round' });
    const arc = svg('path', { d, class: 'arc-unknown', fill: 'none', 'stroke-width': 16, 'stroke-linecap': 'round',
      'stroke-dasharray': '0 ' + LEN });
    s.append(track, arc);
    const value = h('div', { class: 'gauge-value', text: '—' });
    const word = h('div', { class: 'stat-word lvl-unknown', text: '? No data' });
    const scale = h('div', { class: 'gauge-scale' }, h('span', { text: fmt(min, { unit }) }), h('span', { text: fmt(max, { unit }) }));
    el.append(h('div', { class: 'gauge' }, s, value, word, scale));
    const msg = note(el);
    msg.set('Loading…');
    return {
      update(view) {
        showViewState(el, msg, view);
        const ser = view.series[0];
        const v = ser ? ser.last : null;
        value.textContent = fmt(v, { unit, decimals: o.decimals });
        const frac = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / (max - min)));
        arc.setAttribute('stroke-dasharray', (frac * LEN).toFixed(1) + ' ' + LEN);
        const level = levelOf(v, o.thresholds);
        arc.setAttribute('class', 'arc-' + level);
        word.textContent = LEVELS[level].icon + ' ' + LEVELS[level].word;
        word.className = 'stat-word ' + LEVELS[level].cls;
        el.dataset.value = v === null ? '' : String(v);
      },
      resize() {},
      destroy() {},
    };
  },
};

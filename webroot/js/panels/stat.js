// Stat panel: one big number (the first series' newest value: the stream total when the query has
// no group-by), a sparkline of the range (uPlot), and a level from the thresholds shown as a colour
// AND a word (OK / Warning / Critical / No data).
// Options: {unit, decimals, sparkline: true, thresholds: [{value, level: ok|warning|critical}]}.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { h, fmt, unitOf, figureLabel, levelOf, LEVELS, note, showViewState, age } from '../format.js';

export default {
  kind: 'stat',
  create(el, panel, ctx) {
    const o = panel.options || {};
    const unit = unitOf(panel);
    const value = h('span', { class: 'stat-value', text: '—' });
    const word = h('span', { class: 'stat-word', hidden: true });
    const sub = h('div', { class: 'stat-sub', text: figureLabel(panel) });
    const spark = h('div', { class: 'stat-spark', 'aria-hidden': 'true' });
    const box = h('div', { class: 'stat' }, h('div', { class: 'stat-row' }, value, word), sub, spark);
    el.append(box);
    const msg = note(el);
    msg.set('Loading…');
    let u = null;
    let size = { w: 200, h: 40 };
    const lastSeenOp = panel.derive && panel.derive.op === 'lastSeen';
    let lastSeen = null;
    let ticker = 0;

    // the number stays on one line: a figure wider than the panel is drawn smaller, never wrapped
    const fit = () => {
      value.style.fontSize = '';
      const room = box.clientWidth - (word.hidden ? 0 : word.offsetWidth + 12);
      const need = value.scrollWidth;
      if (room > 0 && need > room) {
        value.style.fontSize = Math.floor(parseFloat(getComputedStyle(value).fontSize) * room / need) + 'px';
      }
    };

    const showAge = () => {
      if (lastSeen === null) { value.textContent = '—'; return; }
      value.textContent = age(ctx.connection.serverNow() - lastSeen);
      fit();
    };
    if (lastSeenOp) ticker = setInterval(showAge, 1000);

    return {
      update(view) {
        showViewState(el, msg, view);
        const s = view.series[0];
        if (!s) return;
        const v = s.last;
        if (lastSeenOp) { lastSeen = s.lastSeen; showAge(); } else value.textContent = fmt(v, { unit, decimals: o.decimals });
        const level = lastSeenOp ? levelOf(lastSeen === null ? null : (ctx.connection.serverNow() - lastSeen) / 1000, o.thresholds)
          : levelOf(v, o.thresholds);
        const L = LEVELS[level];
        value.className = 'stat-value ' + (o.thresholds && o.thresholds.length ? L.cls : '');
        word.hidden = !(o.thresholds && o.thresholds.length) && level !== 'unknown';
        word.textContent = L.icon + ' ' + L.word;
        word.className = 'stat-word ' + L.cls;
        box.dataset.level = level;
        fit();
        const partial = s.lastBucket && (s.lastBucket.partial || s.lastBucket.provisional);
        sub.textContent = figureLabel(panel) + (partial ? ' · current window (open)' : '') + (view.series.length > 1 ? ' · ' + s.label : '');
        el.dataset.value = v === null ? '' : String(v);
        if (o.sparkline === false) return;
        const xs = []; const ys = [];
        s.buckets.forEach(b => { xs.push(b.start / 1000); ys.push(b.value === undefined ? null : b.value); });
        if (!u) {
          u = new uPlot({ width: size.w, height: size.h, legend: { show: false }, cursor: { show: false },
            scales: { x: { time: true } }, axes: [{ show: false }, { show: false }],
            series: [{}, { stroke: '#56B4E9', width: 2, fill: 'rgba(86,180,233,0.12)', points: { show: false } }] },
          [xs, ys], spark);
        } else u.setData([xs, ys]);
      },
      resize(w, hh) {
        fit();
        size = { w: Math.max(60, w), h: Math.max(20, hh - value.offsetHeight - sub.offsetHeight - 12) };
        if (u) u.setSize({ width: size.w, height: size.h });
      },
      destroy() { clearInterval(ticker); if (u) u.destroy(); u = null; },
    };
  },
};

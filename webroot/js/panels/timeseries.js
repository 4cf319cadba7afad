// Time series panel: uPlot lines, one per series (at most `top`), gaps where data are missing
// (null, never zero). With one series, the detector's expected band (the rollup's
// anomaly.band, when it explains this panel's figure) is shaded; windows whose anomaly score
// reaches `anomalyScore` (default 0.5) are marked with a red strip; partial and provisional
// buckets (the open window, a cut first bucket) are drawn as hollow points.
// stack: true draws the series on top of each other (areas), the legend keeping each one's own value.
// Options: {unit, decimals, band: true, markAnomalies: true, stack: false, anomalyScore: 0.5}.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { h, fmt, unitOf, figureLabel, PALETTE, note, showViewState, clear } from '../format.js';

const STYLE_HREF = '/vendor/uplot/uPlot.min.css';

function ensureCss() {
  if (document.querySelector('link[data-uplot]')) return;
  const l = document.createElement('link');
  l.rel = 'stylesheet';
  l.href = STYLE_HREF;
  l.dataset.uplot = '1';
  document.head.append(l);
}

/** x (seconds) and one y array per series from the view's bucket rings, aligned on bucket starts. */
export function align(view) {
  const starts = new Set();
  for (const s of view.series) s.buckets.forEach(b => starts.add(b.start));
  const xs = [...starts].sort((a, b) => a - b);
  const idx = new Map(xs.map((x, i) => [x, i]));
  const ys = view.series.map(s => {
    const y = new Array(xs.length).fill(null);
    s.buckets.forEach(b => { y[idx.get(b.start)] = b.value === undefined ? null : b.value; });
    return y;
  });
  return { xs, idx, ys };
}

/**
 * The y axis as wide as its longest label in `font` (uPlot asks again when the labels change):
 * never clipped, whatever the kiosk's type size.
 */
function yAxisSize(font) {
  return (self, values, axisIdx, cycleNum) => {
    if (cycleNum > 1 || !values || !values.length) return (self.axes[axisIdx] && self.axes[axisIdx]._size) || 50;
    const c = self.ctx;
    c.save();
    c.font = font;
    let widest = 0;
    for (const v of values) widest = Math.max(widest, c.measureText(String(v)).width);
    c.restore();
    return Math.ceil(widest) + 24; // measured at the CSS size: CSS pixels
  };
}

/** Whether a series has a value with gaps on both sides: a line cannot show it, a point must. */
function hasIsolated(ys) {
  if (!ys) return false;
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] !== null && ys[i] !== undefined && (i === 0 || ys[i - 1] === null) && (i === ys.length - 1 || ys[i + 1] === null)) return true;
  }
  return false;
}

export default {
  kind: 'timeseries',
  create(el, panel, ctx) {
    ensureCss();
    const o = panel.options || {};
    const unit = unitOf(panel);
    const chartEl = h('div', { class: 'ts-chart' });
    const legend = h('ul', { class: 'legend', 'aria-label': 'Series' });
    el.append(chartEl, legend);
    const msg = note(el);
    msg.set('Loading…');
    let u = null;
    let legendHeight = -1;
    let shape = '';           // the series set the chart was built for
    let size = { w: Math.max(100, el.clientWidth), h: Math.max(60, el.clientHeight - 40) };
    let marks = { anomalies: [], partial: [] }; // indexes into x
    let last = null;
    let updates = 0;

    const drawMarks = chart => {
      const c = chart.ctx;
      const top = chart.bbox.top; const hgt = chart.bbox.height;
      if (o.markAnomalies !== false && marks.anomalies.length) {
        c.save();
        c.fillStyle = 'rgba(255, 92, 92, 0.22)';
        const xs = chart.data[0];
        const step = xs.length > 1 ? xs[1] - xs[0] : 1;
        for (const i of marks.anomalies) {
          const x0 = chart.valToPos(xs[i], 'x', true);
          const x1 = chart.valToPos(xs[i] + step, 'x', true);
          c.fillRect(x0, top, Math.max(2, x1 - x0), hgt);
        }
        c.restore();
      }
      if (marks.partial.length) {
        c.save();
        c.lineWidth = 2 * devicePixelRatio;
        for (const [si, i] of marks.partial) {
          const y = chart.data[si + 1] && chart.data[si + 1][i];
          if (y === null || y === undefined) continue;
          c.strokeStyle = PALETTE[si % PALETTE.length];
          c.fillStyle = '#0b1118';
          c.beginPath();
          c.arc(chart.valToPos(chart.data[0][i], 'x', true), chart.valToPos(y, 'y', true), 4 * devicePixelRatio, 0, 2 * Math.PI);
          c.fill();
          c.stroke();
        }
        c.restore();
      }
    };

    const build = (view, data) => {
      if (u) { u.destroy(); u = null; }
      clear(chartEl);
      const series = [{}];
      view.series.forEach((s, i) => series.push({
        label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false,
        points: { show: (self, si) => hasIsolated(self.data[si]), size: 7 },
        value: (self, v) => fmt(v, { unit, decimals: o.decimals }),
      }));
      const bands = [];
      if (o.stack && view.series.length > 1) {
        // stacked: each line is the running total up to it; the area between two lines is the upper one's share
        series[1].fill = PALETTE[0] + '55';
        for (let i = 2; i <= view.series.length; i++) bands.push({ series: [i, i - 1], fill: PALETTE[(i - 1) % PALETTE.length] + '55' });
      }
      const withBand = o.band !== false && view.series.length === 1;
      if (withBand) {
        series.push({ label: 'expected high', stroke: 'rgba(86,180,233,0.35)', width: 1, dash: [4, 4], points: { show: false } });
        series.push({ label: 'expected low', stroke: 'rgba(86,180,233,0.35)', width: 1, dash: [4, 4], points: { show: false } });
        bands.push({ series: [2, 3], fill: 'rgba(86,180,233,0.14)' });
      }
      // axis type follows the panel's (the kiosk scales it with the screen): 0.8 of it, at least 12 px
      const px = Math.max(12, Math.round(0.8 * (parseFloat(getComputedStyle(el).fontSize) || 16)));
      const font = px + 'px system-ui, sans-serif';
      const axis = { stroke: '#c9d1d9', grid: { stroke: 'rgba(201,209,217,0.12)' }, ticks: { stroke: 'rgba(201,209,217,0.25)' }, font };
      u = new uPlot({
        width: size.w, height: size.h, series, bands,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [Object.assign({}, axis, { size: 2 * px + 26 }), Object.assign({}, axis, { size: yAxisSize(font), values: (self, ticks) => ticks.map(v => fmt(v, { compact: true })) })],
        hooks: { draw: [drawMarks] },
      }, data, chartEl);
      shape = view.series.map(s => s.key).join('\u0001') + (withBand ? '|band' : '');
    };

    return {
      update(view) {
        updates++;
        last = view;
        showViewState(el, msg, view);
        if (!view.series.length) return;
        const { xs, idx, ys } = align(view);
        marks = { anomalies: [], partial: [] };
        const threshold = Number.isFinite(o.anomalyScore) ? o.anomalyScore : 0.5;
        view.series.forEach((s, si) => s.buckets.forEach(b => {
          const i = idx.get(b.start);
          if (b.score !== null && b.score !== undefined && b.score >= threshold && si === 0) marks.anomalies.push(i);
          if (b.partial || b.provisional) marks.partial.push([si, i]);
        }));
        if (o.stack && ys.length > 1) {
          const acc = new Array(xs.length).fill(0);
          for (const y of ys) for (let j = 0; j < y.length; j++) if (y[j] !== null) { acc[j] += y[j]; y[j] = acc[j]; }
        }
        const data = [xs.map(x => x / 1000), ...ys];
        const withBand = o.band !== false && view.series.length === 1;
        if (withBand) {
          const hi = new Array(xs.length).fill(null); const lo = new Array(xs.length).fill(null);
          view.series[0].buckets.forEach(b => { if (b.band) { const i = idx.get(b.start); hi[i] = b.band.hi; lo[i] = b.band.lo; } });
          data.push(hi, lo);
        }
        const want = view.series.map(s => s.key).join('\u0001') + (withBand ? '|band' : '');
        if (!u || want !== shape) build(view, data); else u.setData(data);
        // the legend is rebuilt only when the series change; otherwise its values are updated in place
        if (legend.dataset.shape !== want) {
          clear(legend);
          view.series.forEach((s, i) => legend.append(h('li', { dataset: { series: s.key } },
            h('span', { class: 'swatch', 'aria-hidden': 'true', dataset: { c: String(i % PALETTE.length) } }),
            h('span', { class: 'legend-name', text: s.label }),
            h('span', { class: 'legend-value' }))));
          legend.dataset.shape = want;
        }
        view.series.forEach((s, i) => {
          const li = legend.children[i];
          if (li) li.lastChild.textContent = fmt(s.last, { unit, decimals: o.decimals });
        });
        // the chart takes what the legend leaves (its height changes with its series and the type size)
        if (u && legend.offsetHeight !== legendHeight) {
          legendHeight = legend.offsetHeight;
          size = { w: size.w, h: Math.max(60, el.clientHeight - legendHeight - 4) };
          u.setSize({ width: size.w, height: size.h });
        }
        el.dataset.points = String(xs.length);
        el.dataset.updates = String(updates);
      },
      resize(w, hh) {
        size = { w: Math.max(100, w), h: Math.max(60, hh - legend.offsetHeight - 4) };
        if (u) u.setSize({ width: size.w, height: size.h });
      },
      destroy() { if (u) u.destroy(); u = null; last = null; },
      describe() { return { label: figureLabel(panel), series: last ? last.series.length : 0 }; },
    };
  },
};

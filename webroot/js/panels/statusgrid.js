// Status grid panel: one tile per series (at most `top`: every pipeline job, every patient), its
// state shown as a colour AND an icon and a word, never colour alone.
//   by "alert" (default): the worst alert of the tile's series (firing critical -> Critical,
//       firing warning -> Warning, acknowledged, pending), else OK;
//   by "score": the anomaly score against thresholds (default 0.5 warning, 0.8 critical);
//   by "value": the newest value against thresholds.
// Options: {by: "alert"|"score"|"value", thresholds, unit, decimals}.

import { h, fmt, unitOf, levelOf, LEVELS, note, showViewState, clear, age, keyed } from '../format.js';

const SCORE_THRESHOLDS = [{ value: 0.5, level: 'warning' }, { value: 0.8, level: 'critical' }];

/** Whether an alert's series belongs to the tile's dims (every dim the alert names agrees). */
export function alertMatches(a, stream, dims) {
  if (!a || a.stream !== stream) return false;
  const s = a.series || {};
  for (const [k, v] of Object.entries(dims)) if (s[k] !== undefined && s[k] !== v) return false;
  return true;
}

function alertLevel(list) {
  let best = null;
  for (const a of list) {
    if (a.state === 'resolved') continue;
    const lvl = a.state === 'firing' ? (a.severity === 'critical' ? 'critical' : a.severity === 'warning' ? 'warning' : 'warning')
      : a.state === 'acknowledged' ? 'warning' : a.state === 'pending' ? 'warning' : null;
    const word = a.state === 'firing' ? LEVELS[lvl].word : a.state === 'acknowledged' ? 'Acknowledged' : 'Pending';
    const rank = lvl === 'critical' ? 3 : a.state === 'firing' ? 2 : 1;
    if (lvl && (!best || rank > best.rank)) best = { level: lvl, word, rank, alert: a };
  }
  return best;
}

export default {
  kind: 'statusgrid',
  create(el, panel, ctx) {
    const o = panel.options || {};
    const by = o.by === 'score' || o.by === 'value' ? o.by : 'alert';
    const unit = unitOf(panel);
    const stream = panel.query && panel.query.stream;
    const tiles = h('ul', { class: 'tiles', 'aria-label': panel.title || 'Status' });
    el.append(tiles);
    const msg = note(el);
    msg.set('Loading…');
    let last = null;
    const release = by === 'alert' && ctx.alerts ? ctx.alerts.watch(stream) : null;
    const render = () => {
      const view = last;
      if (!view) return;
      const items = [];
      const alerts = by === 'alert' && ctx.alerts ? ctx.alerts.list(stream, null) : [];
      const now = ctx.connection.serverNow();
      for (const s of view.series) {
        let level; let word; let detail;
        if (by === 'alert') {
          const worst = alertLevel(alerts.filter(a => alertMatches(a, stream, s.dims)));
          level = worst ? worst.level : 'ok';
          word = worst ? worst.word : LEVELS.ok.word;
          detail = worst ? (worst.alert.ruleName || worst.alert.rule || '') : fmt(s.last, { unit, decimals: o.decimals });
        } else if (by === 'score') {
          level = levelOf(s.score, o.thresholds || SCORE_THRESHOLDS);
          word = LEVELS[level].word;
          detail = s.score === null || s.score === undefined ? 'not scored yet' : 'score ' + s.score.toFixed(2);
        } else {
          level = levelOf(s.last, o.thresholds);
          word = LEVELS[level].word;
          detail = fmt(s.last, { unit, decimals: o.decimals });
        }
        if (s.lastSeen && panel.derive && panel.derive.op === 'lastSeen') detail += ' · seen ' + age(now - s.lastSeen) + ' ago';
        items.push({ s, level, word, detail });
      }
      keyed(tiles, items, x => x.s.key,
        x => h('li', { class: 'tile', dataset: { series: x.s.key } },
          h('span', { class: 'tile-name', text: x.s.label }),
          h('span', { class: 'tile-state' }, h('span', { class: 'tile-icon', 'aria-hidden': 'true' }), h('span', { class: 'tile-word' })),
          h('span', { class: 'tile-detail' })),
        (li, x) => {
          const L = LEVELS[x.level];
          li.className = 'tile ' + L.cls;
          li.dataset.level = x.level;
          li.children[1].className = 'tile-state ' + L.cls;
          li.querySelector('.tile-icon').textContent = L.icon;
          li.querySelector('.tile-word').textContent = x.word;
          li.children[2].textContent = x.detail;
        });
    };
    const off = ctx.alerts && by === 'alert' ? ctx.alerts.onChange(render) : null;
    const ticker = setInterval(render, 2000);
    return {
      update(view) {
        showViewState(el, msg, view);
        last = view;
        render();
      },
      resize() {},
      destroy() { clearInterval(ticker); if (off) off(); if (release) release(); last = null; clear(tiles); },
    };
  },
};

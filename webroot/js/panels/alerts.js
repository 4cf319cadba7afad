// Alerts panel: the live list of alerts (of query.stream, or of every stream the caller sees),
// firing and critical first, at most 200 held (AlertStore). With the alerts scope (whoami) and
// options.allowAck (default true) each one can be acknowledged (or the ack taken back) and its
// rule and series silenced for an hour, from the panel. An empty list says why: "No active
// alerts" only when the server answered; alerting off or no access is said as such.
// Options: {states: ["firing","acknowledged"], allowAck: true}.

import { h, clear, age } from '../format.js';

const SEV_WORD = { critical: 'Critical', warning: 'Warning', info: 'Info' };

export default {
  kind: 'alerts',
  create(el, panel, ctx) {
    const o = panel.options || {};
    // its stream, else the streams the dashboard's panels name (what a display of it may read too),
    // else every stream
    const named = (panel.query && panel.query.stream) || null;
    const stream = named || (ctx.streams && ctx.streams.length ? ctx.streams : null);
    const states = Array.isArray(o.states) && o.states.length ? o.states : ['firing', 'acknowledged'];
    const canAct = () => o.allowAck !== false && !!ctx.canAck;
    const list = h('ul', { class: 'alert-list', 'aria-label': panel.title || 'Alerts', 'aria-live': 'polite' });
    const empty = h('div', { class: 'alerts-empty', role: 'status' });
    el.append(list, empty);
    const busy = new Set();
    const store = ctx.alerts;

    const act = async (id, fn) => {
      busy.add(id);
      render();
      try {
        await fn();
      } catch (e) {
        if (ctx.onError) ctx.onError(e.message);
        empty.hidden = false;
        empty.textContent = 'Could not change the alert: ' + e.message;
      } finally {
        busy.delete(id);
        render();
      }
    };

    function render() {
      const all = store.list(stream, states);
      clear(list);
      const now = Date.now();
      for (const a of all) {
        const actions = h('div', { class: 'alert-actions' });
        if (canAct() && a.state !== 'resolved') {
          const dis = busy.has(a.id);
          if (a.state === 'firing') actions.append(h('button', { type: 'button', class: 'ack', disabled: dis, text: 'Acknowledge',
            onclick: () => act(a.id, () => store.ack(a.id, 'acknowledged from the wallboard')) }));
          if (a.state === 'acknowledged') actions.append(h('button', { type: 'button', class: 'unack', disabled: dis, text: 'Unacknowledge',
            onclick: () => act(a.id, () => store.unack(a.id)) }));
          if (!a.silenced) actions.append(h('button', { type: 'button', class: 'silence', disabled: dis, text: 'Silence 1 h',
            onclick: () => act(a.id, () => store.silence(a, '1h').then(() => store.load())) }));
        }
        const series = Object.entries(a.series || {}).map(([k, v]) => k + '=' + v).join(', ');
        const when = a.firedAt || a.startedAt || a.at;
        const stateWord = a.state + (a.silenced ? ' · silenced' : '') + (a.flapping ? ' · flapping' : '');
        list.append(h('li', { class: 'alert state-' + a.state, dataset: { id: a.id, state: a.state } },
          h('span', { class: 'alert-sev sev-' + (a.severity || 'info'), text: SEV_WORD[a.severity] || a.severity || 'Alert' }),
          h('div', { class: 'alert-main' },
            h('b', { text: a.ruleName || a.rule || 'alert' }),
            h('div', { class: 'alert-msg', text: (a.message || '') + (series && !(a.message || '').includes(series) ? ' · ' + series : '') }),
            h('div', { class: 'alert-state muted', text: stateWord + (when ? ' · ' + age(now - when) + ' ago' : '') })),
          actions));
      }
      empty.hidden = all.length > 0;
      list.hidden = all.length === 0;
      empty.className = 'alerts-empty';
      if (!all.length) {
        if (store.status === 'ok') { empty.textContent = '✓ No active alerts' + (stream ? ' on ' + [].concat(stream).join(', ') : ''); empty.classList.add('clear'); }
        else if (store.status === 'disabled') empty.textContent = 'Alerting is not enabled on this server';
        else if (store.status === 'forbidden') empty.textContent = 'This token may not read alerts';
        else if (store.status === 'error') empty.textContent = 'Alert status unavailable: ' + store.error;
        else empty.textContent = 'Checking alert status…';
      }
      el.dataset.alerts = String(all.length);
    }

    const off = store.onChange(render);
    const ticker = setInterval(render, 5000);
    render();
    return {
      update() { render(); },
      resize() {},
      destroy() { off(); clearInterval(ticker); clear(list); },
    };
  },
};

// Kiosk mode (issue 14, contract section 7): `?kiosk` / `kiosk=1` hides the chrome, dark theme,
// type scaled by the viewport (readable from three metres on 1080p and 4K), cursor hidden when idle;
// `?playlist=<id>` rotates the playlist's dashboards at its interval, fetching the next one ahead,
// the leaving dashboard's panels destroyed (app.openDashboard replaces them). A display token that
// is refused (401: revoked or expired) gives one plain full-screen message, never a login form, and
// a slow retry (every few minutes) instead of a fast loop.
//
//   import('./kiosk.js').then(m => m.start(app))

import {watchDashboard} from './watch.js';

export const REVOKED_TEXT = "This display's access was revoked or has expired";
const IDLE_CURSOR_MS = 3000;
const SLOW_RETRY_MS = 5 * 60_000;
const PRELOAD_AHEAD_MS = 5000;

/** "30s", "2m", "1h" -> ms; null when unreadable. */
export function durationMs(s) {
  if (typeof s === 'number') return s;
  const m = /^(\d+)(ms|s|m|h)$/.exec(String(s || '').trim());
  if (!m) return null;
  return Number(m[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[m[2]];
}

export function isKiosk(search = location.search) {
  const p = new URLSearchParams(search);
  return p.has('kiosk') && p.get('kiosk') !== '0' && p.get('kiosk') !== 'false';
}

function stylesheet(href) {
  if (![...document.querySelectorAll('link[rel=stylesheet]')].some(l => l.getAttribute('href') === href)) {
    const l = document.createElement('link');
    l.rel = 'stylesheet';
    l.href = href;
    document.head.append(l);
  }
}

export function start(app) {
  const k = new Kiosk(app);
  k.start();
  window.__pulseKiosk = k;
  return k;
}

class Kiosk {
  constructor(app) {
    this.app = app;
    this.params = new URLSearchParams(location.search);
    this.kiosk = isKiosk();
    this.playlistId = this.params.get('playlist');
    this.timers = new Set();
    this.stopped = false;
    this.revoked = false;
    this.rotations = 0;
    this.index = 0;
    this.prefetched = null; // {id, doc} of the next dashboard
    this.watch = null;
  }

  start() {
    if (this.kiosk) this.chromeOff();
    if (this.app.api && typeof this.app.api.onRevoked === 'function') {
      this.app.api.onRevoked(() => this.onRevoked());
    }
    if (this.playlistId) this.playlist();
    else if (this.kiosk) this.watchCurrent();
  }

  later(fn, ms) {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
    return t;
  }

  stop() {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    if (this.watch) this.watch.stop();
  }

  // ---- chrome, theme, cursor ----

  chromeOff() {
    stylesheet('/css/kiosk.css');
    const root = document.documentElement;
    root.classList.add('pk-kiosk');
    root.dataset.theme = 'dark';
    let idle = null;
    const wake = () => {
      root.classList.remove('pk-idle');
      clearTimeout(idle);
      idle = setTimeout(() => root.classList.add('pk-idle'), IDLE_CURSOR_MS);
    };
    for (const ev of ['mousemove', 'pointerdown', 'keydown', 'touchstart']) window.addEventListener(ev, wake, {passive: true});
    wake();
  }

  // ---- a single dashboard: pick up saved changes ----

  watchCurrent() {
    const cur = typeof this.app.current === 'function' ? this.app.current() : null;
    const doc = cur && (cur.doc || cur);
    if (!doc || !doc.id) {
      if (!this.stopped && !this.revoked) this.later(() => this.watchCurrent(), 1000);
      return;
    }
    if (this.watch) this.watch.stop();
    this.watch = watchDashboard(this.app, doc.id, doc.version, d => this.show(doc.id, d).then(() => this.watchCurrent()), cur.doc || null);
  }

  // ---- playlists ----

  async playlist() {
    let pl;
    try {
      pl = await this.app.api.request('GET', '/api/v1/playlists/' + encodeURIComponent(this.playlistId));
    } catch (e) {
      if (e.status === 401) return; // onRevoked shows the message
      this.message(e.status === 404 ? `No playlist ${this.playlistId}` : `The playlist could not be read: ${e.message}`,
          'pk-error');
      this.later(() => { this.clearMessage(); this.playlist(); }, e.status === 404 ? SLOW_RETRY_MS : 15_000);
      return;
    }
    const ids = (pl.dashboards || []).filter(x => typeof x === 'string');
    const interval = Math.max(10_000, durationMs(pl.interval) || 30_000);
    this.plan = {ids, interval, version: pl.version, title: pl.title};
    if (!ids.length) { this.message('This playlist has no dashboards', 'pk-error'); return; }
    this.index = 0;
    this.progress(interval);
    await this.show(ids[0], null);
    this.schedule();
  }

  schedule() {
    const {ids, interval} = this.plan;
    if (ids.length < 2 || this.stopped) {
      // one dashboard: nothing rotates; re-read the playlist now and then for changes
      this.later(() => this.refreshPlaylist(), Math.max(interval, 60_000));
      return;
    }
    const next = (this.index + 1) % ids.length;
    this.later(() => this.prefetch(ids[next]), Math.max(0, interval - PRELOAD_AHEAD_MS));
    this.later(() => this.advance(), interval);
  }

  async prefetch(id) {
    if (this.stopped || this.revoked) return;
    try {
      if (typeof this.app.preloadDashboard === 'function') {
        this.prefetched = {id, doc: await this.app.preloadDashboard(id)};
      } else {
        this.prefetched = {id, doc: await this.app.api.request('GET', '/api/v1/dashboards/' + encodeURIComponent(id))};
      }
    } catch (e) {
      this.prefetched = null; // shown anyway at its turn, fetched then
    }
  }

  async advance() {
    if (this.stopped || this.revoked) return;
    const {ids, interval} = this.plan;
    this.index = (this.index + 1) % ids.length;
    const id = ids[this.index];
    const pre = this.prefetched && this.prefetched.id === id ? this.prefetched.doc : null;
    this.prefetched = null;
    this.rotations++;
    this.progress(interval);
    await this.show(id, pre);
    // every full turn, re-read the playlist (it may have been edited)
    if (this.index === 0) { await this.refreshPlaylist(true); return; }
    this.schedule();
  }

  async refreshPlaylist(fromRotation) {
    if (this.stopped || this.revoked) return;
    try {
      const pl = await this.app.api.request('GET', '/api/v1/playlists/' + encodeURIComponent(this.playlistId));
      const ids = (pl.dashboards || []).filter(x => typeof x === 'string');
      if (ids.length) {
        const changed = ids.join('\n') !== this.plan.ids.join('\n');
        this.plan = {ids, interval: Math.max(10_000, durationMs(pl.interval) || 30_000), version: pl.version, title: pl.title};
        if (changed && !fromRotation) { this.index = 0; await this.show(ids[0], null); }
      }
    } catch (e) {
      if (e.status === 401) return;
    }
    this.schedule();
  }

  async show(id, doc) {
    if (this.stopped || this.revoked) return;
    try {
      document.documentElement.dataset.kioskDashboard = id;
      await this.app.openDashboard(id, doc || undefined);
    } catch (e) {
      if (e && e.status === 401) return;
      // a dashboard that fails stays on screen with the page's own error; the rotation goes on
    }
  }

  progress(ms) {
    let bar = document.getElementById('pk-progress');
    if (!bar) {
      bar = document.createElement('div');
      bar.id = 'pk-progress';
      bar.setAttribute('aria-hidden', 'true');
      document.body.append(bar);
    }
    bar.style.animation = 'none';
    void bar.offsetWidth; // restart the animation
    bar.style.animation = `pk-progress ${ms}ms linear forwards`;
  }

  // ---- a refused token ----

  onRevoked() {
    if (this.revoked) return;
    this.revoked = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    if (this.watch) this.watch.stop();
    this.message(REVOKED_TEXT, 'pk-revoked');
    this.slowRetry();
  }

  /**
   * Every few minutes (jittered), one request with the same token; when it is accepted again (a 401
   * that was the server's passing state, such as keys not loaded yet after a restart), the page
   * starts over with the token back in its URL (the page took it out of the address bar).
   */
  slowRetry() {
    const wait = SLOW_RETRY_MS * (0.75 + Math.random() * 0.5);
    this.nextRetryAt = Date.now() + wait; // when the token is tried again (read by the browser tests)
    this.later(async () => {
      try {
        await this.app.api.request('GET', '/api/v1/whoami');
        const u = new URLSearchParams(location.search);
        if (this.app.api.token) u.set('access_token', this.app.api.token);
        location.replace(location.pathname + '?' + u.toString());
      } catch (e) {
        this.slowRetry();
      }
    }, wait);
  }

  message(text, cls) {
    let m = document.getElementById('pk-message');
    if (!m) {
      m = document.createElement('div');
      m.id = 'pk-message';
      m.setAttribute('role', 'alert');
      document.body.append(m);
    }
    m.className = cls;
    m.textContent = text;
    m.hidden = false;
  }

  clearMessage() {
    const m = document.getElementById('pk-message');
    if (m) m.hidden = true;
  }
}

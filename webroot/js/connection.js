// ONE WebSocket for every panel of the page (/api/v1/live/ws): subscribe/unsubscribe by id, and
// through drops and server restarts it reconnects by itself (backoff 0.5 s doubling to 10 s, each
// delay times a random 0.5-1.5 so a room of screens does not reconnect in step) and resubscribes
// every subscription with since= = what its owner last holds complete (resumeSince()), so the
// server replays the stored windows in between: no gap.
//
// Liveness: the server sends a heartbeat every 15 s and answers our pings (every 10 s when idle);
// nothing at all for 25 s means a dead link even if the socket has not noticed: it is dropped and
// reconnected. Staleness: `staleSince` (epoch ms, 0 when fresh) is set when the link is lost, or
// when no rollup came for `dataStaleMs` while subscriptions exist; the page shows
// "stale since HH:MM:SS" from it instead of letting numbers freeze silently.
// Freshness: event-to-screen delay = the screen's time (corrected by the server clock from
// heartbeats and pongs) minus the newest event time of a rollup (`latest`), measured when the
// rollup's figures have been painted (markPainted()).

const BACKOFF_MIN_MS = 500;
// a wallboard wants its server back within seconds of a restart; the jitter keeps a room of
// screens from reconnecting in step
const BACKOFF_MAX_MS = 10000;
const CONNECT_TIMEOUT_MS = 10000;
const PING_MS = 10000;
const DEAD_AFTER_MS = 25000;
const PROVEN_AFTER_MS = 5000;

export class Connection {
  constructor({ token = '', path = '/api/v1/live/ws', dataStaleMs = 20000 } = {}) {
    this.token = token;
    this.path = path;
    this.dataStaleMs = dataStaleMs;
    this.ws = null;
    this.state = 'connecting';        // connecting | live | reconnecting | closed
    this.subs = new Map();            // id -> {id, spec, handler, status: pending|live|error, error}
    this.seq = 0;
    this.attempt = 0;
    this.everLive = false;
    this.reconnects = 0;
    this.rollups = 0;
    this.clockOffset = 0;             // server clock - this clock (ms)
    this.lastMessageAt = 0;           // performance.now()
    this.openedAt = 0;
    this.lastDataAt = 0;              // Date.now() of the last rollup
    this.lostAt = 0;                  // Date.now() when the link was lost (0 while live)
    this.staleSince = 0;
    this.closingReason = '';
    this.freshnessMs = null;          // last measured event-to-screen delay
    this.pendingFresh = null;         // newest `latest` not yet painted
    this.newestEvent = -Infinity;     // newest event time of any live rollup
    this.listeners = { state: new Set(), alert: new Set(), stale: new Set() };
    this.timers = { reconnect: 0, connect: 0, tick: 0 };
    this.reconnectAt = 0;
  }

  on(kind, fn) { this.listeners[kind].add(fn); return () => this.listeners[kind].delete(fn); }
  emit(kind, arg) { for (const fn of this.listeners[kind]) { try { fn(arg); } catch (e) { console.error(e); } } }

  start() {
    if (this.timers.tick) return this;
    this.timers.tick = setInterval(() => this.tick(), 1000);
    this.connect();
    return this;
  }

  stop() {
    clearInterval(this.timers.tick);
    clearTimeout(this.timers.reconnect);
    clearTimeout(this.timers.connect);
    this.timers = { reconnect: 0, connect: 0, tick: 0 };
    const ws = this.ws;
    this.ws = null;
    if (ws) { ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null; try { ws.close(); } catch (e) { /* gone */ } }
    this.setState('closed');
  }

  serverNow() { return Date.now() + this.clockOffset; }

  url() {
    const u = new URL(this.path, location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = this.token ? '?access_token=' + encodeURIComponent(this.token) : '';
    u.hash = '';
    return u.toString();
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  connect() {
    clearTimeout(this.timers.reconnect);
    this.timers.reconnect = 0;
    this.setState(this.everLive ? 'reconnecting' : 'connecting');
    let sock;
    // the first time: the socket early.js opened while the modules loaded, with what it got meanwhile
    const early = !this.everLive && this.attempt === 0 && window.__pulseEarly ? window.__pulseEarly.takeSocket(this.url()) : null;
    try { sock = early ? early.sock : new WebSocket(this.url()); } catch (e) { this.scheduleReconnect(); return; }
    this.ws = sock;
    clearTimeout(this.timers.connect);
    this.timers.connect = setTimeout(() => {
      if (this.ws === sock && sock.readyState === WebSocket.CONNECTING) this.drop(sock);
    }, CONNECT_TIMEOUT_MS);
    sock.onopen = () => {
      if (this.ws !== sock) return;
      clearTimeout(this.timers.connect);
      this.everLive = true;
      this.closingReason = '';
      this.lostAt = 0;
      this.lastMessageAt = this.openedAt = performance.now();
      this.setState('live');
      for (const s of this.subs.values()) this.sendSubscribe(s, true);
      this.updateStale();
    };
    sock.onmessage = ev => { if (this.ws === sock) this.onMessage(ev.data); };
    sock.onclose = ev => {
      if (this.ws !== sock) return;
      this.ws = null;
      if (ev && ev.code === 4401) this.closingReason = this.closingReason || 'token revoked';
      this.scheduleReconnect();
    };
    sock.onerror = () => { /* a close event follows */ };
    if (early && sock.readyState === WebSocket.OPEN) {
      sock.onopen();
      for (const data of early.messages) this.onMessage(data);
    }
  }

  drop(sock) {
    if (this.ws !== sock) return;
    this.ws = null;
    sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
    try { sock.close(); } catch (e) { /* already gone */ }
    this.scheduleReconnect();
  }

  /** Delay of the next attempt: 0.5 s doubling to 10 s, times a random factor in [0.5, 1.5). */
  static backoff(attempt, rnd = Math.random()) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    return Math.round(base * (0.5 + rnd));
  }

  scheduleReconnect() {
    if (this.timers.reconnect || this.state === 'closed') return;
    for (const s of this.subs.values()) if (s.status === 'live') s.status = 'pending';
    if (this.everLive && !this.lostAt) this.lostAt = Date.now();
    this.reconnects++;
    const delay = Connection.backoff(this.attempt++);
    this.reconnectAt = performance.now() + delay;
    this.setState(this.everLive ? 'reconnecting' : 'connecting');
    this.updateStale();
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  /**
   * spec: {stream, groupBy, filter, metrics, since}; handler: {onRollup(m), onSubscribed(m),
   * onHistory(m), onError(message), onAlert(m), resumeSince() -> epoch ms | null}.
   * Returns {id, close()}.
   */
  subscribe(spec, handler) {
    const id = 's' + (++this.seq);
    const s = { id, spec, handler, status: 'pending', error: null };
    this.subs.set(id, s);
    this.sendSubscribe(s, false);
    return { id, close: () => this.unsubscribe(id) };
  }

  sendSubscribe(s, resume) {
    const op = { op: 'subscribe', id: s.id, stream: s.spec.stream };
    if (s.spec.groupBy && s.spec.groupBy.length) op.groupBy = s.spec.groupBy.slice();
    if (s.spec.filter && Object.keys(s.spec.filter).length) op.filter = s.spec.filter;
    if (s.spec.metrics && s.spec.metrics.length) op.metrics = s.spec.metrics.slice();
    let since = s.spec.since;
    if (resume && s.handler.resumeSince) {
      const r = s.handler.resumeSince();
      if (r !== null && r !== undefined) since = r;
    }
    if (since !== null && since !== undefined) op.since = since;
    s.status = 'pending';
    s.error = null;
    s.sentSince = op.since === undefined ? null : op.since;
    this.send(op);
  }

  unsubscribe(id) {
    if (!this.subs.delete(id)) return;
    this.send({ op: 'unsubscribe', id });
    this.updateStale();
  }

  onMessage(data) {
    this.lastMessageAt = performance.now();
    if (this.lastMessageAt - this.openedAt > PROVEN_AFTER_MS) this.attempt = 0;
    let m;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    const s = m.sub ? this.subs.get(m.sub) : null;
    switch (m.type) {
      case 'rollup':
        this.rollups++;
        if (!m.history) {
          this.lastDataAt = Date.now();
          const latest = Number(m.latest);
          if (Number.isFinite(latest) && latest > this.newestEvent) { this.newestEvent = latest; this.pendingFresh = latest; }
        }
        if (s && s.handler.onRollup) s.handler.onRollup(m);
        if (this.staleSince) this.updateStale();
        break;
      case 'alert':
        if (s && s.handler.onAlert) s.handler.onAlert(m);
        this.emit('alert', m);
        break;
      case 'subscribed':
        if (s) { s.status = 'live'; s.warnings = m.warnings || []; if (s.handler.onSubscribed) s.handler.onSubscribed(m); }
        break;
      case 'history':
        if (s && s.handler.onHistory) s.handler.onHistory(m);
        break;
      case 'error':
        if (s) {
          s.status = 'error';
          s.error = m.error || 'unknown error';
          if (s.handler.onError) s.handler.onError(s.error);
        } else if (!m.sub) {
          console.warn('live feed error:', m.error);
        }
        break;
      case 'heartbeat':
      case 'pong':
        if (Number.isFinite(m.at)) this.clockOffset = m.at - Date.now();
        break;
      case 'closing':
        this.closingReason = m.reason || 'server restarting';
        break;
      default:
        break;
    }
  }

  /**
   * Called by the page once a frame with new figures is on screen: the event-to-screen delay of the
   * newest event painted (its time to this moment, on the server's clock).
   */
  markPainted() {
    if (this.pendingFresh === null) return;
    this.freshnessMs = Math.max(0, this.serverNow() - this.pendingFresh);
    this.pendingFresh = null;
  }

  hasLiveSubs() {
    for (const s of this.subs.values()) if (s.status !== 'error') return true;
    return false;
  }

  updateStale() {
    let since = 0;
    if (this.lostAt) since = this.lostAt;
    else if (this.state === 'live' && this.hasLiveSubs() && this.lastDataAt && Date.now() - this.lastDataAt > this.dataStaleMs) since = this.lastDataAt;
    if (since !== this.staleSince) {
      this.staleSince = since;
      this.emit('stale', since);
    }
  }

  tick() {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      const quiet = performance.now() - this.lastMessageAt;
      if (quiet > DEAD_AFTER_MS) { this.drop(ws); return; }
      if (quiet > PING_MS / 2 && performance.now() - (this.lastPingAt || 0) > PING_MS) {
        this.lastPingAt = performance.now();
        this.send({ op: 'ping' });
      }
    }
    this.updateStale();
  }
}

// What the page asks for first, asked for before its modules have arrived (issue 14: first data
// within a second). This module imports nothing, so it runs as soon as it is here, while main.js
// and its imports are still loading: it starts the API reads every page makes at boot (the
// dashboard of ?dashboard=, the stream catalogue, whoami, the alerts) and opens the live socket.
// api.js takes a response from here instead of fetching again (takeResponse), connection.js
// takes the socket (takeSocket) with the messages it got meanwhile; whatever nobody takes is
// dropped after a few seconds. The requests are those api.js and connection.js would make (same
// URL, same token), so that what is taken is exactly what would have been asked.

const TOKEN_KEY = 'pulse.access_token';
const KEEP_MS = 10000;

const params = new URLSearchParams(location.search);
let token = params.get('access_token');
if (!token) { try { token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { token = ''; } }

const responses = new Map();   // path -> Promise<Response | null>
let socket = null;             // {url, sock, messages: [data]}

function ask(path) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  responses.set(path, fetch(path, { method: 'GET', headers, cache: 'no-store' }).catch(() => null));
}

function socketUrl() {
  const u = new URL('/api/v1/live/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = token ? '?access_token=' + encodeURIComponent(token) : '';
  u.hash = '';
  return u.toString();
}

// nothing to start ahead of main.js once it has booted (this module came late)
if (!window.__pulse) {
  const dashboard = params.get('dashboard');
  if (dashboard) ask('/api/v1/dashboards/' + encodeURIComponent(dashboard));
  else if (!params.has('playlist')) ask('/api/v1/dashboards');
  ask('/api/v1/streams');
  ask('/api/v1/whoami');
  ask('/api/v1/alerts');
  try {
    const url = socketUrl();
    const sock = new WebSocket(url);
    const messages = [];
    sock.onmessage = ev => { if (messages.length < 100) messages.push(ev.data); };
    socket = { url, sock, messages };
  } catch (e) {
    socket = null;
  }
}

// not taken in time (the page failed to load, or went elsewhere): let go
setTimeout(() => {
  responses.clear();
  if (socket) { try { socket.sock.close(); } catch (e) { /* gone */ } socket = null; }
}, KEEP_MS);

window.__pulseEarly = {
  /** The response of a GET of `path` started here (a Promise of a Response, or null), once. */
  takeResponse(path) {
    const p = responses.get(path);
    if (!p) return null;
    responses.delete(path);
    return p;
  },
  /** The socket opened here for `url` if it is still open or opening: {sock, messages}, once. */
  takeSocket(url) {
    const s = socket;
    socket = null;
    if (!s || s.url !== url || s.sock.readyState > 1) {
      if (s) { try { s.sock.close(); } catch (e) { /* gone */ } }
      return null;
    }
    s.sock.onmessage = null;
    return s;
  },
};

// The REST API from the page: fetch with the token (a display token from the URL is kept here, in
// memory only), JSON in and out, errors as ApiError with the server's reason. A 401 means the
// token was refused, revoked or has expired: the page then shows one plain message (onRevoked) and
// never a login form, since a wallboard has nobody to log in.

export const REVOKED_MESSAGE = "This display's access was revoked or has expired";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || null;
  }
}

/** Query string from an object; arrays repeat the key, null/undefined/'' are left out. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) { for (const x of v) u.append(k, String(x)); } else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

export function createApi({ token = '', timeoutMs = 15000 } = {}) {
  const listeners = new Set();
  const api = {
    token,
    calls: 0,
    /** fn(error) on every 401. */
    onRevoked(fn) { listeners.add(fn); return () => listeners.delete(fn); },

    async request(method, path, { body, params, headers, signal } = {}) {
      const h = Object.assign({ Accept: 'application/json' }, headers || {});
      if (api.token) h.Authorization = 'Bearer ' + api.token;
      if (body !== undefined) h['Content-Type'] = 'application/json';
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), timeoutMs);
      if (signal) signal.addEventListener('abort', () => ac.abort(), { once: true });
      api.calls++;
      let res;
      // a GET that early.js started before this module had loaded: its response, once
      const early = method === 'GET' && body === undefined && !headers && !signal && window.__pulseEarly
        ? window.__pulseEarly.takeResponse(path + qs(params)) : null;
      try {
        if (early) res = await early;
        if (!res) res = await fetch(path + qs(params), {
          method, headers: h, cache: 'no-store', signal: ac.signal,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new ApiError(0, signal && signal.aborted ? 'cancelled' : 'the server could not be reached');
      } finally {
        clearTimeout(timer);
      }
      let json = null;
      const text = await res.text().catch(() => '');
      if (text) { try { json = JSON.parse(text); } catch (e) { json = null; } }
      if (!res.ok) {
        const why = (json && typeof json.error === 'string' && json.error) || ('HTTP ' + res.status);
        const err = new ApiError(res.status, why, json);
        err.etag = res.headers.get('ETag');
        if (res.status === 401) for (const fn of listeners) { try { fn(err); } catch (e) { /* a listener's own problem */ } }
        throw err;
      }
      if (json && typeof json === 'object') {
        const etag = res.headers.get('ETag');
        if (etag) Object.defineProperty(json, '__etag', { value: etag, enumerable: false });
      }
      return json;
    },
    get(path, params, opts) { return api.request('GET', path, Object.assign({ params }, opts)); },
    post(path, body, opts) { return api.request('POST', path, Object.assign({ body: body === undefined ? {} : body }, opts)); },
    put(path, body, opts) { return api.request('PUT', path, Object.assign({ body }, opts)); },
    del(path, opts) { return api.request('DELETE', path, opts || {}); },
  };
  return api;
}

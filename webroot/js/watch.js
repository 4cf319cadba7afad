// Picks up a dashboard saved elsewhere (the editor in another browser): polls the dashboard's
// version every few seconds and reopens it when the version moves. One small GET per period per
// open page; nothing is kept but the last version seen. A hidden tab polls at a quarter of the pace.

const DEFAULT_PERIOD_MS = 5000;

/**
 * @param app the page's app (app.api.request, app.openDashboard)
 * @param id the dashboard shown
 * @param version the version shown
 * @param onChange (doc) => void, called with the newer document; defaults to app.openDashboard(id, doc)
 * @param shown the document object on screen: the watch stops by itself once app.current() shows
 *   another one (the page moved on), so the page needs no code to stop it
 * @returns {stop()}
 */
export function watchDashboard(app, id, version, onChange, shown, periodMs = DEFAULT_PERIOD_MS) {
  let seen = version;
  let timer = null;
  let stopped = false;
  let inflight = false;
  const change = onChange || (doc => app.openDashboard(id, doc));
  const moved = () => {
    if (!shown || typeof app.current !== 'function') return false;
    const c = app.current();
    return !c || c.doc !== shown;
  };
  const tick = async () => {
    if (stopped) return;
    if (moved()) { stopped = true; return; }
    // while the editor is open its Save handles conflicts; reopening would throw the edit away
    if (inflight || document.querySelector('.pe-editing')) return schedule();
    inflight = true;
    try {
      const doc = await app.api.request('GET', '/api/v1/dashboards/' + encodeURIComponent(id));
      if (!stopped && !moved() && !document.querySelector('.pe-editing') && doc && typeof doc.version === 'number'
          && seen != null && doc.version !== seen) {
        seen = doc.version;
        stopped = true; // the reopened dashboard starts its own watch
        change(doc);
        return;
      }
      if (doc && typeof doc.version === 'number') seen = doc.version;
    } catch (e) {
      // a 401 is the api module's to show; anything else: try again next period
      if (e && e.status === 401) { stopped = true; return; }
    } finally {
      inflight = false;
    }
    schedule();
  };
  const schedule = () => {
    if (stopped) return;
    const p = document.hidden ? periodMs * 4 : periodMs;
    timer = setTimeout(tick, p * (0.8 + Math.random() * 0.4));
  };
  schedule();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    get version() { return seen; },
  };
}

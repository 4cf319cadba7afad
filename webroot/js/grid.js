// The 12-column grid (contract section 1: panel.grid {x, y, w, h}): each panel is a <section> placed
// by CSS grid lines from custom properties (set through the CSSOM, which the page's CSP allows);
// on a narrow screen the stylesheet stacks them. A ResizeObserver tells each panel its body size.

import { h } from './format.js';

export const COLUMNS = 12;

export function clampGrid(g) {
  const x = Math.max(0, Math.min(COLUMNS - 1, Math.floor(Number(g && g.x) || 0)));
  const w = Math.max(1, Math.min(COLUMNS - x, Math.floor(Number(g && g.w) || 4)));
  const y = Math.max(0, Math.floor(Number(g && g.y) || 0));
  const hh = Math.max(1, Math.min(24, Math.floor(Number(g && g.h) || 4)));
  return { x, y, w, h: hh };
}

/**
 * Lays `panels` out in `container`. Returns one cell per panel: {panel, el, head, title, badge, body,
 * onResize(fn)} and a destroy() that stops observing.
 */
export function layout(container, panels) {
  container.classList.add('grid');
  const cells = [];
  const byEl = new Map();
  const ro = new ResizeObserver(entries => {
    for (const e of entries) {
      const c = byEl.get(e.target);
      if (c && c.resize) c.resize(Math.floor(e.contentRect.width), Math.floor(e.contentRect.height));
    }
  });
  for (const p of panels) {
    const g = clampGrid(p.grid);
    const title = h('h2', { class: 'panel-title', text: p.title || '' });
    const badge = h('span', { class: 'panel-badge', hidden: true });
    const head = h('header', { class: 'panel-head' }, title, badge);
    const body = h('div', { class: 'panel-body' });
    const el = h('section', { class: 'panel kind-' + p.kind, 'aria-label': p.title || p.kind,
      dataset: { panel: p.id || '', kind: p.kind || '' } }, head, body);
    el.style.setProperty('--x', String(g.x + 1));
    el.style.setProperty('--y', String(g.y + 1));
    el.style.setProperty('--w', String(g.w));
    el.style.setProperty('--h', String(g.h));
    container.append(el);
    const cell = {
      panel: p, el, head, title, badge, body, resize: null,
      onResize(fn) { cell.resize = fn; },
      setBadge(text, level) {
        badge.textContent = text || '';
        badge.hidden = !text;
        badge.className = 'panel-badge' + (level ? ' badge-' + level : '');
      },
    };
    byEl.set(body, cell);
    ro.observe(body);
    cells.push(cell);
  }
  return {
    cells,
    destroy() { ro.disconnect(); byEl.clear(); },
  };
}

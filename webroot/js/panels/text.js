// Text panel: options.text as plain text (never HTML); blank lines make paragraphs.

import { h } from '../format.js';

export default {
  kind: 'text',
  create(el, panel) {
    const text = String((panel.options && panel.options.text) || '').slice(0, 4000);
    const box = h('div', { class: 'text-panel' });
    for (const para of text.split(/\n\s*\n/)) if (para.trim()) box.append(h('p', { text: para.trim() }));
    el.append(box);
    return { update() {}, resize() {}, destroy() {} };
  },
};

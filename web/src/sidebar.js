// sidebar.js: the conversation list (newest first): open, rename inline, export one, delete (click twice).
import { h } from './dom.js';

export function renderConversationList(list, conversations, currentId, handlers) {
  const items = conversations.map((c) => {
    const name = c.title || 'Untitled';
    const title = h('button', { class: 'conv-title', type: 'button', title: name, text: name,
      onclick: () => handlers.onOpen(c.id) });
    const li = h('li', { class: `conv${c.id === currentId ? ' active' : ''}`, dataset: { id: c.id } });
    const startRename = () => {
      const input = h('input', { class: 'conv-rename-input', 'aria-label': 'New title', maxlength: 500 });
      input.value = c.title || '';
      let done = false;
      const finish = (save) => {
        if (done) return;
        done = true;
        const value = input.value.trim();
        if (save && value && value !== c.title) handlers.onRename(c.id, value);
        else input.replaceWith(title);
      };
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); finish(true); }
        if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); finish(false); }
      });
      input.addEventListener('blur', () => finish(true));
      title.replaceWith(input);
      input.focus();
      input.select();
    };
    const del = h('button', { class: 'btn icon act-delete', type: 'button', title: 'Delete', text: '✕' });
    let armed = null;
    del.addEventListener('click', () => {
      if (armed) { clearTimeout(armed); handlers.onDelete(c.id); return; }
      del.textContent = 'Delete?';
      del.classList.add('danger');
      armed = setTimeout(() => { armed = null; del.textContent = '✕'; del.classList.remove('danger'); }, 3000);
    });
    li.append(title, h('span', { class: 'conv-actions' },
      h('button', { class: 'btn icon act-rename', type: 'button', title: 'Rename', text: '✎', onclick: startRename }),
      h('button', { class: 'btn icon act-export-json', type: 'button', title: 'Export as JSON', text: '⤓',
        onclick: () => handlers.onExport(c.id, 'json') }),
      h('button', { class: 'btn icon act-export-md', type: 'button', title: 'Export as Markdown', text: 'M↓',
        onclick: () => handlers.onExport(c.id, 'md') }),
      del));
    return li;
  });
  list.replaceChildren(...items);
  if (!conversations.length) list.append(h('li', { class: 'empty', text: 'No conversations' }));
}

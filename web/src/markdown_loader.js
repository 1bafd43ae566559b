// markdown_loader.js: the markdown stack (marked, DOMPurify, highlight.js: most of the page's bytes) is its own
// file (web/build.mjs), not preloaded: it starts loading when app.js runs, so the input box works before it arrives.
// Until then, text is shown plain and rendered as soon as the module is there.
let module = null;
const pending = new Map();  // element -> the latest text asked for it
export const markdownReady = import('./markdown.js').then((m) => {
  module = m;
  for (const [element, text] of pending) {
    element.classList.remove('lazy');
    m.setMarkdown(element, text);
  }
  pending.clear();
  return m;
});

export function setMarkdown(element, text) {
  if (module) {
    module.setMarkdown(element, text);
    return;
  }
  element.textContent = text;
  element.classList.add('lazy');
  pending.set(element, text);
}

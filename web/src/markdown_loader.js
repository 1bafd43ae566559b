// markdown_loader.js: the markdown stack (marked, DOMPurify, highlight.js: most of the page's bytes) is its own
// file (web/build.mjs), not preloaded and not loaded until the input box is on screen: main.js calls loadMarkdown()
// after the first frame that shows it, and the first setMarkdown() before that would start it too. Until it is there, text is shown plain and
// rendered as soon as the module arrives.
let module = null;
let loading = null;
const pending = new Map();  // element -> the latest text asked for it

// Starts loading the markdown stack (once); resolves to the module.
export function loadMarkdown() {
  if (!loading) {
    loading = import('./markdown.js').then((m) => {
      module = m;
      for (const [element, text] of pending) {
        element.classList.remove('lazy');
        m.setMarkdown(element, text);
      }
      pending.clear();
      return m;
    });
  }
  return loading;
}

export function setMarkdown(element, text) {
  if (module) {
    module.setMarkdown(element, text);
    return;
  }
  element.textContent = text;
  element.classList.add('lazy');
  pending.set(element, text);
  loadMarkdown();
}

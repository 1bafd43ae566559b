// markdown.js: untrusted text -> safe HTML. marked parses, highlight.js colours code, DOMPurify cleans the result.
//
// Two layers: (1) raw HTML inside the markdown is shown as text, never parsed as HTML (a model writing "<b>" or
// "<img onerror=...>" gets those characters on screen), and images become links; (2) the HTML that marked makes
// goes through DOMPurify before innerHTML, with a narrow allow-list: no images, forms, styles, SVG/MathML or event
// handlers; links only http(s)/mailto, opened in a new tab without referrer. Layer 1 also keeps the strict CSP
// quiet: DOMPurify's inert parse of an inline handler would otherwise be reported as a CSP violation.
import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';

// The 12 languages load on demand (each its own chunk, esbuild code splitting): a code block in a language not
// loaded yet is shown plain, its language starts loading, and the elements that showed it plain are rendered again
// once it is there. Names and aliases as highlight.js registers them.
const LANGUAGES = {
  bash: [() => import('highlight.js/lib/languages/bash'), 'sh', 'zsh', 'shell'],
  cpp: [() => import('highlight.js/lib/languages/cpp'), 'cc', 'c++', 'h++', 'hpp', 'hh', 'hxx', 'cxx', 'c'],
  javascript: [() => import('highlight.js/lib/languages/javascript'), 'js', 'jsx', 'mjs', 'cjs'],
  typescript: [() => import('highlight.js/lib/languages/typescript'), 'ts', 'tsx', 'mts', 'cts'],
  json: [() => import('highlight.js/lib/languages/json'), 'jsonc'],
  python: [() => import('highlight.js/lib/languages/python'), 'py', 'gyp', 'ipython'],
  rust: [() => import('highlight.js/lib/languages/rust'), 'rs'],
  sql: [() => import('highlight.js/lib/languages/sql')],
  xml: [() => import('highlight.js/lib/languages/xml'), 'html', 'xhtml', 'rss', 'atom', 'xjb', 'xsd', 'xsl', 'plist',
    'wsf', 'svg'],
  css: [() => import('highlight.js/lib/languages/css')],
  go: [() => import('highlight.js/lib/languages/go'), 'golang'],
  java: [() => import('highlight.js/lib/languages/java'), 'jsp'],
};
const languageOf = new Map();  // name or alias -> language name
for (const [name, [, ...aliases]] of Object.entries(LANGUAGES)) {
  languageOf.set(name, name);
  for (const alias of aliases) languageOf.set(alias, name);
}
const loading = new Map();      // language name -> Promise (settled once registered or failed)
const waiting = new Map();      // language name -> Map(element -> the text it showed plain)
const sources = new WeakMap();  // element -> the markdown it was last set to
let renderingInto = null;       // the element setMarkdown is filling (for waiting)

function loadLanguage(name) {
  if (!loading.has(name)) {
    loading.set(name, LANGUAGES[name][0]().then((m) => {
      hljs.registerLanguage(name, m.default);
      const rerender = waiting.get(name) || new Map();
      waiting.delete(name);
      for (const [element, text] of rerender) {
        if (element.isConnected && sources.get(element) === text) setMarkdown(element, text);
      }
    }, () => { waiting.delete(name); }));
  }
  return loading.get(name);
}

// The language to highlight a fence with: registered now, or null (and, when it is one we ship, loading).
function highlightLanguage(lang) {
  if (!lang) return null;
  if (hljs.getLanguage(lang)) return lang;
  const name = languageOf.get(lang);
  if (!name) return null;
  if (hljs.getLanguage(name)) return name;
  if (renderingInto) {
    if (!waiting.has(name)) waiting.set(name, new Map());
    waiting.get(name).set(renderingInto, sources.get(renderingInto));
  }
  loadLanguage(name);
  return null;
}

// Starts loading languages ahead of use (tests and the page's idle time); resolves when they are registered.
export function preloadLanguages(names = Object.keys(LANGUAGES)) {
  return Promise.all(names.map((n) => languageOf.get(n)).filter(Boolean).map(loadLanguage));
}

const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => entities[c]);

// Text outside code: like marked's own escaping (an existing entity such as &amp; is kept), but always applied:
// marked passes text after an inline <code>/<pre> tag through raw, which would let "<img onerror" reach the parser.
const escapeText = (s) => s.replace(/&(?!#?\w+;)/g, '&amp;').replace(/[<>"']/g, (c) => entities[c]);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = (lang || '').trim().split(/\s+/)[0].toLowerCase();
      let body;
      const highlighter = highlightLanguage(language);
      if (highlighter) {
        body = hljs.highlight(text, { language: highlighter, ignoreIllegals: true }).value;
      } else {
        body = escapeHtml(text);
      }
      const cls = language && /^[a-z0-9+#-]+$/.test(language) ? ` class="hljs language-${language}"` : ' class="hljs"';
      return `<pre><code${cls}>${body}</code></pre>\n`;
    },
    html({ text }) {
      return escapeHtml(text);
    },
    text(token) {
      return token.tokens ? this.parser.parseInline(token.tokens) : escapeText(token.text);
    },
    image({ href, text }) {
      // No images from untrusted text (tracking, CSP noise): show the alt text and the address as a link.
      return `<a href="${escapeHtml(href || '')}">${escapeHtml(text || href || 'image')}</a>`;
    },
  },
});

const purifyConfig = {
  ALLOWED_TAGS: ['a', 'b', 'blockquote', 'br', 'code', 'del', 'details', 'div', 'em', 'h1', 'h2', 'h3', 'h4', 'h5',
    'h6', 'hr', 'i', 'input', 'li', 'ol', 'p', 'pre', 's', 'span', 'strong', 'sub', 'summary', 'sup', 'table',
    'tbody', 'td', 'th', 'thead', 'tr', 'ul', 'kbd', 'mark'],
  ALLOWED_ATTR: ['href', 'class', 'title', 'align', 'type', 'checked', 'disabled', 'start'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  if (node.tagName === 'INPUT' && node.getAttribute('type') !== 'checkbox') node.remove();  // GFM task lists only
  if (node.hasAttribute('class')) {
    const safe = node.getAttribute('class').split(/\s+/)
      .filter((c) => /^(hljs[a-z_-]*|language-[a-z0-9+#-]+)$/.test(c));
    if (safe.length) node.setAttribute('class', safe.join(' ')); else node.removeAttribute('class');
  }
});

export function renderMarkdown(text) {
  const html = marked.parse(String(text), { async: false });
  return DOMPurify.sanitize(html, purifyConfig);
}

// Sets an element's content to the rendered markdown of text.
export function setMarkdown(element, text) {
  const source = String(text);
  sources.set(element, source);
  renderingInto = element;
  try {
    element.innerHTML = renderMarkdown(source);
  } finally {
    renderingInto = null;
  }
}

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
import bash from 'highlight.js/lib/languages/bash';
import cpp from 'highlight.js/lib/languages/cpp';
import javascript from 'highlight.js/lib/languages/javascript';
import typescript from 'highlight.js/lib/languages/typescript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import xml from 'highlight.js/lib/languages/xml';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';

for (const [name, lang] of Object.entries({ bash, cpp, javascript, typescript, json, python, rust, sql, xml, css,
  go, java })) hljs.registerLanguage(name, lang);

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
      if (language && hljs.getLanguage(language)) {
        body = hljs.highlight(text, { language, ignoreIllegals: true }).value;
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
  element.innerHTML = renderMarkdown(text);
}

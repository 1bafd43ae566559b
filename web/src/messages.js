// messages.js: the message list. Each message is one node; a streaming answer re-renders its markdown at most once
// per animation frame, and records how long each SSE chunk took to reach the screen (window.__duetChunkLatencies).
import { h, copyText } from './dom.js';
import { setMarkdown } from './markdown_loader.js';

const latencies = [];  // ms from a chunk's arrival to the frame that shows it (last 5000)
Object.defineProperty(window, '__duetChunkLatencies', { get: () => latencies.slice() });

const fmt = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : null);

// One line from the router's duet.route object: its own explanation, else role, probability, keywords, stickiness.
function routeExplanation(route) {
  if (typeof route.explanation === 'string') return route.explanation;
  const parts = [];
  const p = typeof route.probability === 'number' ? ` (p ${route.probability.toFixed(2)})` : '';
  if (route.role) parts.push(`${route.role}${p}`);
  const matches = route.signals && route.signals.keywords && route.signals.keywords.matches;
  if (Array.isArray(matches) && matches.length) {
    const words = matches.slice(0, 4).map((x) => (typeof x === 'string' ? x : x && (x.keyword || x.text || x.pattern)))
      .filter((x) => typeof x === 'string');
    if (words.length) parts.push(`keywords: ${words.join(', ')}`);
  }
  const s = route.stickiness || {};
  if (s.switch_avoided || route.sticky === 'kept') parts.push('kept the model (sticky)');
  else if (s.switched || route.sticky === 'switched') parts.push('switched model');
  if (route.tie_break) parts.push(`tie-break: ${route.tie_break}`);
  return parts.join(' · ');
}

const action = (cls, text, title, onclick) =>
  h('button', { class: `btn icon ${cls}`, type: 'button', title, text, onclick });

function metaLine(m, handlers) {
  const parts = [];
  const t = m.timings || {};
  if (m.role === 'assistant') {
    if (m.model) parts.push(h('span', { class: 'meta-model', text: m.model }));
    if (m.route) {
      const mode = m.route.mode ? `: ${m.route.mode}` : '';
      parts.push(h('span', { class: 'badge meta-routed', title: 'picked by the router', text: `routed${mode}` }));
      const why = routeExplanation(m.route);
      if (why) parts.push(h('span', { class: 'route-why', text: why }));
    }
    const ttft = fmt(t.ttft_ms);
    if (ttft !== null) parts.push(h('span', { class: 'meta-ttft', text: `TTFT ${ttft} ms` }));
    const tps = fmt(t.tokens_per_second, 1);
    if (tps !== null) parts.push(h('span', { class: 'meta-tps', text: `${tps} tok/s` }));
    if (typeof t.completion_tokens === 'number') {
      const prompt = typeof t.prompt_tokens === 'number' ? ` + ${t.prompt_tokens} prompt` : '';
      parts.push(h('span', { class: 'meta-tokens', text: `${t.completion_tokens} tokens${prompt}` }));
    }
  }
  const actions = h('span', { class: 'msg-actions' },
    action('act-copy', 'Copy', 'Copy', () => copyText(m.content || '')),
    m.role === 'user' && handlers.onEdit
      ? action('act-edit', 'Edit', 'Edit and resend', () => handlers.onEdit(m)) : null,
    m.role === 'assistant' && handlers.onRegenerate
      ? action('act-regenerate', 'Regenerate', 'Regenerate', () => handlers.onRegenerate(m)) : null);
  return h('div', { class: 'msg-meta' }, parts, actions);
}

// What went to the model as the system prompt with this answer (recorded by the page when it stored it).
function sentSystem(m) {
  if (m.role !== 'assistant') return null;
  if (!m.system_prompt_sent) return h('div', { class: 'sent-system none', text: 'no system prompt sent' });
  return h('details', { class: 'sent-system' }, h('summary', { text: 'system prompt sent' }),
    h('pre', { class: 'sent-system-text', text: m.system_prompt_sent }));
}

function reasoningBlock(m) {
  if (!m.reasoning) return null;
  const ms = m.timings && m.timings.reasoning_ms;
  const label = typeof ms === 'number' ? `Thought for ${Math.max(1, Math.round(ms / 1000))} s` : 'Thoughts';
  return h('details', { class: 'reasoning' }, h('summary', { text: label }),
    h('div', { class: 'reasoning-body', text: m.reasoning }));
}

// Older messages of a long conversation get their markdown rendered only when they come near the screen: opening
// a 500-message conversation renders the last EAGER ones, the rest as plain text until scrolled to.
const EAGER = 40;
const lazyObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    lazyObserver.unobserve(entry.target);
    entry.target.classList.remove('lazy');
    setMarkdown(entry.target, entry.target.textContent);  // the plain text is the markdown source
  }
}, { rootMargin: '1500px 0px' });

export function messageNode(m, handlers, { lazy = false } = {}) {
  const body = h('div', { class: 'msg-body' });
  if (m.role === 'user') body.textContent = m.content || '';
  else if (lazy) {
    body.className = 'msg-body markdown lazy';
    body.textContent = m.content || '';
    lazyObserver.observe(body);
  } else { body.classList.add('markdown'); setMarkdown(body, m.content || ''); }
  const dataset = { id: String(m.id ?? ''), ordinal: String(m.ordinal ?? '') };
  const node = h('article', { class: `msg ${m.role}`, dataset },
    sentSystem(m), m.role === 'assistant' ? reasoningBlock(m) : null, body,
    m.finish_reason === 'abort' ? h('div', { class: 'stopped-note', text: 'stopped' }) : null,
    m.finish_reason === 'length' ? h('div', { class: 'stopped-note', text: 'cut at the token limit' }) : null,
    metaLine(m, handlers));
  return node;
}

export function renderMessages(container, messages, handlers) {
  const fragment = document.createDocumentFragment();
  messages.forEach((m, i) => fragment.append(messageNode(m, handlers, { lazy: i < messages.length - EAGER })));
  container.replaceChildren(fragment);
  if (!messages.length) container.append(h('p', { class: 'empty', text: 'Start a conversation: type below.' }));
}

// A live answer: deltas accumulate; the DOM is updated once per frame.
export class StreamingMessage {
  constructor(container) {
    this.content = '';
    this.reasoning = '';
    this.pending = [];
    this.frame = 0;
    this.reasoningBody = h('div', { class: 'reasoning-body' });
    this.reasoningSummary = h('summary', { text: 'Thinking…' });
    this.reasoningEl = h('details', { class: 'reasoning', hidden: true }, this.reasoningSummary, this.reasoningBody);
    this.body = h('div', { class: 'msg-body markdown cursor' });
    this.node = h('article', { class: 'msg assistant streaming' }, this.reasoningEl, this.body);
    container.querySelector('.empty')?.remove();
    container.append(this.node);
    this.container = container;
  }
  push({ reasoning, content, arrivedAt }) {
    this.reasoning += reasoning;
    this.content += content;
    this.pending.push(arrivedAt);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }
  flush() {
    this.frame = 0;
    const stick = this.container.scrollHeight - this.container.scrollTop - this.container.clientHeight < 40;
    if (this.reasoning) {
      this.reasoningEl.hidden = false;
      this.reasoningBody.textContent = this.reasoning;
    }
    setMarkdown(this.body, this.content);
    if (stick) this.container.scrollTop = this.container.scrollHeight;
    const now = performance.now();
    for (const t of this.pending) latencies.push(now - t);
    if (latencies.length > 5000) latencies.splice(0, latencies.length - 5000);
    this.pending = [];
  }
  finish() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.flush();
    this.body.classList.remove('cursor');
  }
}

// stream.js: one streamed chat completion: POST /v1/chat/completions (stream), SSE parsed as bytes arrive.
//
//   bytes -> lines -> "data: {...}" events -> delta.reasoning_content / delta.content (a "<think>" block at the
//   start of content is moved to reasoning too) -> onDelta({reasoning, content, arrivedAt}) -> done(result)
// Stop = AbortController.abort(): the fetch is cancelled, the connection closes, the server aborts the request.
import { send } from './api.js';

// Splits "<think>...</think>" off the start of a content stream (models whose server did not split it).
export class ThinkSplitter {
  constructor() { this.state = 'start'; this.pending = ''; }
  push(text) {
    const out = { reasoning: '', content: '' };
    this.pending += text;
    for (;;) {
      if (this.state === 'start') {
        const trimmed = this.pending.replace(/^\s+/, '');
        if (trimmed.startsWith('<think>')) {
          this.pending = trimmed.slice(7);
          this.state = 'reasoning';
        } else if ('<think>'.startsWith(trimmed)) {
          return out;  // could still become "<think>"
        } else {
          this.state = 'answer';
        }
      } else if (this.state === 'reasoning') {
        const end = this.pending.indexOf('</think>');
        if (end >= 0) {
          out.reasoning += this.pending.slice(0, end);
          this.pending = this.pending.slice(end + 8).replace(/^\s+/, '');
          this.state = 'answer';
          continue;
        }
        let keep = 0;  // hold back a possible start of "</think>"
        for (let k = Math.min(7, this.pending.length); k > 0; k--) {
          if ('</think>'.startsWith(this.pending.slice(-k))) { keep = k; break; }
        }
        out.reasoning += this.pending.slice(0, this.pending.length - keep);
        this.pending = this.pending.slice(this.pending.length - keep);
        return out;
      } else {
        out.content += this.pending;
        this.pending = '';
        return out;
      }
    }
  }
  flush() {
    const out = { reasoning: '', content: '' };
    if (this.state === 'reasoning') out.reasoning = this.pending; else out.content = this.pending;
    this.pending = '';
    return out;
  }
}

// "role=expert; mode=auto; model=r1; p=0.973; sticky=kept; us=12" -> {role, mode, model, probability, sticky}.
export function parseRouteHeader(text) {
  const route = {};
  for (const part of text.split(';')) {
    const [key, ...rest] = part.split('=');
    const value = rest.join('=').trim();
    if (!key.trim() || !value) continue;
    const k = key.trim();
    if (k === 'p') route.probability = Number(value);
    else if (['role', 'mode', 'model', 'sticky'].includes(k)) route[k] = value;
  }
  return route;
}

// Parses an SSE byte stream into the payloads of its data: lines.
export async function* sseEvents(body, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const arrivedAt = performance.now();
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data) yield { data, arrivedAt };
      }
    }
  } finally {
    if (signal && signal.aborted) reader.cancel().catch(() => {});
  }
}

// Streams one answer. Returns {content, reasoning, model, route, usage, ttftMs, tokensPerSecond,
// reasoningSeconds, finishReason, stopped}.
// The router keeps a conversation on one model (stickiness) by the x-duet-conversation header.
export async function streamChat(request, { signal, onDelta, conversationId }) {
  const started = performance.now();
  const response = await send('POST', '/v1/chat/completions', { ...request, stream: true,
    stream_options: { include_usage: true } },
  { signal, headers: conversationId ? { 'x-duet-conversation': conversationId } : {} });
  const result = { content: '', reasoning: '', model: request.model, route: null, usage: null, ttftMs: null,
    tokensPerSecond: null, reasoningSeconds: null, finishReason: null, stopped: false, serverTimings: null };
  const routeHeader = response.headers.get('x-duet-route');
  if (routeHeader) result.route = parseRouteHeader(routeHeader);
  const splitter = new ThinkSplitter();
  let firstAt = null, reasoningStart = null, reasoningEnd = null, lastAt = started, nChunks = 0;
  const take = (reasoning, content, arrivedAt) => {
    if (!reasoning && !content) return;
    if (firstAt === null) firstAt = arrivedAt;
    if (reasoning && reasoningStart === null) reasoningStart = arrivedAt;
    if (reasoning) reasoningEnd = arrivedAt;
    if (content && reasoningStart !== null && result.content === '') reasoningEnd = arrivedAt;
    result.reasoning += reasoning;
    result.content += content;
    lastAt = arrivedAt;
    nChunks++;
    onDelta({ reasoning, content, arrivedAt });
  };
  try {
    for await (const { data, arrivedAt } of sseEvents(response.body, signal)) {
      if (data === '[DONE]') break;
      let chunk;
      try { chunk = JSON.parse(data); } catch { continue; }
      if (chunk.error) throw new Error(String(chunk.error.message || 'stream error'));
      if (chunk.model) result.model = chunk.model;
      if (chunk.duet && chunk.duet.route) result.route = chunk.duet.route;
      if (chunk.usage) result.usage = chunk.usage;
      if (chunk.timings) result.serverTimings = chunk.timings;
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta || {};
      let reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : '';
      let content = '';
      if (typeof delta.content === 'string' && delta.content) {
        const split = splitter.push(delta.content);
        reasoning += split.reasoning;
        content = split.content;
      }
      take(reasoning, content, arrivedAt);
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
  } catch (e) {
    if (!(signal && signal.aborted)) throw e;
    result.stopped = true;
  }
  const rest = splitter.flush();
  take(rest.reasoning, rest.content, performance.now());
  if (firstAt !== null) result.ttftMs = Math.round(firstAt - started);
  const tokens = result.usage ? result.usage.completion_tokens : nChunks;
  if (firstAt !== null && lastAt > firstAt && tokens > 1) {
    result.tokensPerSecond = (tokens - 1) / ((lastAt - firstAt) / 1000);
  }
  if (reasoningStart !== null) result.reasoningSeconds = Math.max(0, (reasoningEnd - started) / 1000);
  return result;
}

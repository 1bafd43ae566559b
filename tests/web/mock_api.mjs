// mock_api.mjs: a development stand-in for duet serve's /api/ (in memory, the routes of the /api contract) that
// serves the built page and forwards /v1/ and /metrics to a real `duet serve`. For iterating on the page before
// the store lands; the tests run against the real server.
//   node mock_api.mjs DIST_DIR UPSTREAM_URL [PORT]
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const [distDir, upstream, portArg] = process.argv.slice(2);
const types = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' };
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";
const conversations = new Map();
let settings = {};
const prompts = { default: { prompt: '', send: true }, models: [] };
let nextMessageId = 1;
const now = () => Date.now();
const summary = (c) => { const { messages, ...rest } = c; return { ...rest, message_count: messages.length }; };

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function message(c, m) {
  return { id: nextMessageId++, ordinal: c.messages.length, role: m.role, content: m.content ?? '', reasoning: m.reasoning ?? null,
    model: m.model ?? null, route: m.route ?? null, system_prompt_sent: m.system_prompt_sent ?? null,
    finish_reason: m.finish_reason ?? null, timings: m.timings ?? null, created_at: now() };
}
function create(fields) {
  const c = { id: randomBytes(16).toString('base64url').slice(0, 22), title: fields.title || 'New conversation',
    created_at: now(), updated_at: now(), mode: fields.mode || 'auto',
    settings: { temperature: null, top_p: null, max_tokens: null, system_prompt: null, send_system_prompt: null, ...(fields.settings || {}) },
    messages: [] };
  conversations.set(c.id, c);
  return c;
}

async function api(req, res, url, body) {
  const parts = url.pathname.split('/').filter(Boolean).slice(1);  // after "api"
  const m = req.method;
  if (parts[0] === 'session') return send(res, 200, { auth_required: false, authenticated: true });
  if (parts[0] === 'settings') {
    if (m === 'PUT') for (const [k, v] of Object.entries(body)) { if (v === null) delete settings[k]; else settings[k] = v; }
    return send(res, 200, settings);
  }
  if (parts[0] === 'system-prompts') {
    if (m === 'PUT') {
      if (body.default) Object.assign(prompts.default, body.default);
      for (const e of body.models || []) {
        prompts.models = prompts.models.filter((x) => x.model !== e.model);
        prompts.models.push({ ...e, send_is_default: e.send === null });
      }
    }
    return send(res, 200, prompts);
  }
  if (parts[0] !== 'conversations') return send(res, 404, { error: { message: 'no route' } });
  if (parts.length === 1 && m === 'GET') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    const list = [...conversations.values()].filter((c) => !q || c.title.toLowerCase().includes(q) ||
      c.messages.some((x) => x.content.toLowerCase().includes(q))).sort((a, b) => b.updated_at - a.updated_at);
    return send(res, 200, { data: list.map(summary), has_more: false, next_cursor: null });
  }
  if (parts.length === 1 && m === 'POST') return send(res, 201, create(body));
  if (parts[1] === 'export') {
    const list = url.searchParams.get('id') ? [conversations.get(url.searchParams.get('id'))] : [...conversations.values()];
    res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': 'attachment; filename="export.json"' });
    return res.end(JSON.stringify({ format: 'duet-conversations', version: 1, exported_at: now(), conversations: list }));
  }
  if (parts[1] === 'import') {
    const ids = [];
    for (const c of body.conversations) {
      const n = create(c);
      for (const x of c.messages || []) n.messages.push(message(n, x));
      ids.push(n.id);
    }
    return send(res, 200, { imported: ids.length, ids });
  }
  const c = conversations.get(parts[1]);
  if (!c) return send(res, 404, { error: { message: 'not found' } });
  if (parts.length === 2) {
    if (m === 'GET') return send(res, 200, c);
    if (m === 'DELETE') { conversations.delete(c.id); return send(res, 204); }
    if (m === 'PATCH') {
      if (body.title) c.title = body.title;
      if (body.mode) c.mode = body.mode;
      if (body.settings) Object.assign(c.settings, body.settings);
      c.updated_at = now();
      return send(res, 200, summary(c));
    }
  }
  if (parts[2] === 'messages' && m === 'POST') {
    const x = message(c, body);
    c.messages.push(x);
    c.updated_at = now();
    return send(res, 201, x);
  }
  if (parts[2] === 'tail' && m === 'PUT') {
    c.messages.splice(body.from_ordinal);
    for (const x of body.messages) c.messages.push(message(c, x));
    return send(res, 200, { messages: c.messages.slice(body.from_ordinal) });
  }
  return send(res, 405, { error: { message: 'method' } });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  if (url.pathname.startsWith('/api/')) return api(req, res, url, raw.length ? JSON.parse(raw) : {});
  if (url.pathname.startsWith('/v1/') || url.pathname === '/metrics') {
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    try {
      const r = await fetch(upstream + url.pathname, { method: req.method, headers: { 'content-type': 'application/json' },
        body: raw.length ? raw : undefined, signal: controller.signal });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') || 'application/json' });
      for await (const chunk of r.body) res.write(chunk);
      res.end();
    } catch { res.end(); }
    return;
  }
  const file = join(distDir, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  if (!existsSync(file)) return send(res, 404, { error: { message: 'not found' } });
  res.writeHead(200, { 'content-type': types[file.split('.').pop()] || 'application/octet-stream', 'content-security-policy': csp });
  res.end(readFileSync(file));
});
server.listen(Number(portArg || 8090), '127.0.0.1', () => console.log(`mock on http://127.0.0.1:${server.address().port}`));

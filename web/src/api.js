// api.js: every request the page makes. /api/ (conversations, messages, settings, session) and /v1/ (models, chat).
// Requests carry the session cookie (same origin); a 401 asks for the API key once (onUnauthorized) and retries.
// State-changing calls send JSON (so a cross-site form cannot forge them) and the x-duet-csrf header.

export class ApiError extends Error {
  constructor(status, message, type) {
    super(message);
    this.status = status;
    this.type = type || '';
  }
}

let unauthorizedHandler = null;  // async () => void: resolves once a session exists
export function onUnauthorized(handler) { unauthorizedHandler = handler; }

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`;
  let type = '';
  try {
    const body = await response.json();
    if (body && body.error) {
      message = String(body.error.message || message);
      type = String(body.error.type || '');
    }
  } catch { /* not JSON */ }
  return new ApiError(response.status, message, type);
}

// fetch with the session: on 401 waits for the login dialog once, then retries.
export async function send(method, path, body, { signal, retry = true, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', signal, headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET') init.headers['x-duet-csrf'] = '1';
  const response = await fetch(path, init);
  if (response.status === 401 && retry && unauthorizedHandler) {
    await unauthorizedHandler();
    return send(method, path, body, { signal, retry: false, headers });
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function json(method, path, body) {
  const response = await send(method, path, body);
  if (response.status === 204) return null;
  return response.json();
}

const enc = encodeURIComponent;

// The routes of /work/api-contract.md (README "The page's REST API").
export const api = {
  session: () => json('GET', '/api/session'),
  // POST /api/session {api_key} -> Set-Cookie (HttpOnly, SameSite=Strict); 401 when the key is wrong.
  async login(apiKey) {
    const response = await fetch('/api/session', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-duet-csrf': '1' },
      body: JSON.stringify({ api_key: apiKey }),
    });
    if (!response.ok) throw await errorFrom(response);
  },
  models: async () => (await json('GET', '/v1/models')).data || [],
  listConversations: async (query) =>
    (await json('GET', `/api/conversations?limit=200${query ? `&q=${enc(query)}` : ''}`)).data || [],
  createConversation: (fields) => json('POST', '/api/conversations', fields),
  getConversation: (id) => json('GET', `/api/conversations/${enc(id)}`),
  updateConversation: (id, fields) => json('PATCH', `/api/conversations/${enc(id)}`, fields),
  deleteConversation: (id) => json('DELETE', `/api/conversations/${enc(id)}`),
  addMessage: (conversationId, message) => json('POST', `/api/conversations/${enc(conversationId)}/messages`, message),
  // Replaces every message from `fromOrdinal` on with `messages` (regenerate: none; edit: the new user turn).
  replaceTail: async (conversationId, fromOrdinal, messages) =>
    (await json('PUT', `/api/conversations/${enc(conversationId)}/tail`,
      { from_ordinal: fromOrdinal, messages })).messages,
  exportUrl: (format, id) => `/api/conversations/export?format=${enc(format)}${id ? `&id=${enc(id)}` : ''}`,
  importConversations: (document) => json('POST', '/api/conversations/import', document),
  getSettings: () => json('GET', '/api/settings'),
  putSettings: (settings) => json('PUT', '/api/settings', settings),
  getSystemPrompts: () => json('GET', '/api/system-prompts'),
  putSystemPrompts: (prompts) => json('PUT', '/api/system-prompts', prompts),
};

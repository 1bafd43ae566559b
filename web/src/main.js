// main.js: the chat page's controller. Holds the state (conversation list, the open conversation, models,
// settings, the answer being streamed) and wires the views to the API.
//
//   send:       [new? create conversation] -> store the user message -> generate
//   generate:   resolve the system prompt -> stream /v1/chat/completions into a live node -> store the assistant
//               message (system_prompt_sent, timings, route, finish_reason)
//   regenerate: replace the tail from the answer with nothing -> generate
//   edit:       replace the tail from the user message with the edited one -> generate
//   stop (Esc): abort the fetch (the server aborts the request); the partial answer is stored as stopped
import { api, onUnauthorized, ApiError } from './api.js';
import { $, h } from './dom.js';
import { renderMessages, messageNode, StreamingMessage } from './messages.js';
import { loadMarkdown } from './markdown_loader.js';
import { renderConversationList } from './sidebar.js';
import { streamChat } from './stream.js';
import { MODES, requestModel, resolveSystemPrompt, buildRequestMessages } from './prompts.js';

const state = {
  conversations: [],
  current: null,     // {id|null, title, mode, settings: {temperature, top_p, max_tokens, system_prompt,
                     //  send_system_prompt}, messages}
  models: [],        // names from /v1/models
  settings: { theme: 'system' },                           // GET /api/settings (flat page settings)
  prompts: { default: { prompt: '', send: true }, models: [] },  // GET /api/system-prompts
  streaming: null,   // {controller, conversation}
  query: '',
};
const el = {};

// ---- theme (applied before anything loads, from localStorage, then from the stored settings) ----
function applyTheme(theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  try { localStorage.setItem('duet.theme', theme || 'system'); } catch { /* private mode */ }
}
try { applyTheme(localStorage.getItem('duet.theme')); } catch { /* private mode */ }

function showError(error) {
  const text = error instanceof Error ? error.message : String(error);
  el.errorBar.textContent = text;
  el.errorBar.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { el.errorBar.hidden = true; }, 8000);
}

// ---- models and modes ----
// The router's modes are offered when /v1/models lists them (duet-auto, duet-expert, duet-daily).
const isRouterName = (name) => /^duet-(auto|expert|daily)$/.test(name);
const available = (mode) => state.models.includes(requestModel(mode));
const plainModels = () => state.models.filter((m) => !isRouterName(m));
function defaultMode() {
  return MODES.find(available) || plainModels()[0] || '';
}
// The model whose prompt settings apply: the model itself, or for a mode the model that last answered in it.
function promptModel(conversation) {
  if (!MODES.includes(conversation.mode)) return conversation.mode;
  const last = [...conversation.messages].reverse().find((m) => m.role === 'assistant' && m.model);
  return last ? last.model : conversation.mode;
}

function renderModes() {
  const conv = state.current;
  const names = [...MODES, ...plainModels()];
  el.modes.replaceChildren(...names.map((name) => {
    const on = available(name);
    return h('button', { class: `mode${MODES.includes(name) ? ' mode-router' : ''}`, type: 'button', role: 'radio',
      'aria-checked': conv && conv.mode === name ? 'true' : 'false', dataset: { mode: name }, text: name,
      disabled: !on, title: on ? `answer with ${name}` : 'the router is not running on this server',
      onclick: () => setMode(name) });
  }));
  renderSystemToggle();
}

async function setMode(name) {
  const conv = state.current;
  conv.mode = name;
  renderModes();
  if (conv.id) await api.updateConversation(conv.id, { mode: name }).catch(showError);
}

function renderSystemToggle() {
  const conv = state.current;
  const resolved = resolveSystemPrompt(state.prompts, conv.settings, promptModel(conv));
  el.systemToggle.checked = resolved.send;
  el.systemToggle.parentElement.title = resolved.send
    ? (resolved.text ? `sends the ${resolved.source} system prompt` : 'on, but no system prompt is set')
    : 'no system prompt is sent';
}

async function toggleSystemPrompt() {
  const conv = state.current;
  conv.settings = { ...conv.settings, send_system_prompt: el.systemToggle.checked };
  renderSystemToggle();
  if (conv.id) {
    await api.updateConversation(conv.id, { settings: { send_system_prompt: el.systemToggle.checked } })
      .catch(showError);
  }
}

// ---- conversation list ----
async function refreshList() {
  try {
    state.conversations = await api.listConversations(state.query);
  } catch (e) { showError(e); }
  renderList();
}
function renderList() {
  renderConversationList(el.list, state.conversations, state.current && state.current.id, {
    onOpen: (id) => openConversation(id),
    onRename: (id, title) => renameConversation(id, title),
    onDelete: (id) => deleteConversation(id),
    onExport: (id, kind) => exportConversations(id, kind),
  });
}

// The conversation named in the URL (#c=ID), or ''.
const linkedConversation = () => decodeURIComponent((location.hash.match(/^#c=(.+)$/) || [])[1] || '');

// Opens are numbered: when several are in flight (two clicks, an import's open and a link), the last one wins and
// the answers of earlier ones are dropped.
let openSeq = 0;

function newConversation({ keepHash = false } = {}) {
  openSeq++;
  state.current = { id: null, title: 'New chat', mode: defaultMode(), settings: {}, messages: [] };
  if (location.hash && !keepHash) history.replaceState(null, '', location.pathname);
  renderCurrent();
  renderList();
  el.app.classList.remove('sidebar-open');
  el.input.focus();  // last: the one style and layout pass it needs sees every change above
}

async function openConversation(id) {
  const seq = ++openSeq;
  try {
    const conv = await api.getConversation(id);
    if (seq !== openSeq) return;
    conv.messages = conv.messages || [];
    conv.settings = conv.settings || {};
    if (!conv.mode) conv.mode = defaultMode();
    state.current = conv;
    history.replaceState(null, '', `#c=${encodeURIComponent(id)}`);
    renderCurrent();
    renderList();
    el.app.classList.remove('sidebar-open');
  } catch (e) {
    if (seq !== openSeq) return;
    showError(e);
    if (e instanceof ApiError && e.status === 404) newConversation();
  }
}

async function renameConversation(id, title) {
  try {
    await api.updateConversation(id, { title });
    if (state.current && state.current.id === id) { state.current.title = title; renderTitle(); }
  } catch (e) { showError(e); }
  await refreshList();
}

async function deleteConversation(id) {
  try { await api.deleteConversation(id); } catch (e) { showError(e); }
  if (state.current && state.current.id === id) newConversation();
  await refreshList();
}

function renderTitle() {
  el.title.textContent = state.current.title || 'Untitled';
  document.title = `${state.current.title || 'Untitled'} · duet`;
}

const messageHandlers = { onEdit: (m) => startEdit(m), onRegenerate: (m) => regenerate(m) };
function renderCurrent() {
  renderTitle();
  renderModes();
  renderMessages(el.messages, state.current.messages, messageHandlers);
  // Reading scrollHeight forces a layout: only when there is something to scroll to.
  if (state.current.messages.length) el.messages.scrollTop = el.messages.scrollHeight;
}

// ---- sending and streaming ----
function titleFrom(text) {
  const line = text.trim().split('\n')[0];
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New chat';
}

async function ensureStored(conv, firstText) {
  if (conv.id) return;
  const created = await api.createConversation({ title: titleFrom(firstText), mode: conv.mode,
    settings: conv.settings });
  Object.assign(conv, { ...created, messages: conv.messages });
  history.replaceState(null, '', `#c=${encodeURIComponent(conv.id)}`);
  renderTitle();
}

async function sendMessage(text) {
  if (state.streaming || !text.trim()) return;
  const conv = state.current;
  if (!conv.mode) { showError('no model is loaded'); return; }
  try {
    await ensureStored(conv, text);
    const stored = await api.addMessage(conv.id, { role: 'user', content: text });
    conv.messages.push(stored);
    if (state.current === conv) {
      el.messages.querySelector('.empty')?.remove();
      el.messages.append(messageNode(stored, messageHandlers));
    }
    refreshList();
    await generate(conv);
  } catch (e) { showError(e); }
}

function setStreaming(on) {
  el.send.hidden = on;
  el.stop.hidden = !on;
}

async function generate(conv) {
  const systemPrompt = resolveSystemPrompt(state.prompts, conv.settings, promptModel(conv)).sent;
  const controller = new AbortController();
  state.streaming = { controller, conversation: conv };
  setStreaming(true);
  const live = new StreamingMessage(el.messages);
  el.messages.scrollTop = el.messages.scrollHeight;
  const s = conv.settings || {};
  const request = { model: requestModel(conv.mode), messages: buildRequestMessages(conv.messages, systemPrompt) };
  if (typeof s.temperature === 'number') request.temperature = s.temperature;
  if (typeof s.top_p === 'number') request.top_p = s.top_p;
  if (typeof s.max_tokens === 'number') request.max_tokens = s.max_tokens;
  let result = null;
  try {
    result = await streamChat(request, { signal: controller.signal, onDelta: (d) => live.push(d),
      conversationId: conv.id });
  } catch (e) {
    if (!controller.signal.aborted) showError(e);
    result = controller.signal.aborted ? { content: live.content, reasoning: live.reasoning, stopped: true } : null;
  } finally {
    live.finish();
    state.streaming = null;
    setStreaming(false);
  }
  if (!result) { live.node.remove(); return; }
  const usage = result.usage || {};
  const message = {
    role: 'assistant', content: result.content, reasoning: result.reasoning || null, model: result.model || conv.mode,
    route: result.route || null, system_prompt_sent: systemPrompt,
    finish_reason: result.stopped ? 'abort' : result.finishReason || null,
    timings: { ttft_ms: result.ttftMs ?? null, tokens_per_second: result.tokensPerSecond ?? null,
      reasoning_ms: result.reasoningSeconds != null ? Math.round(result.reasoningSeconds * 1000) : null,
      prompt_tokens: usage.prompt_tokens ?? null, completion_tokens: usage.completion_tokens ?? null },
  };
  try {
    const stored = await api.addMessage(conv.id, message);
    conv.messages.push(stored);
    if (live.node.isConnected) live.node.replaceWith(messageNode(stored, messageHandlers));
  } catch (e) { showError(e); }
  if (state.current === conv) renderSystemToggle();
}

function stop() {
  if (state.streaming) state.streaming.controller.abort();
}

async function regenerate(message) {
  const conv = state.current;
  if (state.streaming || !conv.id) return;
  const index = conv.messages.indexOf(message);
  if (index < 0) return;
  try {
    await api.replaceTail(conv.id, message.ordinal, []);
    conv.messages.splice(index);
    renderMessages(el.messages, conv.messages, messageHandlers);
    await generate(conv);
  } catch (e) { showError(e); }
}

function startEdit(message) {
  if (state.streaming) return;
  const node = el.messages.querySelector(`article[data-id="${CSS.escape(String(message.id))}"]`);
  if (!node) return;
  const box = h('textarea', { class: 'edit-box', 'aria-label': 'Edit message' });
  box.value = message.content;
  const cancel = () => renderMessages(el.messages, state.current.messages, messageHandlers);
  const save = async () => {
    const conv = state.current;
    const text = box.value;
    const index = conv.messages.indexOf(message);
    if (!text.trim() || index < 0) return;
    try {
      const tail = await api.replaceTail(conv.id, message.ordinal, [{ role: 'user', content: text }]);
      conv.messages.splice(index, conv.messages.length - index, ...tail);
      renderMessages(el.messages, conv.messages, messageHandlers);
      await generate(conv);
    } catch (e) { showError(e); }
  };
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); save(); }
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); cancel(); }
  });
  node.replaceChildren(box, h('div', { class: 'edit-buttons' },
    h('button', { class: 'btn', type: 'button', text: 'Cancel', onclick: cancel }),
    h('button', { class: 'btn primary act-resend', type: 'button', text: 'Send', onclick: save })));
  box.focus();
}

// ---- export / import (the server writes the files; Content-Disposition names them) ----
function exportConversations(id, format) {
  const a = h('a', { href: api.exportUrl(format, id), download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}

async function importFile(file) {
  try {
    let document;
    try { document = JSON.parse(await file.text()); } catch (e) { throw new Error(`not JSON (${e.message})`); }
    const result = await api.importConversations(document);
    await refreshList();
    if (result && result.ids && result.ids.length) openConversation(result.ids[0]);
  } catch (e) { showError(`import of ${file.name} failed: ${e.message}`); }
}

// ---- settings dialog ----
const numberOrNull = (v) => (v === '' ? null : Number(v));
const toggleValue = (v) => (v === true ? 'on' : v === false ? 'off' : 'inherit');
const valueToggle = (v) => (v === 'on' ? true : v === 'off' ? false : null);

const modelEntry = (model) => (state.prompts.models || []).find((m) => m.model === model) || {};

function openSettings() {
  const conv = state.current;
  const model = promptModel(conv);
  const entry = modelEntry(model);
  const s = conv.settings || {};
  $('set-temperature').value = s.temperature ?? '';
  $('set-top-p').value = s.top_p ?? '';
  $('set-max-tokens').value = s.max_tokens ?? '';
  $('set-conv-prompt').value = s.system_prompt || '';
  $('set-conv-toggle').value = toggleValue(s.send_system_prompt);
  $('set-model-name').textContent = model ? `(${model})` : '';
  $('set-model-prompt').value = entry.prompt || '';
  $('set-model-toggle').value = entry.send_is_default ? 'inherit' : toggleValue(entry.send);
  $('set-default-prompt').value = (state.prompts.default && state.prompts.default.prompt) || '';
  $('set-theme').value = state.settings.theme || 'system';
  el.settings.showModal();
}

async function saveSettings() {
  const conv = state.current;
  const model = promptModel(conv);
  conv.settings = { ...conv.settings, temperature: numberOrNull($('set-temperature').value),
    top_p: numberOrNull($('set-top-p').value), max_tokens: numberOrNull($('set-max-tokens').value),
    system_prompt: $('set-conv-prompt').value || null, send_system_prompt: valueToggle($('set-conv-toggle').value) };
  const theme = $('set-theme').value;
  state.settings = { ...state.settings, theme };
  applyTheme(theme);
  const defaultSend = state.prompts.default ? state.prompts.default.send : true;
  const prompts = { default: { prompt: $('set-default-prompt').value, send: defaultSend } };
  if (model && !MODES.includes(model)) {
    prompts.models = [{ model, prompt: $('set-model-prompt').value || null,
      send: valueToggle($('set-model-toggle').value) }];
  }
  try {
    const [, stored] = await Promise.all([api.putSettings({ theme }), api.putSystemPrompts(prompts)]);
    if (stored) state.prompts = stored;
    if (conv.id) await api.updateConversation(conv.id, { settings: conv.settings });
  } catch (e) { showError(e); }
  renderSystemToggle();
}

// ---- login (when the server has --api-key) ----
let loginPromise = null;
function askForKey() {
  if (loginPromise) return loginPromise;
  loginPromise = new Promise((resolve) => {
    const dialog = $('login-dialog');
    const form = $('login-form');
    const onSubmit = async (e) => {
      e.preventDefault();
      try {
        await api.login($('login-key').value);
        $('login-key').value = '';
        form.removeEventListener('submit', onSubmit);
        dialog.close();
        loginPromise = null;
        resolve();
      } catch (err) {
        $('login-error').textContent = err.status === 401 ? 'That key is not right.' : err.message;
        $('login-error').hidden = false;
      }
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    dialog.showModal();
    $('login-key').focus();
  });
  return loginPromise;
}

// ---- start ----
function bind() {
  for (const [key, id] of Object.entries({ app: 'app', list: 'conversation-list', messages: 'messages', input: 'input',
    send: 'send', stop: 'stop', title: 'chat-title', modes: 'modes', systemToggle: 'system-toggle',
    errorBar: 'error-bar', settings: 'settings-dialog' })) el[key] = $(id);
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = el.input.value;
    if (!text.trim() || state.streaming) return;
    el.input.value = '';
    sendMessage(text);
  });
  el.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  el.stop.addEventListener('click', stop);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.streaming) { e.preventDefault(); stop(); }
    if (e.key.toLowerCase() === 'o' && e.shiftKey && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      newConversation();
    }
  });
  $('new-chat').addEventListener('click', () => newConversation());
  $('open-sidebar').addEventListener('click', () => el.app.classList.add('sidebar-open'));
  $('close-sidebar').addEventListener('click', () => el.app.classList.remove('sidebar-open'));
  let searchTimer = 0;
  $('search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.query = e.target.value.trim(); refreshList(); }, 120);
  });
  $('export-all-json').addEventListener('click', () => exportConversations(null, 'json'));
  $('export-all-md').addEventListener('click', () => exportConversations(null, 'md'));
  $('import-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) importFile(file);
  });
  el.systemToggle.addEventListener('change', toggleSystemPrompt);
  $('open-settings').addEventListener('click', openSettings);
  el.settings.addEventListener('close', () => { if (el.settings.returnValue === 'save') saveSettings(); });
  window.addEventListener('hashchange', () => {
    const id = linkedConversation();
    if (id && (!state.current || state.current.id !== id)) openConversation(id);
  });
}

// Runs fn in the first task after the next frame. A hidden tab draws no frames: it runs fn at once; a slow frame
// waits at most 1 s.
function afterNextFrame(fn) {
  let done = false;
  const run = () => { if (!done) { done = true; fn(); } };
  requestAnimationFrame(() => setTimeout(run, 0));
  setTimeout(run, document.visibilityState === 'hidden' ? 0 : 1000);
}

// First load: the input box works from the first frame; nothing else (no request, no other script) runs before
// that frame. Then the data (session, models, settings, prompts, the list, a conversation named in the URL) and
// the markdown stack.
function start() {
  bind();
  onUnauthorized(askForKey);
  const linked = linkedConversation();  // read before anything can rewrite the URL: a reload reopens it
  newConversation({ keepHash: true });
  document.documentElement.dataset.ready = 'input';  // the input box works from here on
  performance.mark('duet:input-ready');
  afterNextFrame(() => loadData(linked));
}

async function loadData(linked) {
  const session = await api.session().catch(() => null);
  if (session && session.auth_required && !session.authenticated) await askForKey();
  const data = Promise.all([
    api.models().catch((e) => { showError(e); return []; }),
    api.getSettings().catch(() => null),
    api.getSystemPrompts().catch(() => null),
  ]);
  loadMarkdown();  // after the requests above are on their way; a message needs it only once it is opened
  const [models, settings, prompts] = await data;
  state.models = models.map((m) => m.id);
  if (settings) state.settings = { ...state.settings, ...settings };
  if (prompts) state.prompts = prompts;
  applyTheme(state.settings.theme);
  if (!state.current.mode) state.current.mode = defaultMode();
  renderModes();
  await Promise.all([refreshList(), linked ? openConversation(linked) : null]);
  document.documentElement.dataset.ready = 'all';
}

// The arena (#arena, #arena/leaderboard, #arena/studies, #study=CODE) is its own view, loaded on demand (arena.js).
const isArena = () => /^#(arena|study=)/.test(location.hash);
if (isArena()) {
  import('./arena.js').then((m) => m.startArena());
} else {
  start();
  window.addEventListener('hashchange', () => { if (isArena()) location.reload(); });
}

// arena.js: the blind arena (#arena): one prompt, two anonymous models answering side by side at the same time,
// a few more turns if wanted, then a vote (A / B / tie / both bad, optionally the three study questions), after
// which the names, latencies and the router's pick are revealed; the leaderboard (#arena/leaderboard); the
// study mode (#arena/studies for the organiser, #study=CODE for a participant: arena_study.js).
//
//   POST /api/arena/battles {prompt}  -> SSE {battle} {side, content} ... {side, done} {turn, done} [DONE]
//   POST /api/arena/battles/ID/turns  -> the same without {battle}
//   POST /api/arena/battles/ID/vote   -> the reveal (names, raw answers, TTFT, tok/s); 429 when over the limit
// Answers arrive with model names already masked by the server; they go through the chat's sanitised markdown
// path (markdown_loader.js -> marked + DOMPurify), never run as code. Reasoning is never sent before the vote.
import { send, ApiError } from './api.js';
import { h, $ } from './dom.js';
import { setMarkdown } from './markdown_loader.js';
import { sseEvents } from './stream.js';
import { startParticipant, startOrganiser } from './arena_study.js';

const SIDES = ['a', 'b'];
const QUESTIONS = [
  ['keep_chatting', 'Which one would you keep chatting with?'],
  ['understood', 'Which one really understood you?'],
  ['too_ai', 'Which one sounded "too AI"?'],
];
const VERDICTS = [['a', 'A is better'], ['b', 'B is better'], ['tie', 'Tie'], ['both_bad', 'Both are bad']];

const ui = {};
let battle = null;  // {id, turns: [{prompt, a, b, nodes: {a, b}}], voted, streaming}

const fmt = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

function buildPage() {
  const tab = (name, text) => h('a', { class: 'btn small arena-tab', href: `#arena${name ? `/${name}` : ''}`,
    dataset: { tab: name || 'battle' }, text });
  ui.panes = {};
  ui.headings = {};
  for (const side of SIDES) {
    ui.headings[side] = h('h2', { class: 'arena-model', text: `Model ${side.toUpperCase()}` });
    ui.panes[side] = h('div', { class: 'arena-turns' });
  }
  ui.verdicts = h('div', { class: 'arena-verdicts' }, VERDICTS.map(([value, text]) =>
    h('button', { class: 'btn arena-verdict', type: 'button', dataset: { verdict: value }, text,
      onclick: () => vote(value) })));
  ui.questions = h('div', { class: 'arena-questions' }, QUESTIONS.map(([key, text]) =>
    h('label', {}, text, ' ', h('select', { id: `arena-q-${key}`, 'aria-label': text },
      h('option', { value: '', text: '(skip)' }), h('option', { value: 'a', text: 'A' }),
      h('option', { value: 'b', text: 'B' }), h('option', { value: 'both', text: 'both' }),
      h('option', { value: 'neither', text: 'neither' })))));
  ui.vote = h('div', { id: 'arena-vote', class: 'arena-vote', hidden: true },
    h('p', { class: 'hint', text: 'Vote when you have seen enough; the names are shown after the vote.' }),
    ui.verdicts, h('details', {}, h('summary', { text: 'Three more questions (optional)' }), ui.questions));
  ui.reveal = h('div', { id: 'arena-reveal', class: 'arena-reveal', hidden: true });
  ui.input = h('textarea', { id: 'arena-input', rows: 2, 'aria-label': 'Prompt for both models',
    placeholder: 'Ask both models (Enter to send, Shift+Enter for a new line)' });
  ui.send = h('button', { id: 'arena-send', class: 'btn primary', type: 'submit', text: 'Send' });
  ui.composer = h('form', { id: 'arena-composer', class: 'composer arena-composer' }, ui.input, ui.send);
  ui.error = h('div', { id: 'arena-error', class: 'error-bar', hidden: true });
  ui.battleView = h('section', { id: 'arena-battle', class: 'arena-battle' },
    h('div', { class: 'arena-panes' }, SIDES.map((side) =>
      h('article', { class: 'arena-pane', dataset: { side } }, ui.headings[side], ui.panes[side]))),
    ui.vote, ui.reveal, ui.error, ui.composer);
  ui.board = h('section', { id: 'arena-board', class: 'arena-board', hidden: true });
  ui.studies = h('div', { id: 'arena-studies', hidden: true });
  ui.root = h('main', { id: 'arena', class: 'arena' },
    h('header', { class: 'arena-head' },
      h('a', { class: 'btn small', href: '#', text: '← Chat' }), h('h1', { class: 'chat-title', text: 'Arena' }),
      tab('', 'Battle'), tab('leaderboard', 'Leaderboard'), tab('studies', 'Studies'),
      h('button', { id: 'arena-new', class: 'btn small', type: 'button', text: 'New battle', onclick: newBattle })),
    ui.battleView, ui.board, ui.studies);
  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.input.value;
    if (!text.trim() || (battle && (battle.streaming || battle.voted))) return;
    ui.input.value = '';
    ask(text);
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  $('app').hidden = true;
  document.body.append(ui.root);
}

function newBattle() {
  battle = null;
  for (const side of SIDES) {
    ui.panes[side].replaceChildren();
    ui.headings[side].textContent = `Model ${side.toUpperCase()}`;
  }
  ui.vote.hidden = true;
  ui.reveal.hidden = true;
  ui.reveal.replaceChildren();
  for (const [key] of QUESTIONS) $(`arena-q-${key}`).value = '';
  ui.input.disabled = false;
  ui.send.disabled = false;
  showError('');
  if (location.hash !== '#arena') history.replaceState(null, '', '#arena');
  showTab('battle');
}

// One answer node per side and turn; streamed text is re-rendered at most once per frame.
function answerNode(side, prompt) {
  const body = h('div', { class: 'msg-body markdown cursor' });
  const node = h('div', { class: 'arena-turn' }, h('div', { class: 'msg user' }, h('div', { class: 'msg-body',
    text: prompt })), h('article', { class: 'msg assistant streaming' }, body));
  ui.panes[side].append(node);
  return { body, text: '', frame: 0, article: node.lastChild };
}

function render(answer) {
  answer.frame = 0;
  setMarkdown(answer.body, answer.text);
}

async function ask(prompt) {
  showError('');
  const turn = { prompt, answers: { a: answerNode('a', prompt), b: answerNode('b', prompt) } };
  const starting = !battle;
  if (starting) battle = { id: null, turns: [], voted: false, streaming: false };
  battle.streaming = true;
  battle.turns.push(turn);
  ui.send.disabled = true;
  ui.vote.hidden = true;
  let stored = false;
  try {
    const path = starting ? '/api/arena/battles' : `/api/arena/battles/${battle.id}/turns`;
    const response = await send('POST', path, { prompt });
    for await (const { data } of sseEvents(response.body)) {
      if (data === '[DONE]') break;
      let event;
      try { event = JSON.parse(data); } catch { continue; }
      if (event.error) throw new Error(String(event.error.message || 'a model failed'));
      if (typeof event.battle === 'number') battle.id = event.battle;
      const answer = SIDES.includes(event.side) ? turn.answers[event.side] : null;
      if (answer && typeof event.content === 'string') {
        const first = !answer.text;
        answer.text += event.content;
        if (first) render(answer);  // the first token is shown at once; then at most one render per frame
        else if (!answer.frame) answer.frame = requestAnimationFrame(() => render(answer));
      }
      if (answer && event.done) {
        if (answer.frame) cancelAnimationFrame(answer.frame);
        render(answer);
        answer.body.classList.remove('cursor');
        answer.article.classList.remove('streaming');
      }
      if (typeof event.turn === 'number' && event.done) stored = true;
    }
    if (!stored) throw new Error('the answers were not stored; try again');
  } catch (e) {
    showError(e instanceof ApiError && e.status === 401
      ? 'This server needs its API key: sign in on the chat page first (← Chat), then come back.'
      : String(e.message || e));
    battle.turns.pop();
    for (const side of SIDES) turn.answers[side].body.closest('.arena-turn').remove();
    if (starting && battle.id === null) battle = null;
  } finally {
    if (battle) battle.streaming = false;
    ui.send.disabled = false;
    if (battle && battle.turns.length) ui.vote.hidden = false;
  }
}

async function vote(verdict) {
  if (!battle || battle.voted || battle.streaming || battle.id === null) return;
  const body = { winner: verdict };
  for (const [key] of QUESTIONS) {
    const value = $(`arena-q-${key}`).value;
    if (value) body[key] = value;
  }
  for (const b of ui.verdicts.children) b.disabled = true;
  try {
    const response = await send('POST', `/api/arena/battles/${battle.id}/vote`, body);
    reveal(await response.json());
  } catch (e) {
    showError(e instanceof ApiError && e.status === 429 ? `Vote not counted: ${e.message}` : String(e.message || e));
  } finally {
    for (const b of ui.verdicts.children) b.disabled = false;
  }
}

// What the router (duet-auto, new conversation) would have done with the battle's first prompt, against the vote.
function routerPickText(result) {
  if (!result.router_pick) return 'No router pick: this server has no router (duet serve --expert NAME --daily NAME).';
  const pick = `The router would have sent the first prompt to ${result.router_pick}` +
    `${result.route ? ` (${result.route})` : ''}`;
  const side = SIDES.find((s) => result[`model_${s}`] === result.router_pick);
  if (!side) return `${pick}, which was not in this battle.`;
  if (result.winner !== 'a' && result.winner !== 'b') return `${pick}, side ${side.toUpperCase()}.`;
  return `${pick}, side ${side.toUpperCase()}: ${side === result.winner ? 'the one you preferred' :
    'not the one you preferred'}.`;
}

function routerAgreementText(board) {
  const r = board.router;
  if (!r || !r.with_pick) return 'Router agreement: no voted battle has a router pick yet.';
  const a = r.agreement;
  const pct = (x) => `${fmt(100 * x, 1)}%`;
  return `Router agreement: ${a.successes} of ${a.trials} decisive votes chose the router's pick` +
    (a.trials ? ` (${pct(a.estimate)}, 95% [${pct(a.low)}, ${pct(a.high)}])` : '') +
    `; ${r.undecided} tie or both bad, ${r.pick_not_in_battle} with the pick not in the battle.`;
}

function reveal(result) {
  battle.voted = true;
  ui.vote.hidden = true;
  ui.input.disabled = true;
  ui.send.disabled = true;
  for (const side of SIDES) {
    ui.headings[side].textContent = `${side.toUpperCase()}: ${result[`model_${side}`]}`;
    result.turns.forEach((t, i) => {
      const answer = battle.turns[i] && battle.turns[i].answers[side];
      if (!answer) return;
      answer.text = t[`answer_${side}`];  // the answer as written, names and all
      render(answer);
      const stats = h('div', { class: 'msg-meta arena-stats' },
        h('span', { class: 'meta-ttft', text: `TTFT ${fmt(t[`ttft_ms_${side}`])} ms` }),
        h('span', { class: 'meta-tps', text: `${fmt(t[`tokens_per_second_${side}`], 1)} tok/s` }));
      answer.article.append(stats);
    });
  }
  const verdict = VERDICTS.find(([v]) => v === result.winner);
  ui.reveal.replaceChildren(
    h('p', { class: 'arena-result', text: `Your vote: ${verdict ? verdict[1] : result.winner}. ` +
      `A was ${result.model_a}, B was ${result.model_b}.` }),
    h('p', { id: 'arena-router-pick', class: 'hint', text: routerPickText(result) }),
    h('button', { class: 'btn primary', type: 'button', text: 'Next battle', onclick: newBattle }));
  ui.reveal.hidden = false;
}

async function showBoard() {
  ui.board.replaceChildren(h('p', { class: 'hint', text: 'Loading…' }));
  try {
    const board = await (await send('GET', '/api/arena/leaderboard')).json();
    const rows = board.ratings.map((r) => h('tr', { dataset: { model: r.model } },
      h('td', { text: String(r.rank) }), h('td', { class: 'arena-board-model', text: r.model }),
      h('td', { class: 'arena-board-elo', text: fmt(r.elo, 1) }),
      h('td', { text: `${fmt(r.elo_low, 1)} – ${fmt(r.elo_high, 1)}` }),
      h('td', { class: 'arena-board-battles', text: String(r.battles) }),
      h('td', { text: `${r.wins} / ${r.losses} / ${r.ties}` }), h('td', { text: `${fmt(100 * r.win_rate, 1)}%` })));
    ui.board.replaceChildren(
      h('p', { id: 'arena-board-count', text: `${board.battles} voted battles (${board.both_bad} both bad); ` +
        `Bradley–Terry Elo with 95% bootstrap intervals (${board.bootstrap_rounds} resamples).` }),
      h('table', { class: 'arena-table' },
        h('thead', {}, h('tr', {}, ['Rank', 'Model', 'Elo', '95% interval', 'Battles', 'W / L / T', 'Win rate']
          .map((t) => h('th', { text: t })))),
        h('tbody', {}, rows)),
      h('p', { id: 'arena-board-router', text: routerAgreementText(board) }),
      h('p', {}, 'Download every battle: ', h('a', { href: '/api/arena/export', text: 'CSV' }), ', ',
        h('a', { href: '/api/arena/export?format=jsonl', text: 'JSON Lines' })));
  } catch (e) {
    ui.board.replaceChildren(h('p', { class: 'error-text', text: String(e.message || e) }));
  }
}

function showTab(name) {
  ui.battleView.hidden = name !== 'battle';
  ui.board.hidden = name !== 'leaderboard';
  ui.studies.hidden = name !== 'studies';
  if (name === 'studies' && !ui.studies.childElementCount) startOrganiser(ui.studies);
  for (const a of ui.root.querySelectorAll('.arena-tab')) a.classList.toggle('primary', a.dataset.tab === name);
  if (name === 'leaderboard') showBoard();
}

function route() {
  const tab = (location.hash.match(/^#arena\/(leaderboard|studies)/) || [])[1];
  showTab(tab || 'battle');
}

export function isArenaRoute() { return /^#(arena|study=)/.test(location.hash); }

export function startArena() {
  document.title = 'duet arena';
  const study = location.hash.match(/^#study=(.+)$/);
  if (study) {  // a participant sees the study only: no tabs, no names
    const root = h('main', { id: 'arena', class: 'arena' });
    $('app').hidden = true;
    document.body.append(root);
    window.addEventListener('hashchange', () => location.reload());
    startParticipant(root, decodeURIComponent(study[1]))
      .finally(() => { document.documentElement.dataset.ready = 'all'; });
    return;
  }
  buildPage();
  route();
  window.addEventListener('hashchange', () => {
    if (!isArenaRoute()) location.reload();
    else route();
  });
  ui.input.focus();
  document.documentElement.dataset.ready = 'all';
}

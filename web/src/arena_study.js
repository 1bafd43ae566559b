// arena_study.js: the study mode's two pages (routes_api_study.cpp):
//   #study=CODE      a participant: chat freely with "Model A" for N minutes, then "Model B" (which study model
//                    comes first alternates by invite: counterbalanced on the server), then the questions and free
//                    text. Names are never shown; answers arrive masked and go through the sanitised markdown path.
//   #arena/studies   the organiser: create a study (two models, minutes, participants) -> invite links; results
//                    (share naming each model per question with 95% Wilson intervals, AI-speak counts, free text).
import { send, ApiError } from './api.js';
import { h, $ } from './dom.js';
import { setMarkdown } from './markdown_loader.js';
import { sseEvents } from './stream.js';

const CHOICES = [['a', 'Model A'], ['b', 'Model B'], ['both', 'Both'], ['neither', 'Neither']];
const ROUTER_MODES = ['duet-auto', 'duet-expert', 'duet-daily'];  // /v1/models lists them when the router is on
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const message = (e) => (e instanceof ApiError ? e.message : String((e && e.message) || e));

// ---- participant ----

export async function startParticipant(root, code) {
  const enc = encodeURIComponent(code);
  const status = h('p', { id: 'study-status', class: 'hint' });
  const error = h('div', { id: 'study-error', class: 'error-bar', hidden: true });
  const main = h('section', { id: 'study', class: 'arena-battle' });
  root.append(h('header', { class: 'arena-head' }, h('h1', { class: 'chat-title', text: 'Study' }), status), main,
    error);
  const fail = (e) => { error.textContent = message(e); error.hidden = false; };
  let protocol;
  try {
    protocol = await (await send('GET', `/api/arena/study/${enc}`)).json();
  } catch (e) {
    fail(e);
    return;
  }
  if (protocol.answered) {
    main.replaceChildren(h('p', { id: 'study-thanks', text: 'Thank you: your answers are in.' }));
    return;
  }

  function chatPhase(label, next) {
    const history = [];
    const list = h('div', { class: 'arena-pane study-messages', dataset: { model: label } });
    const input = h('textarea', { id: 'study-input', rows: 2, 'aria-label': `Message to Model ${label}`,
      placeholder: `Message Model ${label} (Enter to send)` });
    const sendButton = h('button', { class: 'btn primary', type: 'submit', text: 'Send' });
    const nextButton = h('button', { id: 'study-next', class: 'btn', type: 'button',
      text: label === 'A' ? 'Done: go to Model B →' : 'Done: go to the questions →' });
    const form = h('form', { class: 'composer arena-composer' }, input, sendButton, nextButton);
    main.replaceChildren(h('h2', { class: 'arena-model', text: `Model ${label}` }), list, form);
    let left = protocol.minutes_per_model * 60;
    let busy = false;
    const tick = () => {
      status.textContent = `Chat freely with Model ${label}: ${Math.floor(left / 60)}:${String(left % 60)
        .padStart(2, '0')} left`;
      if (left-- <= 0) finish();
    };
    const timer = setInterval(tick, 1000);
    tick();
    function finish() {
      clearInterval(timer);
      next();
    }
    nextButton.addEventListener('click', finish);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim() || busy) return;
      input.value = '';
      busy = true;
      sendButton.disabled = true;
      error.hidden = true;
      history.push({ role: 'user', content: text });
      list.append(h('div', { class: 'msg user' }, h('div', { class: 'msg-body', text })));
      const body = h('div', { class: 'msg-body markdown cursor' });
      const article = h('article', { class: 'msg assistant streaming' }, body);
      list.append(article);
      let answer = '';
      try {
        const response = await send('POST', `/api/arena/study/${enc}/chat`, { model: label, messages: history });
        for await (const { data } of sseEvents(response.body)) {
          if (data === '[DONE]') break;
          const event = JSON.parse(data);
          if (event.error) throw new Error(String(event.error.message || 'the model failed'));
          if (typeof event.content === 'string') {
            answer += event.content;
            setMarkdown(body, answer);
          }
        }
        history.push({ role: 'assistant', content: answer });
      } catch (err) {
        history.pop();
        fail(err);
      } finally {
        body.classList.remove('cursor');
        article.classList.remove('streaming');
        busy = false;
        sendButton.disabled = false;
      }
    });
    input.focus();
  }

  function questions() {
    status.textContent = 'Last step: a few questions';
    const groups = protocol.questions.map((q, i) => h('fieldset', { class: 'study-question' },
      h('legend', { text: q }), CHOICES.map(([value, text]) => h('label', {},
        h('input', { type: 'radio', name: `study-q-${i}`, value }), ` ${text} `))));
    const aboutA = h('textarea', { id: 'study-about-a', rows: 2, 'aria-label': 'About Model A' });
    const aboutB = h('textarea', { id: 'study-about-b', rows: 2, 'aria-label': 'About Model B' });
    const submit = h('button', { id: 'study-submit', class: 'btn primary', type: 'submit', text: 'Submit' });
    const form = h('form', { class: 'study-form' }, groups,
      h('label', {}, 'Anything about Model A? ', aboutA), h('label', {}, 'Anything about Model B? ', aboutB), submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const answers = [];
      protocol.questions.forEach((_, i) => {
        const picked = form.querySelector(`input[name="study-q-${i}"]:checked`);
        if (picked) answers.push({ question: i, choice: picked.value });
      });
      submit.disabled = true;
      try {
        await send('POST', `/api/arena/study/${enc}/answers`, { answers, about_a: aboutA.value || null,
          about_b: aboutB.value || null });
        status.textContent = '';
        main.replaceChildren(h('p', { id: 'study-thanks', text: 'Thank you: your answers are in.' }));
      } catch (err) {
        submit.disabled = false;
        fail(err);
      }
    });
    main.replaceChildren(form);
  }

  chatPhase('A', () => chatPhase('B', questions));
}

// ---- organiser ----

function resultsView(r) {
  const rows = [];
  for (const q of r.results) {
    for (const m of q.models) {
      rows.push(h('tr', { dataset: { question: q.question, model: m.model } }, h('td', { text: q.question }),
        h('td', { text: m.model }), h('td', { class: 'study-named', text: `${m.named} / ${q.respondents}` }),
        h('td', { class: 'study-share', text: q.respondents ? `${pct(m.share.estimate)} [${pct(m.share.low)}, ` +
          `${pct(m.share.high)}]` : '–' })));
    }
  }
  return h('div', { id: 'study-results' },
    h('p', { text: `${r.name}: ${r.model_a} vs ${r.model_b}, ${r.minutes_per_model} min each; ` +
      `${r.joined} of ${r.participants} joined, ${r.answered} answered.` }),
    h('table', { class: 'arena-table' }, h('thead', {}, h('tr', {}, ['Question', 'Model', 'Named', 'Share (95% CI)']
      .map((t) => h('th', { text: t })))), h('tbody', {}, rows)),
    h('h3', { text: 'AI-speak in the free text' }),
    h('ul', {}, r.ai_speak.map((m) => h('li', { class: 'study-ai-speak', dataset: { model: m.model },
      text: `${m.model}: ${m.total} phrase(s) in ${m.texts} text(s)${m.phrases.length ? ` (${m.phrases
        .map((p) => `${p.phrase} ×${p.count}`).join(', ')})` : ''}` }))),
    h('h3', { text: 'Free text' }),
    h('ul', {}, r.free_text.map((t) => h('li', { text: `${t.model}: ${t.text}` }))),
    h('h3', { text: 'Invites' }),
    h('ul', {}, r.invites.map((i) => h('li', {}, h('a', { href: `/#study=${i.code}`, class: 'study-invite',
      text: `${location.origin}/#study=${i.code}` }), ` (${i.a_first ? r.model_a : r.model_b} first` +
      `${i.answered ? ', answered' : i.joined ? ', joined' : ''})`))));
}

export async function startOrganiser(root) {
  const error = h('div', { id: 'study-error', class: 'error-bar', hidden: true });
  const fail = (e) => { error.textContent = message(e); error.hidden = false; };
  const models = ((await send('GET', '/v1/models').then((r) => r.json()).catch(() => ({ data: [] }))).data || [])
    .map((m) => m.id).filter((id) => !ROUTER_MODES.includes(id));  // a study compares two real models
  const select = (id) => h('select', { id }, models.map((m) => h('option', { value: m, text: m })));
  const modelA = select('study-model-a');
  const modelB = select('study-model-b');
  if (models.length > 1) modelB.value = models[1];
  const name = h('input', { id: 'study-name', value: 'study' });
  const minutes = h('input', { id: 'study-minutes', type: 'number', min: 1, max: 1440, value: 10 });
  const participants = h('input', { id: 'study-participants', type: 'number', min: 1, max: 10000, value: 12 });
  const form = h('form', { id: 'study-create', class: 'study-form' },
    h('label', {}, 'Name ', name), h('label', {}, 'Model A ', modelA), h('label', {}, 'Model B ', modelB),
    h('label', {}, 'Minutes per model ', minutes), h('label', {}, 'Participants ', participants),
    h('button', { class: 'btn primary', type: 'submit', text: 'Create study' }));
  const list = h('ul', { id: 'study-list' });
  const results = h('div', {});
  root.append(h('section', { class: 'arena-board' }, h('h2', { text: 'New study' }), form, error,
    h('h2', { text: 'Studies' }), list, results));

  async function show(id) {
    try {
      results.replaceChildren(resultsView(await (await send('GET', `/api/arena/studies/${id}`)).json()));
    } catch (e) { fail(e); }
  }
  async function refresh() {
    const studies = (await (await send('GET', '/api/arena/studies')).json()).data;
    list.replaceChildren(...studies.map((s) => h('li', {}, h('button', { class: 'btn small', type: 'button',
      dataset: { study: s.id }, text: `${s.name} (${s.model_a} vs ${s.model_b})`, onclick: () => show(s.id) }))));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const created = await (await send('POST', '/api/arena/studies', { name: name.value, model_a: modelA.value,
        model_b: modelB.value, minutes_per_model: Number(minutes.value),
        participants: Number(participants.value) })).json();
      await refresh();
      await show(created.id);
    } catch (err) { fail(err); }
  });
  await refresh().catch(fail);
}

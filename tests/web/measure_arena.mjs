// measure_arena.mjs: the arena's figures in Chromium against `duet serve` with two scripted models on loopback
// (not a test: it prints figures), and, with --screenshots DIR, the study's screenshots for the README.
//   node tests/web/measure_arena.mjs [--battles N] [--screenshots DIR] [--keep-data DIR]
//
//   battle start   click Send -> both panes show their first token (the frame after the text is in the page),
//                  minus the slower side's server TTFT for that turn (revealed by the vote; measured by the server
//                  from the request's arrival to the first token it reads). What is left is what a battle adds:
//                  the request's trip, the stream to the page, parsing and the first render. Median and p90 of N
//                  (default 20).
//   --screenshots  organiser creating a study, a participant's chat, the questions, the results (Wilson intervals),
//                  a revealed battle; PNGs under DIR (docs/ for the README). Runs a three-participant study and a
//                  few battles; --keep-data DIR keeps the store there for `duet arena report --data-dir DIR`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, launchBrowser, openPage, binary, sleep } from './harness.mjs';

if (skipReason()) process.exit(0);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const nBattles = Number(arg('--battles', '20'));
const shotsDir = arg('--screenshots', null);
const keepData = arg('--keep-data', null);

const scriptDir = mkdtempSync(join(tmpdir(), 'duet-arena-measure-'));
const dataDir = keepData || join(scriptDir, 'data');
// Two scripted models that answer differently, so that a scripted voter can prefer one by what it reads: the
// expert explains Kubernetes well but sounds "too AI" in Chinese; the daily model is brief in English and warm in
// Chinese. TTFT: the expert's first token after 300 ms, the daily model's after 150 ms.
const EXPERT = 'llama-3-8b-instruct';
const DAILY = 'deepseek-r1-distill-qwen-1.5b';
const scripts = {
  [EXPERT]: { delay: 300, kube: 'A **Deployment** keeps N replicas of a pod running:\n\n```yaml\nkind: Deployment\n' +
    'spec:\n  replicas: 3\n```\n\nScale it with `kubectl scale deployment web --replicas=5`. As an AI, I hope this ' +
    'helps!', zh: '根据我的分析，您目前可能面临一定的压力。综上所述，建议您先冷静下来，再制定计划。' },
  [DAILY]: { delay: 150, kube: '用 Deployment 吧，replicas 设成 3 就行。', zh: '别急～先歇会儿，喝口水。说说具体是啥情况？' +
    '我帮你一起想办法。' },
};
for (const [name, s] of Object.entries(scripts)) {
  writeFileSync(join(scriptDir, `${name}.jsonl`), [
    { contains: 'who are you', reply: 'I am {{model}}. Ask me anything: code, travel, 日常聊天.', pace_ms: 30 },
    { contains: 'Kubernetes', reply: s.kube, pace_ms: 25 },
    { contains: '咋整', reply: s.zh, pace_ms: 25, chunk: 6 },
    { default: true, reply: '{{model}}: you said "{{user}}". Here is a short answer with **markdown**.', pace_ms: 20 },
  ].map((r) => JSON.stringify({ ...r, first_delay_ms: s.delay })).join('\n'));
}

const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (v) => `${v.toFixed(1)} ms`;

async function startServe() {
  const proc = spawn(binary, ['serve', '-m', `${EXPERT}=script:${join(scriptDir, `${EXPERT}.jsonl`)}`,
    '-m', `${DAILY}=script:${join(scriptDir, `${DAILY}.jsonl`)}`, '--expert', EXPERT, '--daily', DAILY,
    '--port', '0', '--data-dir', dataDir, '--arena-votes-per-minute', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`duet serve exited with ${code}: ${log}`)));
  });
  return { url, proc };
}

// One battle: Send -> both first tokens on screen (page clock), then a tie vote to read the server's TTFTs.
async function timeBattleStart(page, prompt) {
  await page.click('#arena-new');
  await page.fill('#arena-input', prompt);
  const onScreen = await page.evaluate(() => new Promise((resolve) => {
    const panes = [...document.querySelectorAll('.arena-pane .arena-turns')];
    const shown = () => panes.every((p) => (p.querySelector('.msg.assistant .msg-body')?.textContent || '').length > 0);
    let t0 = 0;
    const observer = new MutationObserver(() => {
      if (!shown()) return;
      observer.disconnect();
      const inPage = performance.now() - t0;
      // The text is in the page; the frame that paints it follows this task.
      setTimeout(() => resolve({ inPage, painted: performance.now() - t0 }), 0);
    });
    observer.observe(document.getElementById('arena-battle'), { subtree: true, childList: true, characterData: true });
    t0 = performance.now();
    document.getElementById('arena-send').click();
  }));
  await page.waitForFunction(() => document.querySelectorAll('.arena-pane article.streaming').length === 0 &&
    !document.querySelector('#arena-vote').hidden);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/vote')),
    page.click('[data-verdict="tie"]')]);
  const t = (await response.json()).turns[0];
  return { ...onScreen, slower: Math.max(t.ttft_ms_a, t.ttft_ms_b) };
}

async function measureBattleStart(browser, url) {
  const { page, context } = await openPage(browser, url, { hash: '#arena' });
  await timeBattleStart(page, 'warm up');  // the markdown module and connections, as after the page's first minute
  const runs = [];
  for (let i = 0; i < nBattles; i++) runs.push(await timeBattleStart(page, `battle ${i}: who are you?`));
  const added = runs.map((r) => r.painted - r.slower);
  console.log(`battle start -> both first tokens on screen: median ${ms(quantile(runs.map((r) => r.painted), 0.5))}` +
    ` (text in the page: ${ms(quantile(runs.map((r) => r.inPage), 0.5))}); slower side's server TTFT: median ` +
    `${ms(quantile(runs.map((r) => r.slower), 0.5))}`);
  console.log(`added over the slower model's TTFT: median ${ms(quantile(added, 0.5))}, p90 ${ms(quantile(added, 0.9))}` +
    `, max ${ms(Math.max(...added))} (${runs.length} battles; target < 20 ms)`);
  await context.close();
}

// A participant's whole study through the page; `shots` names the screenshots to take on the way.
async function participant(browser, url, link, answers, shots = {}) {
  const p = await openPage(browser, url, { hash: link.slice(1), viewport: { width: 1100, height: 720 } });
  const prompts = { A: ['who are you?', 'How do I run three copies of a web app on Kubernetes?'], B: ['这事儿咋整啊'] };
  for (const label of ['A', 'B']) {
    await p.page.locator(`.study-messages[data-model="${label}"]`).waitFor();
    for (const prompt of prompts[label]) {
      const before = await p.page.locator('.study-messages article.msg.assistant:not(.streaming)').count();
      await p.page.fill('#study-input', prompt);
      await p.page.press('#study-input', 'Enter');
      await p.page.waitForFunction((n) => document.querySelectorAll(
        '.study-messages article.msg.assistant:not(.streaming)').length > n, before);
    }
    if (label === 'A' && shots.chat) await p.page.screenshot({ path: shots.chat });
    await p.page.click('#study-next');
  }
  await p.page.locator('#study-submit').waitFor();
  for (const [q, choice] of answers.entries()) if (choice) await p.page.check(`input[name="study-q-${q}"][value="${choice}"]`);
  if (shots.aboutA) await p.page.fill('#study-about-a', shots.aboutA);
  if (shots.questions) await p.page.screenshot({ path: shots.questions, fullPage: true });
  await p.page.click('#study-submit');
  await p.page.locator('#study-thanks').waitFor();
  await p.context.close();
}

async function screenshots(browser, url) {
  mkdirSync(shotsDir, { recursive: true });
  const shot = (name) => join(shotsDir, name);
  const organiser = await openPage(browser, url, { hash: '#arena/studies', viewport: { width: 1100, height: 720 } });
  const page = organiser.page;
  await page.locator('#study-create').waitFor();
  await page.fill('#study-name', 'Support assistant pilot');
  await page.selectOption('#study-model-a', EXPERT);
  await page.selectOption('#study-model-b', DAILY);
  await page.fill('#study-minutes', '10');
  await page.fill('#study-participants', '6');
  await page.screenshot({ path: shot('study-create.png') });
  await page.click('#study-create button[type="submit"]');
  await page.locator('#study-results').waitFor();
  const links = await page.$$eval('.study-invite', (as) => as.map((a) => a.getAttribute('href')));
  // Six participants (even slots meet the expert first, odd ones the daily model); [keep chatting, understood,
  // too AI] in their own labels (A = the model met first). In model terms: keep chatting daily 5 of 6,
  // understood daily 5 and expert 3, too AI expert 4 and daily 1.
  const answers = [['b', 'b', 'a'], ['a', 'both', 'b'], ['a', 'a', 'neither'], ['a', 'a', 'b'], ['b', 'both', 'b'],
    ['a', 'a', 'b']];
  const aboutA = { 0: 'Knew Kubernetes well but ended with "As an AI, I hope this helps!"',
    2: 'Clear and correct. As an AI language model it hedged a little.', 3: '像朋友一样聊天，很自然。' };
  for (let i = 0; i < links.length; i++) {
    await participant(browser, url, links[i], answers[i], i === 0 ? {
      chat: shot('study-chat.png'), questions: shot('study-questions.png'), aboutA: aboutA[0],
    } : { aboutA: aboutA[i] || '' });
  }
  await page.click('#study-list button');
  await page.locator('#study-results').filter({ hasText: `${links.length} answered` }).waitFor();
  await page.locator('#study-results').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot('study-results.png'), fullPage: true });
  await organiser.context.close();
  console.log(`study with ${links.length} participants done; screenshots in ${shotsDir}`);

  // Battles, voted by what the panes say (the voter cannot see the names): [prompt, text the voter prefers].
  const kube = 'How do I run three copies of a web app on Kubernetes?';
  const battles = [[kube, 'kubectl'], ['这事儿咋整啊', '别急'], [kube, 'kubectl'], ['who are you?', 'tie'],
    ['这事儿咋整啊', '别急'], [kube, 'replicas 设成'], ['这事儿咋整啊', '综上所述'], ['who are you?', 'both_bad']];
  const b = await openPage(browser, url, { hash: '#arena', viewport: { width: 1100, height: 720 } });
  for (const [i, [prompt, prefer]] of battles.entries()) {
    await b.page.click('#arena-new');
    await b.page.fill('#arena-input', prompt);
    await b.page.press('#arena-input', 'Enter');
    await b.page.waitForFunction(() => !document.querySelector('#arena-vote').hidden &&
      document.querySelectorAll('.arena-pane article.streaming').length === 0);
    let verdict = prefer;
    if (prefer !== 'tie' && prefer !== 'both_bad') {
      verdict = (await b.page.locator('.arena-pane[data-side="a"]').innerText()).includes(prefer) ? 'a' : 'b';
    }
    await b.page.click(`[data-verdict="${verdict}"]`);
    await b.page.locator('#arena-reveal').waitFor();
    if (i === 1) await b.page.screenshot({ path: shot('arena-reveal.png') });
  }
  await b.page.click('.arena-tab[data-tab="leaderboard"]');
  await b.page.locator('#arena-board-router').waitFor();
  await b.page.screenshot({ path: shot('arena-leaderboard.png') });
  await b.context.close();
  console.log(`${battles.length} battles voted`);
}

const { url, proc } = await startServe();
const browser = await launchBrowser();
try {
  if (shotsDir) await screenshots(browser, url);
  else await measureBattleStart(browser, url);
} finally {
  await browser.close();
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  rmSync(scriptDir, { recursive: true, force: true });

}

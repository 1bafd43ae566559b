// arena.test.mjs: the arena page in Chromium against a real `duet serve` with two scripted models
// (arena_script.jsonl): both answers stream at the same time with the names masked, markdown is rendered through
// the sanitised path (raw HTML stays text), the vote reveals names and latencies, the leaderboard shows the same
// numbers as `duet arena report --json`, and a session's third vote in a minute is refused
// (--arena-votes-per-minute 2); alpha is the router's expert and beta its daily model, so the reveal names the
// router's pick and the leaderboard counts router agreement; at phone width (390 px) the arena's header controls
// stay on screen. Run by ctest (web_arena); skips loudly when something is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, launchBrowser, openPage, binary, sleep } from './harness.mjs';

const skip = skipReason() || false;
const script = new URL('./arena_script.jsonl', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'duet-arena-web-'));
let proc = null;
let url = null;
let browser = null;

before(async () => {
  if (skip) return;
  proc = spawn(binary, ['serve', '-m', `alpha=script:${script}`, '-m', `beta=script:${script}`, '--port', '0',
    '--data-dir', dataDir, '--arena-votes-per-minute', '2', '--expert', 'alpha', '--daily', 'beta'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`duet serve exited with ${code}: ${log}`)));
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function cliReport() {
  const r = spawnSync(binary, ['arena', 'report', '--json', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function ask(page, text) {
  await page.fill('#arena-input', text);
  await page.press('#arena-input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.arena-pane article.streaming').length === 0 &&
    !document.querySelector('#arena-vote').hidden);
}

async function boardMatchesCli(page, battles) {
  await page.click('.arena-tab[data-tab="leaderboard"]');
  await page.locator('#arena-board-count').filter({ hasText: `${battles} voted battles` }).waitFor();
  const cli = cliReport();
  assert.equal(cli.battles, battles);
  const rows = await page.$$eval('.arena-table tbody tr', (trs) => trs.map((tr) =>
    [...tr.children].map((td) => td.textContent)));
  assert.equal(rows.length, cli.ratings.length);
  cli.ratings.forEach((r, i) => {
    assert.deepEqual(rows[i].slice(0, 5), [String(r.rank), r.model, r.elo.toFixed(1),
      `${r.elo_low.toFixed(1)} – ${r.elo_high.toFixed(1)}`, String(r.battles)]);
  });
  const api = await page.evaluate(async () => (await fetch('/api/arena/leaderboard')).json());
  assert.deepEqual(api, cli);
  const a = cli.router.agreement;
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  assert.equal(await page.locator('#arena-board-router').innerText(), `Router agreement: ${a.successes} of ` +
    `${a.trials} decisive votes chose the router's pick (${pct(a.estimate)}, 95% [${pct(a.low)}, ${pct(a.high)}]); ` +
    `${cli.router.undecided} tie or both bad, ${cli.router.pick_not_in_battle} with the pick not in the battle.`);
  return cli;
}

test('a full battle: both answers stream masked, vote, reveal, leaderboard, rate limit', { skip }, async () => {
  const { page, context, events } = await openPage(browser, url, { hash: '#arena' });
  await page.fill('#arena-input', 'who are you?');
  await page.press('#arena-input', 'Enter');
  // Both panes show part of their answer while both are still streaming.
  await page.waitForFunction(() => {
    const live = [...document.querySelectorAll('.arena-pane article.streaming .msg-body')];
    return live.length === 2 && live.every((n) => n.textContent.trim().length > 0);
  });
  await page.waitForFunction(() => document.querySelectorAll('.arena-pane article.streaming').length === 0 &&
    !document.querySelector('#arena-vote').hidden);
  for (const side of ['a', 'b']) {
    const pane = page.locator(`.arena-pane[data-side="${side}"]`);
    const text = await pane.innerText();
    assert.match(text, /Hello! I am \[hidden\], a \[hidden\] model\./);
    assert.doesNotMatch(text, /alpha|beta/);
    assert.equal(await pane.locator('h2').innerText(), `Model ${side.toUpperCase()}`);
    assert.equal(await pane.locator('.msg-body strong').first().innerText(), '[hidden]');
    assert.equal(await pane.locator('.msg-body li').count(), 3);
  }

  // A second turn whose answer carries raw HTML: shown as text, never run.
  await ask(page, 'xss please');
  assert.equal(await page.locator('.arena-pane img').count(), 0);
  assert.match(await page.locator('.arena-pane[data-side="a"]').innerText(), /<img src=x onerror=/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  await page.click('#arena-vote summary');  // the three questions are optional, folded away
  await page.selectOption('#arena-q-keep_chatting', 'a');
  await page.click('[data-verdict="a"]');
  await page.locator('#arena-reveal').waitFor();
  const names = [];
  for (const side of ['a', 'b']) {
    const pane = page.locator(`.arena-pane[data-side="${side}"]`);
    const heading = await pane.locator('h2').innerText();
    const name = heading.replace(`${side.toUpperCase()}: `, '');
    names.push(name);
    assert.match(await pane.innerText(), new RegExp(`Hello! I am ${name}, a Llama model\\.`));
    assert.match(await pane.locator('.meta-ttft').first().innerText(), /^TTFT \d+ ms$/);
  }
  assert.deepEqual([...names].sort(), ['alpha', 'beta']);
  assert.match(await page.locator('#arena-reveal').innerText(), new RegExp(`A was ${names[0]}, B was ${names[1]}`));
  // The router's pick for the first prompt (English: the expert, alpha), revealed with the vote.
  const pickSide = names.indexOf('alpha') === 0 ? 'A' : 'B';
  assert.equal(await page.locator('#arena-router-pick').innerText(), 'The router would have sent the first prompt ' +
    `to alpha (expert), side ${pickSide}: ${pickSide === 'A' ? 'the one you preferred' : 'not the one you preferred'}.`);
  const cli = await boardMatchesCli(page, 1);
  assert.equal(cli.ratings.find((r) => r.model === names[0]).wins, 1);
  assert.equal(cli.router.with_pick, 1);
  assert.equal(cli.router.agreement.successes, pickSide === 'A' ? 1 : 0);
  assert.equal(cli.router_by_route.expert.with_pick, 1);
  const exported = await page.evaluate(async () => {
    const link = [...document.querySelectorAll('#arena-board a')].find((a) => a.textContent === 'JSON Lines');
    return (await fetch(link.href)).text();
  });
  const lines = exported.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].router_pick, 'alpha');
  assert.equal(lines[0].route, 'expert');
  assert.equal(lines[0].turns.length, 2);

  // Second battle: counted. Third: over the session's limit of 2 votes a minute, refused with a message.
  await page.click('#arena-new');
  await ask(page, 'hello');
  await page.click('[data-verdict="b"]');
  await page.locator('#arena-reveal').waitFor();
  await page.click('#arena-new');
  await ask(page, 'hello again');
  await page.click('[data-verdict="tie"]');
  await page.locator('#arena-error').filter({ hasText: 'Vote not counted' }).waitFor();
  assert.match(await page.locator('#arena-error').innerText(), /at most 2 votes a minute/);
  assert.equal(await page.isVisible('#arena-reveal'), false);
  assert.equal(await page.locator('.arena-pane h2').first().innerText(), 'Model A');
  await boardMatchesCli(page, 2);

  assert.deepEqual(events.errors, []);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  await context.close();
});

test('a study with three participants: invites, chats, questions, results equal to the answers', { skip }, async () => {
  const organiser = await openPage(browser, url, { hash: '#arena/studies' });
  const page = organiser.page;
  await page.locator('#study-create').waitFor();
  await page.fill('#study-name', 'pilot');
  await page.selectOption('#study-model-a', 'alpha');
  await page.selectOption('#study-model-b', 'beta');
  await page.fill('#study-minutes', '1');
  await page.fill('#study-participants', '3');
  await page.click('#study-create button[type="submit"]');
  await page.locator('#study-results').waitFor();
  const links = await page.$$eval('.study-invite', (as) => as.map((a) => a.getAttribute('href')));
  assert.equal(links.length, 3);

  // Everyone answers "Model A" (the model they chatted with first) to the first question: with the order
  // counterbalanced (slots 0 and 2 start with alpha, slot 1 with beta) that names alpha twice and beta once.
  const understood = ['both', 'neither', 'b'];  // alpha+beta, none, slot 2's B = beta
  for (let i = 0; i < 3; i++) {
    const p = await openPage(browser, url, { hash: links[i].slice(1) });
    for (const label of ['A', 'B']) {
      await p.page.locator(`.study-messages[data-model="${label}"]`).waitFor();
      await p.page.fill('#study-input', 'who are you?');
      await p.page.press('#study-input', 'Enter');
      const answer = p.page.locator('.study-messages article.msg.assistant:not(.streaming) .msg-body');
      await answer.filter({ hasText: 'model.' }).waitFor();
      const text = await answer.innerText();
      assert.match(text, /I am \[hidden\], a \[hidden\] model\./);
      assert.doesNotMatch(await p.page.locator('#arena').innerText(), /alpha|beta/);
      await p.page.click('#study-next');
    }
    await p.page.locator('#study-submit').waitFor();
    await p.page.check('input[name="study-q-0"][value="a"]');
    await p.page.check(`input[name="study-q-1"][value="${understood[i]}"]`);
    if (i === 1) await p.page.fill('#study-about-a', 'As an AI language model it kept saying I hope this helps');
    await p.page.click('#study-submit');
    await p.page.locator('#study-thanks').waitFor();
    // One answer per participant per question: coming back shows the thanks, a second submission is refused.
    await p.page.reload();
    await p.page.locator('#study-thanks').waitFor();
    const code = links[i].replace('/#study=', '');
    const again = await p.page.evaluate(async (c) => (await fetch(`/api/arena/study/${c}/answers`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answers: [{ question: 0, choice: 'b' }] }) })).status, code);
    assert.equal(again, 409);
    assert.deepEqual(p.events.errors, []);
    await p.context.close();
  }

  await page.click('#study-list button');
  await page.locator('#study-results').filter({ hasText: '3 of 3 joined, 3 answered' }).waitFor();
  const named = async (question, model) => page.locator(`#study-results tr[data-model="${model}"]`)
    .filter({ hasText: question }).locator('.study-named').innerText();
  assert.equal(await named('keep chatting', 'alpha'), '2 / 3');
  assert.equal(await named('keep chatting', 'beta'), '1 / 3');
  assert.equal(await named('understood', 'alpha'), '1 / 3');
  assert.equal(await named('understood', 'beta'), '2 / 3');
  const share = await page.locator('#study-results tr[data-model="alpha"]').first().locator('.study-share').innerText();
  assert.match(share, /^66\.7% \[\d+\.\d%, \d+\.\d%\]$/);
  // Slot 1 chatted with beta first: their free text is about beta.
  assert.match(await page.locator('.study-ai-speak[data-model="beta"]').innerText(), /beta: 2 phrase\(s\) in 1 text/);
  assert.match(await page.locator('.study-ai-speak[data-model="alpha"]').innerText(), /alpha: 0 phrase/);
  // `duet arena report` (text) prints the same study results.
  const text = spawnSync(binary, ['arena', 'report', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  const study = text.stdout.slice(text.stdout.indexOf('\nstudy '));
  assert.match(study, /study \d+ "pilot": alpha vs beta, 1 min each; 3 of 3 joined, 3 answered/);
  assert.match(study, /keep chatting with\? \(3 answered\)\n\s+alpha\s+2 \/ 3\s+66\.7%\s+95% \[.*\]\n\s+beta\s+1 \/ 3/);
  assert.match(study, /AI-speak about beta: 2 phrase\(s\) in 1 free text\(s\)/);
  assert.deepEqual(organiser.events.errors, []);
  await organiser.context.close();
});

test('at phone width (390 px) every arena header control stays on screen', { skip }, async () => {
  const { page, context, events } = await openPage(browser, url, { hash: '#arena',
    viewport: { width: 390, height: 844 } });
  for (const tab of ['battle', 'leaderboard', 'studies']) {
    await page.click(`.arena-tab[data-tab="${tab}"]`);
    await page.waitForFunction((t) => document.querySelector(`.arena-tab[data-tab="${t}"]`)
      .classList.contains('primary'), tab);
    const boxes = await page.$$eval('.arena-head > *', (nodes) => nodes.map((n) => {
      const r = n.getBoundingClientRect();
      return { text: n.textContent, left: r.left, right: r.right, width: window.innerWidth };
    }));
    assert.ok(boxes.length >= 6, JSON.stringify(boxes));
    for (const b of boxes) {
      assert.ok(b.left >= 0 && b.right <= b.width, `${tab}: "${b.text}" spans ${b.left}-${b.right} of ${b.width} px`);
    }
  }
  assert.deepEqual(events.errors, []);
  await context.close();
});

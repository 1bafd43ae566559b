// xss.test.mjs: the XSS corpus (xss_payloads.mjs) through every untrusted path of the page: user messages,
// model output (the scripted model echoes the payload: rendered as markdown), conversation titles (from the
// first message and by rename), and imported files (title, content, reasoning, model name, router explanation,
// the system prompt sent). Nothing may run: window.__pwned stays unset, no dialog opens, no CSP violation is
// reported (the sanitizer must stop it before the policy has to), and no dangerous element or attribute is left
// in the document. Also: auth (no key, no data). Run by ctest (web_xss).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, startServer, launchBrowser, openPage, sendAndWait } from './harness.mjs';
import { payloads } from './xss_payloads.mjs';

const skip = skipReason() || false;
let server = null;
let browser = null;
const tmp = mkdtempSync(join(tmpdir(), 'duet-xss-'));

before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

// Everything that would mean a payload got through, as a list of findings (empty = clean).
async function findings(page, events) {
  const inPage = await page.evaluate(() => {
    const out = [];
    if (window.__pwned !== undefined) out.push(`window.__pwned = ${String(window.__pwned)}`);
    for (const v of window.__cspViolations) out.push(`CSP violation: ${v.directive} ${v.blocked} ${v.sample}`);
    const roots = [document.getElementById('messages'), document.getElementById('conversation-list'),
      document.getElementById('chat-title')];
    for (const root of roots) {
      for (const el of root.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'style', 'link', 'meta', 'base', 'form', 'img',
          'video', 'audio', 'template', 'noscript', 'marquee'].includes(tag)) out.push(`element <${tag}> in #${root.id}`);
        for (const attr of el.attributes) {
          if (/^on/i.test(attr.name)) out.push(`attribute ${attr.name} on <${tag}>`);
          if (['href', 'src', 'action', 'formaction', 'xlink:href', 'background'].includes(attr.name) &&
            /^\s*(javascript|data|vbscript):/i.test(attr.value)) out.push(`${attr.name}=${attr.value} on <${tag}>`);
          if (attr.name === 'style' || attr.name === 'id' && root.id === 'messages') out.push(`${attr.name} on <${tag}>`);
        }
      }
    }
    return out;
  });
  return [...inPage, ...events.dialogs.map((d) => `dialog: ${d}`), ...events.errors.map((e) => `page error: ${e}`)];
}

test(`${payloads.length} payloads as user messages, model output and titles run nothing`, { skip }, async () => {
  assert.ok(payloads.length >= 50);
  const { page, context, events } = await openPage(browser, server.url);
  for (let i = 0; i < payloads.length; i++) {
    if (i % 10 === 0) await page.click('#new-chat');  // new conversations: the first message becomes the title
    const answer = await sendAndWait(page, `XSS ${payloads[i]}`);
    // The user's text is shown as text, exactly.
    assert.equal(await page.locator('article.msg.user .msg-body').last().textContent(), `XSS ${payloads[i]}`);
    assert.ok(await answer.isVisible());
  }
  // Titles set by rename (the whole payload, not the first line only).
  const list = await (await fetch(`${server.url}/api/conversations`)).json();
  for (let i = 0; i < list.data.length; i++) {
    const r = await fetch(`${server.url}/api/conversations/${list.data[i].id}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: payloads[i] }) });
    assert.equal(r.status, 200);
  }
  await page.reload();
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'all');
  for (const item of await page.locator('.conv .conv-title').all()) {
    await item.click();
    await page.waitForFunction(() => document.querySelectorAll('article.msg').length > 0);
    await page.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
  }
  await page.locator('#messages [id^="clickme"]').evaluateAll((all) => all.forEach((e) => e.click()));
  assert.deepEqual(await findings(page, events), []);
  await context.close();
});

test('payloads in an imported file (titles, content, reasoning, model, route, system prompt) run nothing', { skip }, async () => {
  const conversations = payloads.map((p, i) => ({
    title: p, mode: 'script',
    messages: [
      { role: 'user', content: p },
      { role: 'assistant', content: p, reasoning: p, model: `script${i % 2 ? p : ''}`, system_prompt_sent: p,
        route: { mode: p, model: p, explanation: p }, finish_reason: 'stop',
        timings: { ttft_ms: 1, tokens_per_second: 2, reasoning_ms: 3000, prompt_tokens: 4, completion_tokens: 5 } },
    ],
  }));
  const file = join(tmp, 'payloads.json');
  writeFileSync(file, JSON.stringify({ format: 'duet-conversations', version: 1, conversations }));
  const { page, context, events } = await openPage(browser, server.url);
  const existing = await page.locator('.conv').evaluateAll((all) => all.map((e) => e.dataset.id));
  await page.setInputFiles('#import-file', file);
  await page.waitForFunction((n) => document.querySelectorAll('.conv').length >= n, existing.length + payloads.length);
  const ids = (await page.locator('.conv').evaluateAll((all) => all.map((e) => e.dataset.id)))
    .filter((id) => !existing.includes(id));
  assert.equal(ids.length, payloads.length);
  for (const id of ids) {
    await page.evaluate((h) => { location.hash = h; }, `#c=${encodeURIComponent(id)}`);
    await page.waitForFunction((x) => document.querySelector('.conv.active')?.dataset.id === x &&
      document.querySelectorAll('article.msg').length > 0, id);
    await page.locator('details').evaluateAll((all) => all.forEach((d) => { d.open = true; }));
  }
  // The router badge and explanation render as text.
  const explanations = await page.locator('.route-why').allTextContents();
  assert.ok(explanations.length > 0 && payloads.includes(explanations[0]));
  assert.deepEqual(await findings(page, events), []);
  await context.close();
});

test('with --api-key: no key, no data; the page asks once and then works', { skip }, async () => {
  const key = 'web-test-key-7731';
  const locked = await startServer({ apiKey: key });
  try {
    for (const path of ['/api/conversations', '/api/settings', '/api/system-prompts', '/v1/models', '/metrics']) {
      assert.equal((await fetch(`${locked.url}${path}`)).status, 401, path);
    }
    assert.equal((await fetch(`${locked.url}/api/conversations`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
    assert.equal((await fetch(`${locked.url}/`)).status, 200);  // the page itself holds no data
    // A conversation made with the key (Bearer), to be listed once the page has signed in.
    const made = await fetch(`${locked.url}/api/conversations`, { method: 'POST', body: '{"title": "made with the key"}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } });
    assert.equal(made.status, 201);
    const madeId = (await made.json()).id;
    const { page, context } = await openPage(browser, locked.url, { ready: 'input' });
    await page.waitForSelector('#login-dialog[open]');
    assert.equal(await page.locator('.conv').count(), 0);
    await page.fill('#login-key', 'wrong');
    await page.press('#login-key', 'Enter');
    await page.waitForSelector('#login-error:not([hidden])');
    await page.fill('#login-key', key);
    await page.press('#login-key', 'Enter');
    await page.waitForSelector('#login-dialog', { state: 'hidden' });  // a closed <dialog> is not rendered
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'all');
    assert.equal(await page.locator(`.conv[data-id="${madeId}"] .conv-title`).innerText(), 'made with the key');
    assert.equal(await page.getAttribute('.mode[data-mode="script"]', 'aria-checked'), 'true');
    const answer = await sendAndWait(page, 'hello with key');
    assert.equal((await answer.locator('.msg-body').innerText()).trim(), 'You said: hello with key');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.httpOnly);
    assert.ok(session, 'an HttpOnly session cookie');
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '');  // not readable from script
    // Asked once: a reload signs in with the cookie, no dialog.
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'all');
    assert.equal(await page.locator('#login-dialog[open]').count(), 0);
    assert.ok(await page.locator(`.conv[data-id="${madeId}"]`).count() === 1);
    // A cross-site state-changing call is refused even with the cookie.
    const cross = await fetch(`${locked.url}/api/conversations`, { method: 'POST', body: '{}',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example', cookie: `${session.name}=${session.value}` } });
    assert.equal(cross.status, 403);
    await context.close();
  } finally {
    await locked.stop();
  }
});

// measure.mjs: the chat page's numbers in Chromium against duet serve on loopback (not a test: it prints figures),
// and, with --screenshots DIR, PNG screenshots of the main views (light, dark, phone width).
//   node tests/web/measure.mjs [--first-load] [--loads N] [--cold-context] [--cpu] [--screenshots docs]
//   (--first-load: only the first-load figures; --loads: first loads to time, default 15; --cold-context: navigate
//   without waiting for the new context to settle; --cpu: also the CPU the browser spent on a first load, from
//   Chromium traces)
//
//   first load      empty cache, in a running and idle browser: navigation start -> the first frame after the
//                   input box works (first_load.mjs says exactly what); where the time went; bytes transferred
//                   (transferSize of the document and every resource), and which requests came before the input
//   new chat        click "+ New chat" -> the next frame (median and max of 20)
//   open 500        location.hash = a stored 500-message conversation -> the next frame after it is rendered (9)
//   chunk -> screen window.__duetChunkLatencies: SSE chunk read -> the frame that shows it (p50 / p99, 15 answers)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason, startServer, launchBrowser, openPage, sendAndWait } from './harness.mjs';
import { measureFirstLoad, measureFirstLoadCpu } from './first_load.mjs';

const reason = skipReason();
if (reason) process.exit(0);
const shotsIndex = process.argv.indexOf('--screenshots');
const shotsDir = shotsIndex > 0 ? process.argv[shotsIndex + 1] : null;
const onlyFirstLoad = process.argv.includes('--first-load');
const withCpu = process.argv.includes('--cpu');
const loadsIndex = process.argv.indexOf('--loads');
const loads = loadsIndex > 0 ? Number(process.argv[loadsIndex + 1]) : 15;

const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (v) => `${v.toFixed(1)} ms`;

const server = await startServer({ extraArgs: ['-m', `deepseek-r1-distill-qwen-1.5b=script:${new URL('./script.jsonl', import.meta.url).pathname}`] });
const browser = await launchBrowser();
try {
  await measureFirstLoad(browser, server, { loads, coldContext: process.argv.includes('--cold-context') });
  if (withCpu) await measureFirstLoadCpu(browser, server);
  if (!onlyFirstLoad) await otherFigures();
} finally {
  await browser.close();
  await server.stop();
}

// New conversation, opening 500 messages, SSE chunk to screen.
async function otherFigures() {
  const { page, context } = await openPage(browser, server.url);
  await sendAndWait(page, 'markdown please');
  const newChat = [];
  for (let i = 0; i < 20; i++) {
    newChat.push(await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      document.getElementById('new-chat').click();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)));
    })));
  }
  console.log(`new conversation -> ready: median ${ms(quantile(newChat, 0.5))}, max ${ms(Math.max(...newChat))} (20)`);

  // A 500-message conversation (markdown, code, reasoning), imported through the API.
  const messages = [];
  for (let i = 0; i < 250; i++) {
    messages.push({ role: 'user', content: `Question ${i}: how do I reverse a list in Python, and why?` });
    messages.push({ role: 'assistant', model: 'script', reasoning: i % 5 ? null : 'Think about slicing first.',
      content: `Answer ${i}: use **slicing** or \`reversed()\`:\n\n\`\`\`python\nxs = [1, 2, 3]\nprint(xs[::-1])\n` +
        `for x in reversed(xs):\n    print(x)\n\`\`\`\n\n- slicing copies\n- reversed() is lazy\n`,
      finish_reason: 'stop', timings: { ttft_ms: 120, tokens_per_second: 30, prompt_tokens: 40, completion_tokens: 60 } });
  }
  const imported = await (await fetch(`${server.url}/api/conversations/import`, { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 'duet-conversations', version: 1, conversations: [{ title: 'Long (500 messages)', messages }] }) })).json();
  const longId = imported.ids[0];
  const opens = [];
  for (let i = 0; i < 9; i++) {
    await page.click('#new-chat');
    opens.push(await page.evaluate((id) => new Promise((resolve) => {
      const t0 = performance.now();
      location.hash = `#c=${encodeURIComponent(id)}`;
      const check = () => {
        if (document.querySelectorAll('#messages article.msg').length === 500) {
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)));
        } else requestAnimationFrame(check);
      };
      check();
    }), longId));
  }
  console.log(`open a 500-message conversation (fetch + render): median ${ms(quantile(opens, 0.5))}, max ${ms(Math.max(...opens))} (${opens.length})`);

  await page.click('#new-chat');
  for (let i = 0; i < 15; i++) await sendAndWait(page, `stream timing ${i}`);
  const latencies = await page.evaluate(() => window.__duetChunkLatencies);
  console.log(`SSE chunk -> on screen: p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, ` +
    `max ${ms(Math.max(...latencies))} (${latencies.length} chunks)`);
  await context.close();
}

if (shotsDir) {
  // A fresh server, so that the list shows only the conversations made here.
  const server = await startServer({ extraArgs: ['-m', `deepseek-r1-distill-qwen-1.5b=script:${new URL('./script.jsonl', import.meta.url).pathname}`] });
  const browser = await launchBrowser();
  try {
    mkdirSync(shotsDir, { recursive: true });
    const { page: first, context: fc } = await openPage(browser, server.url);
    await sendAndWait(first, 'hello there');
    await first.click('#new-chat');
    await sendAndWait(first, 'think first: what is six times seven?');
    await fc.close();
    for (const scheme of ['light', 'dark']) {
      const { page: p, context: c } = await openPage(browser, server.url, { colorScheme: scheme });
      await p.click('#open-settings');
      await p.fill('#set-default-prompt', 'You are a helpful assistant.');
      await p.click('#settings-save');
      await sendAndWait(p, 'markdown please');
      await sendAndWait(p, 'think first');
      await p.locator('details.reasoning').last().evaluate((d) => { d.open = true; });
      await p.locator('details.sent-system').last().evaluate((d) => { d.open = true; });
      await p.screenshot({ path: join(shotsDir, `page-${scheme}.png`) });
      await c.close();
    }
    const { page: phone, context: pc } = await openPage(browser, server.url, { viewport: { width: 390, height: 780 } });
    await sendAndWait(phone, 'markdown please');
    await phone.screenshot({ path: join(shotsDir, 'page-phone.png') });
    await phone.click('#open-sidebar');
    await phone.waitForTimeout(300);
    await phone.screenshot({ path: join(shotsDir, 'page-phone-list.png') });
    await pc.close();
    const { page: sp, context: sc } = await openPage(browser, server.url);
    await sp.click(`.mode[data-mode="deepseek-r1-distill-qwen-1.5b"]`);
    await sp.click('#open-settings');
    await sp.screenshot({ path: join(shotsDir, 'page-settings.png') });
    await sc.close();
    console.log(`screenshots in ${shotsDir}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

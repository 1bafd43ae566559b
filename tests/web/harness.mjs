// harness.mjs: what the browser tests share: a real `duet serve` on loopback with the scripted model
// (tests/web/script.jsonl), Debian's chromium driven by playwright-core (never a downloaded browser), and a page
// that records script execution (window.__pwned, dialogs) and Content-Security-Policy violations.
//
// Environment: DUET_BINARY (the duet binary), DUET_CHROMIUM (default /usr/bin/chromium). A test file calls
// `requirements()` and skips, loudly, when something is missing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const scriptFile = join(here, 'script.jsonl');
export const binary = process.env.DUET_BINARY || join(here, '../../build/duet');
export const chromiumPath = process.env.DUET_CHROMIUM || '/usr/bin/chromium';

let playwright = null;
try {
  playwright = await import('playwright-core');
} catch { /* reported by requirements() */ }

// null when everything is there, else the reason to skip.
export function requirements() {
  if (!playwright) return 'playwright-core is not installed (./duet.sh setup runs npm ci in tests/web)';
  if (!existsSync(binary)) return `no duet binary at ${binary} (set DUET_BINARY)`;
  if (!existsSync(chromiumPath)) return `no chromium at ${chromiumPath} (apt-get install chromium)`;
  const help = spawnSync(binary, ['serve', '--help'], { encoding: 'utf8' }).stdout || '';
  if (!help.includes('--data-dir') && process.env.DUET_WEB_MOCK !== '1') {
    return 'this duet serve has no --data-dir: the store and /api/ are not wired in yet';
  }
  return null;
}

export function skipReason() {
  const reason = requirements();
  if (reason) console.error(`SKIPPED: ${reason}`);
  return reason;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts `duet serve` with the scripted model (plus `models`: extra -m specs) on a free loopback port.
// dataDir: reuse one to test persistence (default: a fresh temporary folder, removed by stop()).
export async function startServer({ apiKey = '', dataDir = null, extraArgs = [] } = {}) {
  const ownDir = !dataDir;
  const dir = dataDir || mkdtempSync(join(tmpdir(), 'duet-web-'));
  const mock = process.env.DUET_WEB_MOCK === '1';  // development only: /api from mock_api.mjs (in memory)
  const args = ['serve', '-m', `script=script:${scriptFile}`, '--port', '0', ...(mock ? [] : ['--data-dir', dir]),
    ...extraArgs];
  if (apiKey) args.push('--api-key', apiKey);
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${url}/health`).catch(() => null);
    if (r && r.status === 200) break;
    await sleep(25);
  }
  let mockProc = null;
  let pageUrl = url;
  if (mock) {
    mockProc = spawn(process.execPath, [join(here, 'mock_api.mjs'), join(binary, '../web/dist'), url, '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    pageUrl = await new Promise((resolve) => {
      mockProc.stdout.on('data', (d) => { const m = d.toString().match(/mock on (\S+)/); if (m) resolve(m[1]); });
    });
  }
  return {
    url: pageUrl, dir, proc, log: () => log,
    async stop({ keepData = false } = {}) {
      if (mockProc) mockProc.kill('SIGTERM');
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      if (ownDir && !keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return playwright.chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

// Opens the page in a fresh context. The page is instrumented before any of its own script runs:
// window.__pwned stays undefined unless a payload ran; __cspViolations lists CSP violation reports.
// beforeGoto(page): awaited on the blank tab just before the navigation (measure.mjs waits there for an idle browser).
export async function openPage(browser, url, { viewport = { width: 1280, height: 800 }, colorScheme = 'light',
  hash = '', context = null, ready = 'all', beforeGoto = null } = {}) {
  const ctx = context || await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  const page = await ctx.newPage();
  const events = { dialogs: [], errors: [] };
  page.on('dialog', (d) => { events.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => events.errors.push(String(e)));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  if (beforeGoto) await beforeGoto(page);
  await page.goto(`${url}/${hash}`);
  await page.waitForFunction((r) => document.documentElement.dataset.ready === r ||
    document.documentElement.dataset.ready === 'all', ready);
  return { page, context: ctx, events };
}

// Resolves after a whole frame has passed (two animation frames): nodes inserted before it have been laid out.
async function nextFrame(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

// Sends a message through the composer and waits until the answer is stored (the live node is replaced).
export async function sendAndWait(page, text) {
  const before = await page.locator('article.msg.assistant:not(.streaming)').count();
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.waitForFunction((n) => document.querySelectorAll('article.msg.assistant:not(.streaming)').length > n &&
    !document.querySelector('article.streaming'), before);
  await nextFrame(page);  // the stored answer's node has been laid out: its innerText is on screen
  return page.locator('article.msg.assistant').last();
}

// The texts of `count` nodes matching `selector`, read in the same task that sees all of them (trimmed
// textContent): messages are content-visibility:auto, so innerText is '' for a node the browser has not yet
// laid out, or has since skipped, and a re-render between a wait and a read replaces the nodes.
export async function textsOf(page, selector, count) {
  const texts = await page.waitForFunction(([sel, n]) => {
    const found = [...document.querySelectorAll(sel)].map((e) => e.textContent.trim());
    return found.length === n && found.every((t) => t) && found;
  }, [selector, count]);
  return texts.jsonValue();
}

// The value of a Prometheus counter line (0 when absent).
export async function metric(url, name, labels) {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && labels.every((l) => line.includes(l))) return Number(line.split(' ').pop());
  }
  return 0;
}

export { sleep };

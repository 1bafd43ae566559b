// first_load.mjs: measure.mjs's first-load figures: the chat page opened with an empty cache in a running browser,
// from navigation start to the input box usable, with where the time went; and (--cpu) the CPU the browser spent.
//
// What one load is: a fresh browser context (empty HTTP and code cache, no cookies, no open sockets: every byte
// comes from duet serve), a blank tab, a wait until the browser's processes are idle (a new context starts helper
// processes and, in Chromium, preloads its own omnibox WebUI; a person's browser has done that long before they
// type the URL), then page.goto('/'). Times are from the navigation's start (performance.timeOrigin) to:
//   input ready    main.js has bound the composer's handlers and focused the input (mark duet:input-ready)
//   input usable   the first frame after that has been produced, so the box is on screen and typing and Enter
//                  work (mark duet:input-painted, set by this file's init script: when the page marks
//                  duet:input-ready, requestAnimationFrame, then the first task after that frame)
// One discarded warm-up load comes first (a just-started browser pays one-time costs a running one has paid).
// coldContext: navigate as soon as the context exists, without the idle wait (measure.mjs --cold-context; what the
// figure used to be: it then includes the new context's own start-up, which competes for the CPUs).
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage } from './harness.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// CPU time (clock ticks, usually 10 ms) used so far by the processes below this one (the browser and its children),
// leaving out `excludePid` (the duet server, also a child of this process).
function browserTicks(excludePid) {
  const procs = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');  // f[0] is field 3 (state)
    procs.push({ pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  const below = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!below.has(p.pid) && below.has(p.ppid) && p.pid !== excludePid) { below.add(p.pid); grew = true; }
    }
  }
  return procs.filter((p) => p.pid !== process.pid && below.has(p.pid)).reduce((n, p) => n + p.ticks, 0);
}

// Waits until the browser used at most one tick of CPU in each of three 100 ms windows (5 s at most).
// Returns whether it got there.
async function waitForIdleBrowser(page, excludePid) {
  let last = browserTicks(excludePid);
  let quiet = 0;
  for (let waited = 0; waited < 5000; waited += 100) {
    await page.waitForTimeout(100);
    const now = browserTicks(excludePid);
    quiet = now - last <= 1 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 3) return true;
  }
  return false;
}

// Marks duet:input-painted in the first task after the frame that follows the page's duet:input-ready mark.
function markFirstFrameAfterReady() {
  const mark = performance.mark.bind(performance);
  performance.mark = (name, ...rest) => {
    const entry = mark(name, ...rest);
    if (name === 'duet:input-ready') requestAnimationFrame(() => setTimeout(() => mark('duet:input-painted')));
    return entry;
  };
}

// Before a measured navigation: the mark above, then an idle browser.
async function prepare(page, server, coldContext = false) {
  await page.addInitScript(markFirstFrameAfterReady);
  return coldContext || waitForIdleBrowser(page, server.proc.pid);
}

// Timings of the load in `page` (after it is fully ready), relative to navigation start.
function readTimings(page) {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const mark = (name) => performance.getEntriesByName(name)[0].startTime;
    const ready = mark('duet:input-ready');
    const usable = mark('duet:input-painted');
    const resources = performance.getEntriesByType('resource');
    const assets = resources.filter((e) => !e.name.includes('/api/') && !e.name.includes('/v1/'));
    const before = assets.filter((e) => e.startTime < ready);
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const item = (e) => `${new URL(e.name).pathname} ${e.transferSize}`;
    return {
      ttfb: nav.responseStart, documentEnd: nav.responseEnd,
      assetsRequested: Math.min(...before.map((e) => e.startTime)),
      assetsEnd: Math.max(...before.map((e) => e.responseEnd)),
      domInteractive: nav.domInteractive, ready, usable, firstPaint: fcp ? fcp.startTime : NaN,
      // requests made before the input was usable that are not the page's assets (there should be none)
      dataBefore: resources.filter((e) => !assets.includes(e) && e.startTime < usable).map((e) => e.name),
      bytes: nav.transferSize + assets.reduce((n, e) => n + e.transferSize, 0),
      beforeBytes: nav.transferSize + before.reduce((n, e) => n + e.transferSize, 0),
      document: nav.transferSize, before: before.map(item),
      after: assets.filter((e) => e.startTime >= ready).map(item),
    };
  });
}

export async function measureFirstLoad(browser, server, { loads = 15, coldContext = false } = {}) {
  const idle = (page) => prepare(page, server, coldContext);
  await (await openPage(browser, server.url, { beforeGoto: idle })).context.close();  // warm-up
  const rows = [];
  let notIdle = 0;
  for (let i = 0; i < loads; i++) {
    let wasIdle = true;
    const { page, context } = await openPage(browser, server.url,
      { beforeGoto: async (p) => { wasIdle = await idle(p); } });
    if (!wasIdle) notIdle++;
    await page.waitForLoadState('networkidle');  // the markdown stack too, for the bytes transferred
    rows.push(await readTimings(page));
    await context.close();
  }
  const usable = rows.map((r) => r.usable);
  const step = (key) => `${median(rows.map((r) => r[key])).toFixed(0)}`;
  const last = rows[rows.length - 1];
  console.log(`first load${coldContext ? ' (cold context)' : ''} -> input usable (the frame after duet:input-ready): median ${median(usable).toFixed(1)} ms, ` +
    `min ${Math.min(...usable).toFixed(1)}, max ${Math.max(...usable).toFixed(1)} (${loads} loads` +
    `${notIdle ? `, ${notIdle} without an idle browser first` : ''})`);
  console.log(`  medians, ms from navigation start: document first byte ${step('ttfb')}, last byte ` +
    `${step('documentEnd')}; app.css + app.js requested ${step('assetsRequested')}, received ${step('assetsEnd')}; ` +
    `DOM interactive ${step('domInteractive')}; first paint ${step('firstPaint')}; handlers bound ` +
    `(duet:input-ready) ${step('ready')}; usable ${step('usable')}`);
  console.log(`  before the input worked: ${last.before.length + 1} requests, ${last.beforeBytes} bytes ` +
    `(/ ${last.document}, ${last.before.join(', ')}); API requests before it: ${last.dataBefore.length}`);
  console.log(`  after: ${last.after.join(', ')}`);
  console.log(`first load transferred (page assets, compressed, with headers): ${last.bytes} bytes`);
  return rows;
}

// --cpu: CPU time (thread time from a Chromium trace, so it does not grow with the machine's load) from navigation
// start to duet:input-painted: the page's renderer main thread, and every Chromium thread together.
export async function measureFirstLoadCpu(browser, server, { loads = 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'duet-trace-'));
  const renderer = [], all = [];
  try {
    for (let i = 0; i < loads; i++) {
      const path = join(dir, `trace${i}.json`);
      const { context } = await openPage(browser, server.url, {
        beforeGoto: async (page) => {
          await prepare(page, server);
          await browser.startTracing(page, { path, categories: ['toplevel', 'blink.user_timing', 'devtools.timeline',
            'disabled-by-default-devtools.timeline', 'loading'] });
        },
      });
      await browser.stopTracing();
      await context.close();
      const cpu = traceCpu(JSON.parse(readFileSync(path, 'utf8')));
      if (i > 0) { renderer.push(cpu.renderer); all.push(cpu.all); }  // the first is a warm-up
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`first load CPU, navigation start -> input usable (thread time, ${renderer.length} traced loads): ` +
    `page's renderer main thread median ${median(renderer).toFixed(1)} ms (min ${Math.min(...renderer).toFixed(1)}), ` +
    `all Chromium threads median ${median(all).toFixed(1)} ms`);
}

const topLevelTask = new Set(['ThreadControllerImpl::RunTask', 'ThreadPool_RunTask']);
function traceCpu(trace) {
  const events = trace.traceEvents || trace;
  const mark = events.find((e) => e.name === 'duet:input-painted');
  const start = events.find((e) => e.name === 'navigationStart' && e.pid === mark.pid &&
    /^http/.test(e.args?.data?.documentLoaderURL || ''));
  const threadName = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name')
    .map((e) => [`${e.pid}/${e.tid}`, e.args.name]));
  let renderer = 0, all = 0;
  for (const e of events) {
    if (e.ph !== 'X' || !topLevelTask.has(e.name) || e.ts < start.ts || e.ts > mark.ts) continue;
    const ms = (e.tdur || 0) / 1000;
    all += ms;
    if (e.pid === mark.pid && threadName.get(`${e.pid}/${e.tid}`) === 'CrRendererMain') renderer += ms;
  }
  return { renderer, all };
}

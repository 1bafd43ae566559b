// report_screenshot.mjs: a PNG of a `duet eval run` report (README's docs/eval-report.png) through Debian's chromium
// driven by playwright-core, as the page tests do. The report is self-contained (no script, no fetch), so it is
// opened straight from the file.
//   node tests/web/report_screenshot.mjs eval-out/report.html docs/eval-report.png [height]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from './harness.mjs';

const [input, output, height] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node tests/web/report_screenshot.mjs REPORT.html OUT.png [height]');
  process.exit(2);
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1060, height: Number(height || 1500) } });
  await page.goto(pathToFileURL(resolve(input)).href);
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
}

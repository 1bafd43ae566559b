// build.mjs: builds the chat page (esbuild: src/main.js -> app.js, src/style.css -> app.css, src/markdown.js ->
// markdown-HASH.js and one chunk per highlight.js language, loaded on demand; minified) into OUT_DIR,
// gzips every asset (level 9) and, with --cpp FILE, writes the C++ table that embeds them in duet (web/assets.h:
// path, content type, ETag = first 16 hex digits of the SHA-256 of the bytes, the bytes, the gzip bytes).
//
//   node build.mjs OUT_DIR [--cpp FILE.cpp]
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outDir = args[0];
const cppIndex = args.indexOf('--cpp');
const cppFile = cppIndex >= 0 ? args[cppIndex + 1] : null;
if (!outDir) {
  console.error('usage: node build.mjs OUT_DIR [--cpp FILE.cpp]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const common = { bundle: true, minify: true, format: 'esm', target: ['chrome110', 'firefox115', 'safari16'],
  splitting: true, chunkNames: '[name]-[hash]', write: false, outdir: outDir, legalComments: 'eof',
  logLevel: 'warning', metafile: true };

// 1. The markdown stack (marked, DOMPurify, highlight.js core; each highlight.js language its own chunk, loaded when
//    a code block needs it), built on its own so that nothing of it sits on the first load's path.
const markdown = await build({ ...common, entryPoints: { markdown: join(here, 'src/markdown.js') },
  entryNames: '[name]-[hash]' });
const markdownFile = basename(markdown.outputFiles.find((f) => /\/markdown-[^/]*\.js$/.test(f.path)).path);

// 2. The page: app.js (and any chunk it imports or loads), app.css. `./markdown.js` stays an import() of the file
//    built above, which app.js starts loading once the input box works (markdown_loader.js).
const markdownExternal = {
  name: 'markdown-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/markdown\.js$/ }, () => ({ path: `./${markdownFile}`, external: true }));
  },
};
// 3. The arena (arena.js + arena_study.js: #arena, #study=CODE), built on its own too: app.js loads it by import()
//    on those routes only. Its own small copies of api.js, dom.js and stream.js keep app.js free of shared chunks.
const arena = await build({ ...common, entryPoints: { arena: join(here, 'src/arena.js') },
  entryNames: '[name]-[hash]', plugins: [markdownExternal] });
const arenaFile = basename(arena.outputFiles.find((f) => /\/arena-[^/]*\.js$/.test(f.path)).path);
const arenaExternal = {
  name: 'arena-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/arena\.js$/ }, () => ({ path: `./${arenaFile}`, external: true }));
  },
};
const result = await build({ ...common, entryPoints: { app: join(here, 'src/main.js'), style: join(here, 'src/style.css') },
  entryNames: '[name]', plugins: [markdownExternal, arenaExternal] });
const byName = (suffix) => result.outputFiles.find((f) => f.path.endsWith(suffix)).contents;
const script = (f) => ({ path: `/${basename(f.path)}`, type: 'text/javascript; charset=utf-8',
  bytes: Buffer.from(f.contents), immutable: true });
const chunks = [...result.outputFiles.filter((f) => f.path.endsWith('.js') && !f.path.endsWith('/app.js')),
  ...markdown.outputFiles.filter((f) => f.path.endsWith('.js')),
  ...arena.outputFiles.filter((f) => f.path.endsWith('.js'))].map(script);
// Chunks app.js imports statically are on the first load's path: preloaded from index.html so that they load in
// parallel with app.js instead of after it. Chunks loaded by import() are not preloaded.
const appMeta = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('app.js'))[1];
const preloads = appMeta.imports.filter((i) => i.kind === 'import-statement' && !i.external)
  .map((i) => `<link rel="modulepreload" href="/${basename(i.path)}">`).join('\n');
const html = readFileSync(join(here, 'src/index.html'), 'utf8').replace('</head>', `${preloads}${preloads ? '\n' : ''}</head>`);

const assets = [
  { path: '/index.html', type: 'text/html; charset=utf-8', bytes: Buffer.from(html) },
  { path: '/app.js', type: 'text/javascript; charset=utf-8', bytes: Buffer.from(byName('app.js')) },
  ...chunks,
  { path: '/app.css', type: 'text/css; charset=utf-8', bytes: Buffer.from(byName('style.css')) },
  { path: '/favicon.svg', type: 'image/svg+xml', bytes: readFileSync(join(here, 'src/favicon.svg')) },
];

let total = 0, totalGzip = 0;
for (const a of assets) {
  a.gzip = gzipSync(a.bytes, { level: constants.Z_BEST_COMPRESSION });
  a.etag = `"${createHash('sha256').update(a.bytes).digest('hex').slice(0, 16)}"`;
  writeFileSync(join(outDir, a.path.slice(1)), a.bytes);
  writeFileSync(join(outDir, `${a.path.slice(1)}.gz`), a.gzip);
  total += a.bytes.length;
  totalGzip += a.gzip.length;
}
console.log(`web: ${assets.length} assets, ${total} bytes, ${totalGzip} bytes gzipped (${assets
  .map((a) => `${a.path} ${a.gzip.length}`).join(', ')})`);

function cppBytes(name, bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 24) {
    lines.push(Array.from(bytes.subarray(i, i + 24), (b) => `${b}`).join(','));
  }
  return `alignas(16) const unsigned char ${name}[] = {\n${lines.join(',\n')}${bytes.length ? '' : '0'}};\n`;
}

if (cppFile) {
  const quote = (s) => JSON.stringify(s);  // ASCII paths, types and ETags: a JSON string is a valid C++ literal
  let out = '// Generated by web/build.mjs: the chat page\'s assets. Do not edit; do not commit.\n';
  out += '#include "web/assets.h"\n\nnamespace duet::web {\nnamespace {\n';
  assets.forEach((a, i) => { out += cppBytes(`body_${i}`, a.bytes) + cppBytes(`gzip_${i}`, a.gzip); });
  out += 'const Asset kAssets[] = {\n';
  assets.forEach((a, i) => {
    out += `    {${quote(a.path)}, ${quote(a.type)}, ${quote(a.etag)},\n` +
      `     {reinterpret_cast<const char*>(body_${i}), ${a.bytes.length}},\n` +
      `     {reinterpret_cast<const char*>(gzip_${i}), ${a.gzip.length}}, ${a.immutable ? 'true' : 'false'}},\n`;
  });
  out += '};\n}  // namespace\n\nstd::span<const Asset> all_assets() { return kAssets; }\n' +
    'bool page_built() { return true; }\n\n}  // namespace duet::web\n';
  mkdirSync(dirname(cppFile), { recursive: true });
  writeFileSync(cppFile, out);
}

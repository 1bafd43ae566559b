// openai_embeddings.test.mjs: the official `openai` npm client's embeddings.create against a real `duet serve` on
// a tiny-bert encoder written by `duet make-model`. The client asks for base64 by default and decodes it; the
// result must equal the float mode's. Run by ctest (server_openai_embeddings); skips loudly without node_modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let OpenAI = null;
try {
  OpenAI = (await import('openai')).default;
} catch {
  console.error('SKIPPED: the openai npm package is not installed (run npm install in tests/server)');
}
const binary = process.env.DUET_BINARY;
const runnable = OpenAI && binary && existsSync(binary);
if (OpenAI && !runnable) console.error(`SKIPPED: need DUET_BINARY (${binary})`);

let server = null;
let client = null;
let dir = '';

before(async () => {
  if (!runnable) return;
  dir = mkdtempSync(join(tmpdir(), 'duet-embeddings-'));
  const model = join(dir, 'tiny-bert.gguf');
  execFileSync(binary, ['make-model', '--preset', 'tiny-bert', '--type', 'f32', '-o', model], { stdio: 'ignore' });
  server = spawn(binary, ['serve', '-m', `bert=${model}`, '--port', '0', '-t', '1'],
                 { stdio: ['ignore', 'pipe', 'inherit'] });
  const baseURL = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`duet serve exited with ${code}`)));
  });
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${baseURL}/health`).catch(() => null);
    if (r && r.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(() => {
  if (server) server.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('models.list shows the encoder', { skip: !runnable }, async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['bert']);
});

test('embeddings.create: default (base64 on the wire) equals float mode', { skip: !runnable }, async () => {
  const input = ['hello world', '你好，世界'];
  const dflt = await client.embeddings.create({ model: 'bert', input });
  const asFloat = await client.embeddings.create({ model: 'bert', input, encoding_format: 'float' });
  assert.equal(dflt.object, 'list');
  assert.equal(dflt.data.length, 2);
  assert.equal(dflt.data[0].embedding.length, 64);
  assert.deepEqual(dflt.data.map((d) => d.embedding), asFloat.data.map((d) => d.embedding));
  assert.notDeepEqual(dflt.data[0].embedding, dflt.data[1].embedding);
  assert.ok(dflt.usage.prompt_tokens > 2);
  assert.equal(dflt.usage.total_tokens, dflt.usage.prompt_tokens);
  const norm = Math.hypot(...dflt.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
});

test('embeddings.create: token-id input equals its text', { skip: !runnable }, async () => {
  const text = await client.embeddings.create({ model: 'bert', input: 'good night', encoding_format: 'float' });
  const r = await fetch(new URL('/tokenize', client.baseURL.replace(/\/v1$/, '')), {
    method: 'POST', body: JSON.stringify({ model: 'bert', content: 'good night' }),
  });
  const { tokens } = await r.json();
  const ids = await client.embeddings.create({ model: 'bert', input: [tokens], encoding_format: 'float' });
  assert.deepEqual(ids.data[0].embedding, text.data[0].embedding);
});

test('embeddings.create: dimensions other than the model size is a 400 naming it', { skip: !runnable }, async () => {
  await assert.rejects(client.embeddings.create({ model: 'bert', input: 'hi', dimensions: 8 }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.param, 'dimensions');
    return true;
  });
});

test('a chat request to the encoder is a 400', { skip: !runnable }, async () => {
  await assert.rejects(client.chat.completions.create({ model: 'bert', messages: [{ role: 'user', content: 'hi' }] }),
                       (e) => e.status === 400 && e.param === 'model');
});

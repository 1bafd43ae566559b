// openai_client.test.mjs: the official `openai` npm client against a real `duet serve` (stories260K).
// Run by ctest (server_openai_client) with DUET_BINARY and DUET_FIXTURES set; skips loudly without node_modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
const model = process.env.DUET_FIXTURES ? `${process.env.DUET_FIXTURES}/stories260K/stories260K.gguf` : '';
const runnable = OpenAI && binary && existsSync(binary) && existsSync(model);
if (OpenAI && !runnable) console.error(`SKIPPED: need DUET_BINARY (${binary}) and the stories260K fixture (${model})`);

const API_KEY = 'test-key-123';
let server = null;
let baseURL = '';
let client = null;
let dataDir = '';

before(async () => {
  if (!runnable) return;
  dataDir = mkdtempSync(join(tmpdir(), 'duet-openai-test-'));  // the store's file, not the user's
  server = spawn(binary, ['serve', '-m', `stories=${model}`, '--port', '0', '--api-key', API_KEY, '-t', '1',
                          '--kv-memory', '16M', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  baseURL = await new Promise((resolve, reject) => {
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
  client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: API_KEY, maxRetries: 0 });
});

after(() => {
  if (server) server.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('models.list', { skip: !runnable }, async () => {
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id);
  assert.deepEqual(ids, ['stories']);
});

test('chat completion (greedy) has content and usage', { skip: !runnable }, async () => {
  const r = await client.chat.completions.create({
    model: 'stories', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 12);
});

test('chat stream concatenates to the blocking answer', { skip: !runnable }, async () => {
  const params = { model: 'stories', messages: [{ role: 'user', content: 'The dog' }], max_tokens: 16, temperature: 0 };
  const blocking = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    text += chunk.choices[0].delta.content ?? '';
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.equal(text, blocking.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 16);
});

test('completions with echo + logprobs score the prompt', { skip: !runnable }, async () => {
  const r = await client.completions.create({
    model: 'stories', prompt: 'Once upon a time there was', max_tokens: 0, echo: true, logprobs: 1,
  });
  const lp = r.choices[0].logprobs;
  assert.equal(r.choices[0].text, 'Once upon a time there was');
  assert.equal(lp.tokens.length, lp.token_logprobs.length);
  assert.equal(lp.token_logprobs[0], null);
  for (const v of lp.token_logprobs.slice(1)) assert.ok(v <= 0 && Number.isFinite(v));
  assert.equal(lp.text_offset.length, lp.tokens.length);
});

test('error statuses map to the client error classes', { skip: !runnable }, async () => {
  const bad = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(
    client.chat.completions.create({ model: 'stories', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'max_tokens');
  await assert.rejects(
    client.chat.completions.create({ model: 'stories', messages: [{ role: 'user', content: 'x' }], max_tokens: 100000 }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
});

// hearth serve answering from a RAG collection (server/rag_chat.h) through the official `openai`
// client: the collection is built first with the real `hearth rag add` (synth-bert-tiny as the
// embedding model, synth-llama-tiny as the chat model), then served with --rag-dir and a fixed
// --rag-prefill-rate (so the budget is deterministic and the planner never measures the
// machine). Checked: rag:<collection> listed and answered, the "rag" field on the served model,
// the sources footer at the end of the content (and switched off), the "sources" and "rag"
// fields, streaming, a collection updated while serving, Ollama's /api/chat, and the errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { hearthBin, modelsDir, skipReason, startServer, stopCleanly, synthModel } from './harness.mjs';

const bert = synthModel('synth-bert-tiny-F16.gguf');
const llama = synthModel('synth-llama-tiny-Q8_0.gguf');
const skip = skipReason() ?? (bert ? false : `synth-bert-tiny-F16.gguf absent under ${modelsDir}`);
const PREFILL = 100;  // tok/s: a budget of 300 tokens at the default 3 s target
let server;
let client;
let tmp;
let ragDir;
let docsDir;

const ragAdd = (...args) =>
  execFileSync(hearthBin, ['rag', 'add', ...args, '--dir', ragDir, '-q'], { encoding: 'utf8' });

before(async () => {
  if (skip) return;
  tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'hearth-rag-')));
  ragDir = path.join(tmp, 'rag');
  docsDir = path.join(tmp, 'docs');
  mkdirSync(docsDir);
  writeFileSync(path.join(docsDir, 'boiler.md'),
    '# Boiler\n\n## Reset\n\nTo reset the boiler, hold the red button for ten seconds until the pressure light blinks.\n\n' +
    '## Pressure\n\nThe boiler pressure should read between 1.0 and 1.5 bar when cold.\n');
  writeFileSync(path.join(docsDir, 'wifi.txt'), 'The wifi password is on the sticker under the router.\n');
  ragAdd('house', docsDir, '-e', bert, '-m', llama);
  server = await startServer({ model: llama, args: ['--rag-dir', ragDir, '--rag-prefill-rate', String(PREFILL)] });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
});

after(async () => {
  await stopCleanly(server);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const question = [{ role: 'user', content: 'How do I reset the boiler?' }];
const docPaths = () => [path.join(docsDir, 'boiler.md'), path.join(docsDir, 'wifi.txt'), path.join(docsDir, 'garage.txt')];

// What rag::sources_footer writes for the reply's "sources".
const footerOf = (sources) =>
  'Sources:' + sources.map((s) => `\n[${s.index}] ${s.path}${s.heading ? ` — ${s.heading}` : ''}`).join('');

function checkRagFields(reply) {
  assert.ok(Array.isArray(reply.sources), 'sources field');
  const r = reply.rag;
  assert.ok(r, 'rag field');
  assert.equal(r.collection, 'house');
  assert.equal(r.prefill_tok_s, PREFILL);
  assert.equal(r.rate_source, '--rag-prefill-rate');
  assert.ok(r.budget_tokens > 0);
  assert.ok(r.prompt_tokens <= r.budget_tokens, `${r.prompt_tokens} prompt tokens over the budget ${r.budget_tokens}`);
  assert.equal(r.chunks_used, reply.sources.length);
  assert.equal(r.chunks_used + r.chunks_dropped, r.chunks_retrieved);
  reply.sources.forEach((s, i) => {
    assert.equal(s.index, i + 1);
    assert.ok(docPaths().includes(s.path), s.path);
    assert.equal(typeof s.heading, 'string');
    assert.ok(Number.isInteger(s.chunk) && s.chunk >= 0);
    assert.ok(s.score > 0);
  });
}

test('rag:<collection> is listed in /v1/models next to the served model', { skip }, async () => {
  const ids = (await client.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes('synth'), ids.join());
  assert.ok(ids.includes('rag:house'), ids.join());
  assert.equal((await client.models.retrieve('rag:house')).id, 'rag:house');
});

test('model rag:house: the answer ends with the sources footer; sources and budget fields', { skip }, async () => {
  const r = await client.chat.completions.create({ model: 'rag:house', messages: question, max_tokens: 8, temperature: 0 });
  checkRagFields(r);
  assert.ok(r.sources.length >= 1);
  assert.ok(r.sources.some((s) => s.path.endsWith('boiler.md')));
  const content = r.choices[0].message.content;
  assert.ok(content.endsWith('\n\n' + footerOf(r.sources)), content);
  // The budget counts the whole prompt the model prefilled.
  assert.equal(r.usage.prompt_tokens, r.rag.prompt_tokens);
  assert.equal(r.rag.budget_tokens, Math.min(3 * PREFILL, 512 - 8));
});

test('"rag" field on a served model, with options; sources_in_content false leaves the text alone', { skip }, async () => {
  const r = await client.chat.completions.create({
    model: 'synth',
    messages: [{ role: 'system', content: 'Be brief.' }, ...question],
    max_tokens: 6, temperature: 0,
    rag: { collection: 'house', k: 1, ttft_target: 2.5, sources_in_content: false },
  });
  checkRagFields(r);
  assert.equal(r.rag.chunks_retrieved, 1);
  assert.equal(r.rag.budget_tokens, Math.floor(2.5 * PREFILL));
  assert.ok(!r.choices[0].message.content.includes('Sources:'));
  // Shorthand.
  const s = await client.chat.completions.create({ model: 'synth', messages: question, max_tokens: 4, rag: 'house' });
  checkRagFields(s);
});

test('streaming: the footer is the last content, the final chunk carries sources and rag', { skip }, async () => {
  const stream = await client.chat.completions.create({
    model: 'rag:house', messages: question, max_tokens: 8, temperature: 0, stream: true,
  });
  let content = '';
  let last = null;
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.choices[0]?.finish_reason) last = chunk;
  }
  assert.ok(last, 'a chunk with finish_reason');
  checkRagFields(last);
  assert.ok(content.endsWith('\n\n' + footerOf(last.sources)), content);
});

test('a document added while serving is seen by the next request', { skip }, async () => {
  const before = await client.chat.completions.create({ model: 'rag:house', messages: question, max_tokens: 2, rag: { k: 20 } });
  writeFileSync(path.join(docsDir, 'garage.txt'), 'The garage door code is 4471.\n');
  ragAdd('house', path.join(docsDir, 'garage.txt'));
  const after = await client.chat.completions.create({
    model: 'rag:house', messages: [{ role: 'user', content: 'garage door code' }], max_tokens: 2, rag: { k: 20 },
  });
  checkRagFields(after);
  assert.equal(after.rag.chunks_retrieved, before.rag.chunks_retrieved + 1);
  assert.ok(after.sources.some((s) => s.path.endsWith('garage.txt')));
});

test('Ollama /api/chat with rag:house: footer in the message, sources and rag fields', { skip }, async () => {
  const res = await fetch(`${server.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'rag:house', messages: question, stream: false, options: { num_predict: 4 } }),
  });
  assert.equal(res.status, 200);
  const r = await res.json();
  assert.equal(r.model, 'rag:house');
  checkRagFields(r);
  assert.ok(r.message.content.endsWith(footerOf(r.sources)));
  const tags = await (await fetch(`${server.url}/api/tags`)).json();
  assert.ok(tags.models.some((m) => m.name === 'rag:house'));
});

test('an unknown collection is a 404 naming it; a bad rag field a 400', { skip }, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'rag:nowhere', messages: question, max_tokens: 2 }),
    (e) => e instanceof OpenAI.NotFoundError && /nowhere/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model: 'synth', messages: question, max_tokens: 2, rag: { collection: 'nowhere' } }),
    (e) => e instanceof OpenAI.NotFoundError && /nowhere/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model: 'rag:house', messages: question, max_tokens: 2, rag: { k: 0 } }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'rag.k');
  await assert.rejects(
    client.chat.completions.create({ model: 'synth', messages: question, max_tokens: 2, rag: 42 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'rag');
  const res = await fetch(`${server.url}/api/chat`, {
    method: 'POST', body: JSON.stringify({ model: 'rag:nowhere', messages: question, stream: false }),
  });
  assert.equal(res.status, 404);
  assert.match((await res.json()).error, /nowhere/);
});

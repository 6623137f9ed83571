// hearth serve -m synth-bert-tiny-F16.gguf (an embedding-only bert) against the official
// clients: openai `embeddings.create` (float and base64, string and list inputs, token ids,
// dimensions refused) and ollama `embed` / legacy `embeddings`; chat on the embedding model is
// a clear 400. The vectors are checked against llama.cpp's reference where it is present.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { modelsDir, skipReason, startServer, synthModel, stopCleanly } from './harness.mjs';

const bert = synthModel('synth-bert-tiny-F16.gguf');
const skip = skipReason() ?? (bert ? false : `synth-bert-tiny-F16.gguf absent under ${modelsDir}`);
const refPath = path.join(modelsDir, '..', 'reference', 'embeddings-synth-bert-tiny-F16.json');
let server;
let openai;
let ollama;

before(async () => {
  if (skip) return;
  server = await startServer({ model: bert, alias: 'minilm' });
  openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
  ollama = new Ollama({ host: server.url });
});

after(() => stopCleanly(server));

const cosine = (a, b) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; ++i) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
};
const norm = (a) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

test('openai embeddings.create: float, a list of strings, usage, matches the reference', { skip }, async () => {
  const texts = ['A cat sat on the mat.', 'How do I reset my router?'];
  const r = await openai.embeddings.create({ model: 'minilm', input: texts, encoding_format: 'float' });
  assert.equal(r.object, 'list');
  assert.equal(r.model, 'minilm');
  assert.equal(r.data.length, 2);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 384);
    assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-4);
  });
  assert.ok(r.usage.prompt_tokens > 4);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
  if (existsSync(refPath)) {
    const ref = JSON.parse(readFileSync(refPath, 'utf8'));
    for (const [i, t] of texts.entries()) {
      const item = ref.items.find((it) => it.text === t);
      assert.ok(cosine(r.data[i].embedding, item.embedding) >= 0.999, t);
    }
    // Token ids as input give the same vector as the text.
    const item = ref.items.find((it) => it.text === texts[0]);
    const byIds = await openai.embeddings.create({ model: 'minilm', input: item.tokens, encoding_format: 'float' });
    assert.ok(cosine(byIds.data[0].embedding, r.data[0].embedding) > 0.99999);
    assert.equal(byIds.usage.prompt_tokens, item.tokens.length);
  }
});

test('openai embeddings.create: base64 decodes to the same floats', { skip }, async () => {
  const f = await openai.embeddings.create({ model: 'minilm', input: 'Play some jazz', encoding_format: 'float' });
  // The client asks for base64 by default and decodes it to numbers.
  const b = await openai.embeddings.create({ model: 'minilm', input: 'Play some jazz' });
  assert.equal(b.data[0].embedding.length, 384);
  b.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - f.data[0].embedding[i]) < 1e-6));
  // Raw base64: 384 little-endian float32s.
  const raw = await fetch(`${server.baseURL}/embeddings`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'minilm', input: 'Play some jazz', encoding_format: 'base64' }),
  });
  const bytes = Buffer.from((await raw.json()).data[0].embedding, 'base64');
  assert.equal(bytes.length, 384 * 4);
  assert.ok(Math.abs(bytes.readFloatLE(0) - f.data[0].embedding[0]) < 1e-7);
});

test('openai errors: dimensions, bad input, too long, chat on an embedding model', { skip }, async () => {
  await assert.rejects(openai.embeddings.create({ model: 'minilm', input: 'x', dimensions: 128 }),
    (e) => e.status === 400 && e.param === 'dimensions' && /384/.test(e.message));
  const same = await openai.embeddings.create({ model: 'minilm', input: 'x', dimensions: 384, encoding_format: 'float' });
  assert.equal(same.data[0].embedding.length, 384);
  await assert.rejects(openai.embeddings.create({ model: 'minilm', input: [] }),
    (e) => e.status === 400 && e.param === 'input');
  await assert.rejects(openai.embeddings.create({ model: 'minilm', input: 'x', encoding_format: 'hex' }),
    (e) => e.status === 400 && e.param === 'encoding_format');
  await assert.rejects(openai.embeddings.create({ model: 'minilm', input: 'word '.repeat(600) }),
    (e) => e.status === 400 && e.code === 'context_length_exceeded');
  await assert.rejects(openai.embeddings.create({ model: 'nope', input: 'x' }), (e) => e.status === 404);
  await assert.rejects(openai.chat.completions.create({ model: 'minilm', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e.status === 400 && /embedding model/.test(e.message));
});

test('ollama embed: string and list, durations, truncate', { skip }, async () => {
  const one = await ollama.embed({ model: 'minilm', input: 'Turn off the lights in the kitchen.' });
  assert.equal(one.model, 'minilm');
  assert.equal(one.embeddings.length, 1);
  assert.equal(one.embeddings[0].length, 384);
  assert.ok(one.total_duration > 0);
  assert.ok(one.load_duration >= 0);
  assert.equal(one.prompt_eval_count, 10);  // [CLS] 8 words and '.' [SEP]
  const two = await ollama.embed({ model: 'minilm', input: ['Turn off the lights in the kitchen.', 'A cat sat on the mat.'] });
  assert.equal(two.embeddings.length, 2);
  assert.ok(cosine(two.embeddings[0], one.embeddings[0]) > 0.99999);
  // Longer than the context: cut by default, refused with truncate: false.
  const long = await ollama.embed({ model: 'minilm', input: 'word '.repeat(600) });
  assert.equal(long.prompt_eval_count, 512);
  await assert.rejects(ollama.embed({ model: 'minilm', input: 'word '.repeat(600), truncate: false }),
    (e) => e.status_code === 400 && /context/.test(e.error));
  await assert.rejects(ollama.embed({ model: 'minilm', input: 'x', dimensions: 10 }),
    (e) => e.status_code === 400 && /dimensions/.test(e.error));
  await assert.rejects(ollama.chat({ model: 'minilm', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e.status_code === 400 && /embedding model/.test(e.error));
});

test('ollama show: an encoder has the embedding capability only', { skip }, async () => {
  const s = await ollama.show({ model: 'minilm' });
  assert.deepEqual(s.capabilities, ['embedding']);
  assert.equal(s.details.family, 'bert');
});

test('ollama legacy embeddings: prompt → embedding', { skip }, async () => {
  const r = await ollama.embeddings({ model: 'minilm', prompt: 'A cat sat on the mat.' });
  assert.equal(r.embedding.length, 384);
  const e = await ollama.embed({ model: 'minilm', input: 'A cat sat on the mat.' });
  assert.ok(cosine(r.embedding, e.embeddings[0]) > 0.99999);
});

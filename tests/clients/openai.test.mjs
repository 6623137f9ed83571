// hearth serve against the official `openai` npm client: models list, chat (streaming with
// usage, and not), completions (string and list prompts), stop strings, logprobs, seeds, and
// the error shapes the client turns into typed exceptions. Bounded: every request has a small
// max_tokens on the tiny synthetic model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
let server;
let client;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--parallel', '2'] });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
});

after(() => stopCleanly(server));

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name three colours.' },
];

test('GET /v1/models lists the alias', { skip }, async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  assert.deepEqual(ids, ['synth']);
  assert.equal(page.data[0].object, 'model');
  const one = await client.models.retrieve('synth');
  assert.equal(one.id, 'synth');
});

test('chat completion, not streamed: message, finish_reason, exact usage', { skip }, async () => {
  const r = await client.chat.completions.create({
    model: 'synth', messages, max_tokens: 12, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['stop', 'length'].includes(c.finish_reason));
  assert.ok(r.usage.prompt_tokens > 5);
  assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 12);
  if (c.finish_reason === 'length') assert.equal(r.usage.completion_tokens, 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat completion streamed: same greedy text, role first, usage chunk last', { skip }, async () => {
  const whole = await client.chat.completions.create({
    model: 'synth', messages, max_completion_tokens: 16, temperature: 0,
  });
  const stream = await client.chat.completions.create({
    model: 'synth', messages, max_completion_tokens: 16, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let role = null;
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) {
      usage = chunk.usage;
      assert.equal(chunk.choices.length, 0);
      continue;
    }
    const d = chunk.choices[0].delta;
    if (d.role) role = d.role;
    if (d.content) text += d.content;
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.ok(chunks >= 3);
  assert.equal(role, 'assistant');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(
    [usage.prompt_tokens, usage.completion_tokens],
    [whole.usage.prompt_tokens, whole.usage.completion_tokens]);
});

test('completions: a string prompt, a list of prompts, echo', { skip }, async () => {
  const one = await client.completions.create({ model: 'synth', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
  assert.equal(one.object, 'text_completion');
  assert.equal(one.choices.length, 1);
  assert.equal(typeof one.choices[0].text, 'string');
  const two = await client.completions.create({
    model: 'synth', prompt: ['Once upon a time', 'The quick brown fox'], max_tokens: 8, temperature: 0,
  });
  assert.deepEqual(two.choices.map((c) => c.index), [0, 1]);
  assert.equal(two.choices[0].text, one.choices[0].text);
  const echoed = await client.completions.create({
    model: 'synth', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, echo: true,
  });
  assert.equal(echoed.choices[0].text, 'Once upon a time' + one.choices[0].text);
});

test('stop strings are cut from the output, also when streamed', { skip }, async () => {
  const base = await client.completions.create({ model: 'synth', prompt: 'abc', max_tokens: 24, temperature: 0 });
  const text = base.choices[0].text;
  if (text.length < 6) return;  // a random model may end at once; nothing to cut then
  const stop = text.slice(3, 6);
  const cut = text.slice(0, text.indexOf(stop));
  const r = await client.completions.create({ model: 'synth', prompt: 'abc', max_tokens: 24, temperature: 0, stop: [stop] });
  assert.equal(r.choices[0].text, cut);
  assert.equal(r.choices[0].finish_reason, 'stop');
  const s = await client.completions.create({ model: 'synth', prompt: 'abc', max_tokens: 24, temperature: 0, stop, stream: true });
  let streamed = '';
  for await (const chunk of s) streamed += chunk.choices[0]?.text ?? '';
  assert.equal(streamed, cut);
});

test('logprobs: chosen token and top_logprobs', { skip }, async () => {
  const r = await client.chat.completions.create({
    model: 'synth', messages, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    // Greedy: the chosen token is the most likely one.
    assert.equal(t.logprob, t.top_logprobs[0].logprob);
    assert.ok(Array.isArray(t.bytes));
  }
});

test('seeded sampling is reproducible', { skip }, async () => {
  const ask = () => client.chat.completions.create({
    model: 'synth', messages, max_tokens: 10, temperature: 1.0, top_p: 0.9, seed: 1234,
    presence_penalty: 0.5, frequency_penalty: 0.5,
  });
  const a = await ask();
  const b = await ask();
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

test('errors have OpenAI\'s shape and status', { skip }, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 2 }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.param === 'model' &&
      e.code === 'model_not_found' && /no-such-model/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model: 'synth', messages, max_tokens: 2, n: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n');
  await assert.rejects(
    client.chat.completions.create({ model: 'synth', messages, temperature: 'hot' }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature' && /temperature/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model: 'synth', messages: [{ role: 'user', content: 42 }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[0].content');
  await assert.rejects(
    client.completions.create({ model: 'synth', prompt: 'word '.repeat(2000), max_tokens: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
});

// hearth serve against the official `ollama` npm client: list, show, ps, version, chat and
// generate (streamed and not, with options, keep_alive, context continuation, tools), the
// errors the client turns into ResponseError, and the raw NDJSON framing. Bounded: every
// generation has a small num_predict on the tiny synthetic model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
let server;
let client;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--parallel', '2'] });
  client = new Ollama({ host: server.url });
});

after(() => stopCleanly(server));

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name three colours.' },
];
const greedy = { temperature: 0, num_predict: 12 };

function assertTimings(r, maxEval) {
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration',
    'eval_count', 'eval_duration']) {
    assert.ok(Number.isInteger(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  }
  assert.ok(r.prompt_eval_count > 0);
  assert.ok(r.eval_count >= 1 && r.eval_count <= maxEval, `eval_count ${r.eval_count}`);
  assert.ok(r.total_duration >= r.eval_duration);
  assert.ok(['stop', 'length'].includes(r.done_reason), r.done_reason);
  if (r.done_reason === 'length') assert.equal(r.eval_count, maxEval);
}

function assertCreatedAt(v) {
  // RFC 3339 in UTC with up to nanoseconds, as Go prints it.
  assert.match(String(v), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
}

test('list: the alias with its tag, GGUF details', { skip }, async () => {
  const r = await client.list();
  assert.equal(r.models.length, 1);
  const m = r.models[0];
  assert.equal(m.name, 'synth:latest');
  assert.equal(m.model, 'synth:latest');
  assert.ok(m.size > 0);
  assert.match(m.digest, /^[0-9a-f]{64}$/);
  assertCreatedAt(m.modified_at);
  assert.equal(m.details.format, 'gguf');
  assert.equal(m.details.family, 'llama');
  assert.deepEqual(m.details.families, ['llama']);
  assert.equal(m.details.quantization_level, 'Q8_0');
  assert.match(m.details.parameter_size, /^\d+(\.\d+)?[KMB]?$/);
});

test('show: template, model_info, capabilities', { skip }, async () => {
  for (const model of ['synth', 'synth:latest']) {
    const r = await client.show({ model });
    assert.equal(r.details.family, 'llama');
    assert.equal(r.model_info['general.architecture'], 'llama');
    assert.ok(Number.isInteger(r.model_info['llama.block_count']));
    assert.equal(typeof r.template, 'string');
    assert.ok(r.template.length > 0);
    assert.ok(r.capabilities.includes('completion'));
    assert.match(r.modelfile, /^FROM /m);
    assert.match(r.parameters, /num_ctx 512/);
  }
});

test('version and GET /', { skip }, async () => {
  // The npm client has no version(); Ollama's other clients call GET /api/version.
  const v = await (await fetch(`${server.url}/api/version`)).json();
  assert.match(v.version, /^\d+\.\d+\.\d+/);
  const root = await fetch(`${server.url}/`);
  assert.equal(await root.text(), 'Ollama is running');
});

test('chat, not streamed: message, done_reason, timings', { skip }, async () => {
  const r = await client.chat({ model: 'synth', messages, stream: false, options: greedy });
  assert.equal(r.model, 'synth');
  assertCreatedAt(r.created_at);
  assert.equal(r.message.role, 'assistant');
  assert.equal(typeof r.message.content, 'string');
  assert.equal(r.done, true);
  assertTimings(r, 12);
});

test('chat streamed: the same greedy text, then a final done object', { skip }, async () => {
  const whole = await client.chat({ model: 'synth:latest', messages, stream: false, options: greedy });
  const stream = await client.chat({ model: 'synth:latest', messages, stream: true, options: greedy });
  let text = '';
  let last;
  let parts = 0;
  for await (const part of stream) {
    assertCreatedAt(part.created_at);
    assert.equal(part.message.role, 'assistant');
    text += part.message.content;
    last = part;
    if (!part.done) parts += 1;
  }
  assert.ok(parts >= 1);
  assert.equal(last.done, true);
  assert.equal(last.message.content, '');
  assertTimings(last, 12);
  assert.equal(text, whole.message.content);
  assert.equal(last.eval_count, whole.eval_count);
});

test('chat as Home Assistant calls it: tools, keep_alive -1, num_ctx, think false', { skip }, async () => {
  const tools = [{
    type: 'function',
    function: {
      name: 'HassTurnOn',
      description: 'Turns on a device',
      parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    },
  }];
  const history = [
    ...messages,
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'HassTurnOn', arguments: { name: 'kitchen' } } }] },
    { role: 'tool', content: '{"success": true}' },
  ];
  const stream = await client.chat({
    model: 'synth:latest', messages: history, tools, stream: true, keep_alive: -1,
    options: { num_ctx: 8192, num_predict: 8, temperature: 0 }, think: false,
  });
  let last;
  for await (const part of stream) last = part;
  assert.equal(last.done, true);
  assert.ok(last.eval_count <= 8);
});

test('generate: streamed and not, context continuation, raw', { skip }, async () => {
  const opts = { temperature: 0, num_predict: 6, seed: 3 };
  const whole = await client.generate({ model: 'synth', prompt: 'Why is the sky blue?', stream: false, options: opts });
  assert.equal(whole.done, true);
  assertTimings(whole, 6);
  assert.ok(Array.isArray(whole.context) && whole.context.length > whole.prompt_eval_count - 1);
  const stream = await client.generate({ model: 'synth', prompt: 'Why is the sky blue?', stream: true, options: opts });
  let text = '';
  let last;
  for await (const part of stream) { text += part.response; last = part; }
  assert.equal(text, whole.response);
  assert.equal(last.done, true);
  assert.deepEqual(last.context, whole.context);
  const next = await client.generate({ model: 'synth', prompt: 'And at night?', context: whole.context, stream: false, options: opts });
  assert.ok(next.prompt_eval_count > whole.context.length);
  const raw = await client.generate({ model: 'synth', prompt: 'hello', raw: true, stream: false, options: opts });
  assert.equal(raw.context, undefined);
  assert.ok(raw.eval_count >= 1);
});

test('stop strings and seeds', { skip }, async () => {
  const opts = { temperature: 1.0, top_k: 0, top_p: 1, num_predict: 10, seed: 1234 };
  const a = await client.generate({ model: 'synth', prompt: 'x', stream: false, options: opts });
  const b = await client.generate({ model: 'synth', prompt: 'x', stream: false, options: opts });
  assert.equal(a.response, b.response);  // same seed, same draws
  if (a.response.length > 2) {
    const cut = a.response.slice(1, 3);
    const c = await client.generate({ model: 'synth', prompt: 'x', stream: false, options: { ...opts, stop: [cut] } });
    assert.ok(!c.response.includes(cut), `${JSON.stringify(c.response)} contains ${JSON.stringify(cut)}`);
    assert.equal(c.done_reason, 'stop');
  }
});

test('raw NDJSON framing and errors with Ollama status codes', { skip }, async () => {
  const r = await fetch(`${server.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'synth', messages, options: { num_predict: 4 } }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/x-ndjson/);
  const lines = (await r.text()).split('\n').filter((l) => l.length);
  const objs = lines.map((l) => JSON.parse(l));
  assert.equal(objs.at(-1).done, true);
  assert.ok(objs.slice(0, -1).every((o) => o.done === false));

  const cases = [
    [{ model: 'nope', messages }, 404, /not found/],
    [{ messages }, 400, /model is required/],
    [{ model: 'synth', messages, options: { temperature: 'hot' } }, 400, /temperature/],
    [{ model: 'synth', messages: 'hi' }, 400, /messages/],
    [{ model: 'synth', messages, format: { type: 'object', allOf: [] } }, 400, /allOf/],
  ];
  for (const [body, status, re] of cases) {
    const e = await fetch(`${server.url}/api/chat`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(e.status, status, JSON.stringify(body));
    assert.match((await e.json()).error, re);
  }
  const bad = await fetch(`${server.url}/api/generate`, { method: 'POST', body: '{not json' });
  assert.equal(bad.status, 400);
  assert.equal(typeof (await bad.json()).error, 'string');
  // A decoder embeds too (mean pooling of its final hidden states): embeddings.test.mjs.
  const embed = await fetch(`${server.url}/api/embed`, { method: 'POST', body: JSON.stringify({ model: 'synth', input: 'x' }) });
  assert.equal(embed.status, 200);
  assert.equal((await embed.json()).embeddings[0].length, 256);
  // The client raises ResponseError with the status and the server's message.
  await assert.rejects(client.chat({ model: 'missing', messages, stream: false }),
    (err) => err.status_code === 404 && /not found/.test(err.error));
  await assert.rejects(client.show({ model: 'missing' }), (err) => err.status_code === 404);
});

test('ps, then load and unload through keep_alive', { skip }, async () => {
  const ps = await client.ps();
  assert.equal(ps.models.length, 1);
  assert.equal(ps.models[0].name, 'synth:latest');
  assert.ok(ps.models[0].size >= (await client.list()).models[0].size);
  assertCreatedAt(ps.models[0].expires_at);
  const unload = await client.generate({ model: 'synth', prompt: '', keep_alive: 0 });
  assert.equal(unload.done_reason, 'unload');
  for (let i = 0; i < 100 && (await client.ps()).models.length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await client.ps()).models.length, 0);
  const load = await client.chat({ model: 'synth', messages: [], keep_alive: '5m' });
  assert.equal(load.done_reason, 'load');
  assert.equal((await client.ps()).models.length, 1);
});

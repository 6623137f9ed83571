// Structured output through the official clients: OpenAI `response_format` (json_schema,
// json_object) and Ollama `format` (a schema, "json"), streamed and not. The synthetic model has
// random weights, so only the grammar makes its output JSON: every answer to a bounded schema
// must JSON.parse() with the required keys and types. Bad schemas get a 400 naming the keyword.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
let server;
let openai;
let ollama;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--parallel', '2'] });
  openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
  ollama = new Ollama({ host: server.url });
});

after(() => stopCleanly(server));

// Bounded (short string, integer range, no free-form values): every sampled answer ends within
// the token budget, so it must be complete JSON.
const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 12 },
    on: { type: 'boolean' },
    level: { type: 'integer', minimum: 0, maximum: 100 },
    room: { enum: ['kitchen', 'hall'] },
  },
  required: ['name', 'on', 'level'],
  additionalProperties: false,
};
const messages = [{ role: 'user', content: 'Turn on the kitchen light at 40%.' }];
const budget = 512;

function checkAnswer(text) {
  let v;
  assert.doesNotThrow(() => { v = JSON.parse(text); }, `not JSON: ${text}`);
  assert.equal(typeof v, 'object');
  assert.equal(typeof v.name, 'string');
  assert.ok([...v.name].length <= 12, text);  // code points, as JSON Schema counts
  assert.equal(typeof v.on, 'boolean');
  assert.ok(Number.isInteger(v.level) && v.level >= 0 && v.level <= 100, text);
  if ('room' in v) assert.ok(['kitchen', 'hall'].includes(v.room), text);
  for (const k of Object.keys(v)) assert.ok(['name', 'on', 'level', 'room'].includes(k), `extra key ${k}`);
  assert.deepEqual(Object.keys(v).filter((k) => k !== 'room'), ['name', 'on', 'level']);  // declared order
  return v;
}

const responseFormat = { type: 'json_schema', json_schema: { name: 'light', schema, strict: true } };

test('openai chat: response_format json_schema, not streamed, several seeds', { skip }, async () => {
  for (const seed of [1, 2, 3]) {
    const r = await openai.chat.completions.create({
      model: 'synth', messages, max_tokens: budget, seed, temperature: 1, response_format: responseFormat,
    });
    assert.equal(r.choices[0].finish_reason, 'stop');
    checkAnswer(r.choices[0].message.content);
  }
});

test('openai chat: response_format json_schema, streamed', { skip }, async () => {
  const stream = await openai.chat.completions.create({
    model: 'synth', messages, max_tokens: budget, seed: 7, stream: true, response_format: responseFormat,
  });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(finish, 'stop');
  checkAnswer(text);
});

test('openai completions: response_format json_schema; greedy is grammatical too', { skip }, async () => {
  const r = await openai.completions.create({
    model: 'synth', prompt: 'JSON:', max_tokens: budget, temperature: 0, response_format: responseFormat,
  });
  checkAnswer(r.choices[0].text);
});

test('openai chat: response_format json_object gives an object (or a cut-off prefix of one)', { skip }, async () => {
  const r = await openai.chat.completions.create({
    model: 'synth', messages, max_tokens: 64, seed: 3, response_format: { type: 'json_object' },
  });
  const text = r.choices[0].message.content;
  assert.ok(text.startsWith('{'), text);
  if (r.choices[0].finish_reason === 'stop') assert.equal(typeof JSON.parse(text), 'object');
});

test('openai: an unsupported schema keyword is a 400 naming it', { skip }, async () => {
  await assert.rejects(
    openai.chat.completions.create({
      model: 'synth', messages, max_tokens: 4,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a' } } },
    }),
    (e) => e.status === 400 && e.param === 'response_format.json_schema.schema' && /pattern/.test(e.message),
  );
  await assert.rejects(
    openai.chat.completions.create({ model: 'synth', messages, response_format: { type: 'xml' } }),
    (e) => e.status === 400 && e.param === 'response_format.type',
  );
});

test('ollama chat: format schema, not streamed and streamed', { skip }, async () => {
  const r = await ollama.chat({
    model: 'synth', messages, format: schema, stream: false, options: { num_predict: budget, seed: 5 },
  });
  assert.equal(r.done_reason, 'stop');
  checkAnswer(r.message.content);
  const stream = await ollama.chat({
    model: 'synth', messages, format: schema, stream: true, options: { num_predict: budget, seed: 6 },
  });
  let text = '';
  let last;
  for await (const part of stream) {
    text += part.message.content;
    last = part;
  }
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  checkAnswer(text);
});

test('ollama generate: format schema and format "json"', { skip }, async () => {
  const r = await ollama.generate({
    model: 'synth', prompt: 'Light?', format: schema, stream: false, options: { num_predict: budget, seed: 9 },
  });
  checkAnswer(r.response);
  const j = await ollama.generate({
    model: 'synth', prompt: 'Light?', format: 'json', stream: false, options: { num_predict: 64, seed: 9 },
  });
  assert.ok(j.response.startsWith('{'), j.response);
  if (j.done_reason === 'stop') assert.equal(typeof JSON.parse(j.response), 'object');
});

test('ollama: a bad format schema is a 400 naming the keyword', { skip }, async () => {
  await assert.rejects(
    ollama.chat({ model: 'synth', messages, format: { type: 'object', properties: { a: { not: {} } } } }),
    (e) => e.status_code === 400 && /'not' is not supported/.test(e.error),
  );
});

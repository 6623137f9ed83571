// Tool calls through the official `openai` and `ollama` npm clients: forced calls (tool_choice
// required / named) not streamed and streamed, tool messages in the history, errors naming the
// field, and Ollama's message.tool_calls. The synthetic model has random weights, so a call
// only comes out reliably where the grammar forces it; the tools here have small enum/boolean
// arguments so that a forced call ends well within max_tokens.
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
  // The tool list in the system prompt (the synthetic model's template has no tool support)
  // takes ~600 tokens of its 512-piece vocabulary.
  server = await startServer({ args: ['--parallel', '2'], ctxSize: 2048 });
  openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
  ollama = new Ollama({ host: server.url });
});

after(() => stopCleanly(server));

export const tools = [
  {
    type: 'function',
    function: {
      name: 'HassTurnOff',
      description: 'Turns off a device or area',
      parameters: {
        type: 'object',
        properties: { area: { type: 'string', enum: ['kitchen', 'hall'] }, all: { type: 'boolean' } },
        required: ['area', 'all'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'SetLevel',
      parameters: {
        type: 'object',
        properties: { level: { type: 'integer', minimum: 0, maximum: 9 } },
        required: ['level'],
      },
    },
  },
];

// Arguments valid for the tool of that name (the schemas above).
function assertValidCall(name, args) {
  if (name === 'HassTurnOff') {
    assert.ok(['kitchen', 'hall'].includes(args.area), JSON.stringify(args));
    assert.equal(typeof args.all, 'boolean');
    assert.deepEqual(Object.keys(args).sort(), ['all', 'area']);
  } else {
    assert.equal(name, 'SetLevel');
    assert.ok(Number.isInteger(args.level) && args.level >= 0 && args.level <= 9, JSON.stringify(args));
  }
}

const messages = [
  { role: 'system', content: 'You control a house.' },
  { role: 'user', content: 'Turn off the kitchen.' },
];

test('openai: tool_choice required, not streamed, several seeds', { skip }, async () => {
  let calls = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const r = await openai.chat.completions.create({
      model: 'synth', messages, tools, tool_choice: 'required', max_tokens: 80, seed, temperature: 1,
    });
    const choice = r.choices[0];
    if (choice.finish_reason === 'length') continue;  // cut off by max_tokens: a prefix
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const tc = choice.message.tool_calls[0];
    assert.match(tc.id, /^call_[A-Za-z0-9]{24}$/);
    assert.equal(tc.type, 'function');
    assert.equal(typeof tc.function.arguments, 'string');
    assertValidCall(tc.function.name, JSON.parse(tc.function.arguments));
    calls++;
  }
  assert.ok(calls >= 3, `only ${calls} of 6 answers finished`);
});

test('openai: a named tool_choice calls that tool, greedy too', { skip }, async () => {
  for (const temperature of [0, 1]) {
    const r = await openai.chat.completions.create({
      model: 'synth', messages, tools, max_tokens: 80, seed: 5, temperature,
      tool_choice: { type: 'function', function: { name: 'SetLevel' } },
    });
    const choice = r.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
    assert.equal(choice.message.tool_calls[0].function.name, 'SetLevel');
    assertValidCall('SetLevel', JSON.parse(choice.message.tool_calls[0].function.arguments));
  }
});

test('openai: streamed tool call deltas as OpenAI sends them', { skip }, async () => {
  const stream = await openai.chat.completions.create({
    model: 'synth', messages, tools, max_tokens: 80, seed: 2, stream: true,
    tool_choice: { type: 'function', function: { name: 'HassTurnOff' } },
  });
  const deltas = [];
  let finish = null;
  let content = '';
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    const c = chunk.choices[0];
    if (c.delta.content) content += c.delta.content;
    if (c.delta.tool_calls) deltas.push(...c.delta.tool_calls);
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(content, '');
  assert.ok(deltas.length >= 2);
  const [first, ...rest] = deltas;
  assert.equal(first.index, 0);
  assert.match(first.id, /^call_/);
  assert.equal(first.type, 'function');
  assert.equal(first.function.name, 'HassTurnOff');
  assert.equal(first.function.arguments, '');
  for (const d of rest) {
    assert.equal(d.index, 0);
    assert.equal(d.id, undefined);
    assert.equal(typeof d.function.arguments, 'string');
  }
  assertValidCall('HassTurnOff', JSON.parse(rest.map((d) => d.function.arguments).join('')));
});

test('openai: history with assistant tool_calls and tool results; auto and none', { skip }, async () => {
  const history = [
    ...messages,
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'HassTurnOff', arguments: '{"area":"kitchen","all":true}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"success": true}' },
  ];
  for (const tool_choice of ['auto', 'none', undefined]) {
    const r = await openai.chat.completions.create({ model: 'synth', messages: history, tools, tool_choice, max_tokens: 6, seed: 1 });
    const choice = r.choices[0];
    assert.ok(['stop', 'length', 'tool_calls'].includes(choice.finish_reason), choice.finish_reason);
    if (choice.finish_reason !== 'tool_calls') assert.equal(typeof choice.message.content, 'string');
    if (tool_choice === 'none') assert.equal(choice.message.tool_calls, undefined);
    assert.ok(r.usage.prompt_tokens > 0);
  }
});

test('openai: bad tools and tool_choice are 400s naming the field', { skip }, async () => {
  const cases = [
    [{ tools: [{ type: 'function', function: { name: '' } }] }, 'tools[0].function.name'],
    [{ tools, tool_choice: 'always' }, 'tool_choice'],
    [{ tools, tool_choice: { type: 'function', function: { name: 'Nope' } } }, 'tool_choice.function.name'],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
  ];
  for (const [patch, param] of cases) {
    await assert.rejects(
      openai.chat.completions.create({ model: 'synth', messages, max_tokens: 2, ...patch }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === param,
      JSON.stringify(patch),
    );
  }
});

test('ollama: a call in the answer comes back as message.tool_calls with object arguments', { skip }, async () => {
  // `format` forces the generic JSON call shape, so the random model writes a call.
  const format = {
    type: 'object',
    properties: { name: { const: 'HassTurnOff' }, arguments: tools[0].function.parameters },
    required: ['name', 'arguments'],
  };
  // The schema's whitespace is the client's (up to 20 per place): try seeds until one ends.
  let whole;
  let seed;
  for (seed = 1; seed <= 8; seed++) {
    whole = await ollama.chat({ model: 'synth', messages, tools, format, stream: false, options: { num_predict: 200, seed } });
    if (whole.done_reason === 'stop') break;
  }
  assert.equal(whole.done_reason, 'stop', 'no seed finished the call');
  assert.equal(whole.done, true);
  assert.equal(whole.message.role, 'assistant');
  assert.equal(whole.message.content, '');
  assert.equal(whole.message.tool_calls.length, 1);
  assert.equal(whole.message.tool_calls[0].function.name, 'HassTurnOff');
  assertValidCall('HassTurnOff', whole.message.tool_calls[0].function.arguments);

  const stream = await ollama.chat({ model: 'synth', messages, tools, format, stream: true, options: { num_predict: 200, seed } });
  const parts = [];
  for await (const part of stream) parts.push(part);
  const withCalls = parts.filter((p) => p.message.tool_calls);
  assert.equal(withCalls.length, 1);
  assert.equal(withCalls[0].done, false);  // a message chunk, then the final one
  assert.deepEqual(withCalls[0].message.tool_calls, whole.message.tool_calls);
  assert.equal(parts.map((p) => p.message.content).join(''), '');
  assert.equal(parts.at(-1).done, true);
});

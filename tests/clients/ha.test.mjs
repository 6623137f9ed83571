// Replays of the request bodies Home Assistant's integrations send, byte for byte as their
// clients serialise them, written from the integrations' public source (each body names the
// file it comes from), and checks of every field the integration reads in the reply.
//
// Ollama: home-assistant/core homeassistant/components/ollama (config_flow.py: list + pull;
// coordinator.py + sensor.py: list + ps every 30 s; entity.py: /api/chat streamed with tools,
// keep_alive, options.num_ctx, think, format). The Python client (ollama-python) drops None
// fields (model_dump(exclude_none=True)) and, in messages, falsy ones, which the bodies below
// mirror.
// OpenAI-compatible: acon96/home-llm custom_components/llama_conversation/backends/
// generic_openai.py (GET /v1/models for the connection check and the model list; streamed
// /v1/chat/completions with tools, user content as a list of text parts), and the probe that
// llama.cpp-style integrations make (issue #9): max_tokens 3 with a tools array, streamed and
// not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
let server;

before(async () => {
  if (skip) return;
  // The name Home Assistant suggests by default (const.py DEFAULT_MODEL = "llama3.2:latest").
  server = await startServer({ alias: 'llama3.2', args: ['--parallel', '2'], ctxSize: 4096 });
});

after(() => stopCleanly(server));

const post = (path, body) => fetch(`${server.url}${path}`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});
const ndjson = async (r) => (await r.text()).split('\n').filter((l) => l.length).map((l) => JSON.parse(l));

// Home Assistant's Assist tools as entity.py _format_tool writes them (name, parameters from
// probatio.to_openapi of the intent's schema, description), for HassTurnOn and GetLiveContext.
const haTools = [
  {
    type: 'function',
    function: {
      name: 'HassTurnOn',
      parameters: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          area: { type: 'string' },
          floor: { type: 'string' },
          domain: { type: 'array', items: { type: 'string', enum: ['light', 'switch', 'fan', 'cover'] } },
          device_class: { type: 'array', items: { type: 'string', enum: ['outlet', 'switch', 'tv'] } },
        },
        required: [],
      },
      description: 'Turns on/opens a device or entity',
    },
  },
  {
    type: 'function',
    function: {
      name: 'GetLiveContext',
      parameters: { type: 'object', properties: {}, required: [] },
      description: 'Provides real-time information about the CURRENT state of devices',
    },
  },
];

// entity.py _convert_content: system prompt, user turn, an assistant turn with a tool call
// (content "" dropped by the client), the tool result as {"data", "error"} JSON.
const haMessages = [
  { role: 'system', content: 'You are a voice assistant for Home Assistant.\nAnswer in plain text.' },
  { role: 'user', content: 'turn on the kitchen light' },
  { role: 'assistant', tool_calls: [{ function: { name: 'HassTurnOn', arguments: { name: 'kitchen light', domain: ['light'] } } }] },
  { role: 'tool', content: '{"data": {"success": [{"name": "Kitchen Light", "type": "entity", "id": "light.kitchen"}]}, "error": null}' },
  { role: 'user', content: 'and the hall' },
];

// What entity.py _transform_stream reads from every streamed part.
function checkHaChatPart(part) {
  assert.equal(typeof part.message, 'object');
  assert.equal(part.message.role, 'assistant');
  if (part.message.tool_calls !== undefined) {
    for (const tc of part.message.tool_calls) {
      assert.equal(typeof tc.function.name, 'string');
      // _parse_tool_args iterates arguments.items(): an object.
      assert.equal(typeof tc.function.arguments, 'object');
      assert.ok(!Array.isArray(tc.function.arguments));
    }
  }
  if (part.message.content !== undefined) assert.equal(typeof part.message.content, 'string');
  assert.equal(part.message.thinking, undefined);  // no thinking model: never sent
  assert.equal(typeof part.done, 'boolean');
}

test('HA ollama config_flow: list, pull of a present model, pull of a missing one', { skip }, async () => {
  // config_flow.py: client.list() → {m["model"] for m in response["models"]}.
  const tags = await (await fetch(`${server.url}/api/tags`)).json();
  assert.deepEqual(tags.models.map((m) => m.model), ['llama3.2:latest']);
  // _async_step_download: client.pull(model) → {"model", "insecure": false, "stream": false}.
  let r = await post('/api/pull', { model: 'llama3.2:latest', insecure: false, stream: false });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'success' });
  // Streamed (the ollama CLI and ollama-js default), ending with success.
  r = await post('/api/pull', { model: 'llama3.2', stream: true });
  assert.match(r.headers.get('content-type'), /application\/x-ndjson/);
  const lines = await ndjson(r);
  assert.equal(lines[0].status, 'pulling manifest');
  assert.ok(lines.some((l) => l.digest && l.total > 0 && l.completed === l.total));
  assert.equal(lines.at(-1).status, 'success');
  // A model hearth does not serve: an error the client raises (HA shows download_failed).
  r = await post('/api/pull', { model: 'qwen2.5:latest', insecure: false, stream: false });
  assert.equal(r.status, 404);
  assert.match((await r.json()).error, /hearth pull/);
  const client = new Ollama({ host: server.url });
  await assert.rejects(client.pull({ model: 'qwen2.5:latest' }), (e) => e.status_code === 404);
  const ok = await client.pull({ model: 'llama3.2:latest' });  // ollama-js sends "name"
  assert.equal(ok.status, 'success');
});

test('HA ollama coordinator/sensor: list + ps fields', { skip }, async () => {
  const tags = await (await fetch(`${server.url}/api/tags`)).json();
  for (const m of tags.models) assert.equal(typeof m.model, 'string');
  const ps = await (await fetch(`${server.url}/api/ps`)).json();
  assert.ok(Array.isArray(ps.models));
  for (const m of ps.models) {
    assert.equal(typeof m.model, 'string');
    assert.ok(Number.isInteger(m.size));
    assert.ok(Number.isInteger(m.size_vram));
  }
});

test('HA ollama conversation: /api/chat streamed with tools, keep_alive -1, num_ctx, think', { skip }, async () => {
  // entity.py _async_handle_chat_log: model, messages, tools, stream True, keep_alive (-1 as
  // an integer, else "<n>s"), options {num_ctx}, think (None is dropped), format (None dropped).
  const bodies = [
    { model: 'llama3.2:latest', messages: haMessages, tools: haTools, stream: true, keep_alive: -1, options: { num_ctx: 8192 }, think: false },
    { model: 'llama3.2:latest', messages: haMessages, tools: haTools, stream: true, keep_alive: '300s', options: { num_ctx: 2048 } },
    { model: 'llama3.2:latest', messages: haMessages, tools: haTools, stream: true, keep_alive: '0s', options: { num_ctx: 131072 }, think: true },
  ];
  for (const body of bodies) {
    // A bounded answer: HA sends no num_predict, so --max-tokens would bound it on a real box;
    // here the random model is cut by a small num_predict added to the options.
    const r = await post('/api/chat', { ...body, options: { ...body.options, num_predict: 8 } });
    assert.equal(r.status, 200, JSON.stringify(body.keep_alive));
    const parts = await ndjson(r);
    parts.forEach(checkHaChatPart);
    assert.equal(parts.at(-1).done, true);
    assert.ok(['stop', 'length'].includes(parts.at(-1).done_reason));
    assert.ok(parts.slice(0, -1).every((p) => p.done === false));
  }
});

test('HA ollama: a tool call in the stream, as _transform_stream turns it into tool inputs', { skip }, async () => {
  // ai_task.py passes a `format` (probatio.to_openapi of the task's structure) through the same
  // chat call; a call-shaped one makes the random model write a call. HA then reads
  // message.tool_calls[].function.{name, arguments} from whichever part carries them.
  const format = {
    type: 'object',
    properties: {
      name: { type: 'string', enum: ['HassTurnOn'] },
      arguments: { type: 'object', properties: { domain: { type: 'array', items: { type: 'string', enum: ['light', 'fan'] }, maxItems: 2 } }, required: ['domain'] },
    },
    required: ['name', 'arguments'],
  };
  let found = null;
  for (let seed = 1; seed <= 8 && !found; seed++) {
    const r = await post('/api/chat', {
      model: 'llama3.2:latest', messages: haMessages, tools: haTools, stream: true, keep_alive: -1,
      options: { num_ctx: 8192, num_predict: 200, seed }, think: false, format,
    });
    const parts = await ndjson(r);
    parts.forEach(checkHaChatPart);
    const withCalls = parts.filter((p) => p.message.tool_calls);
    if (withCalls.length) found = withCalls;
  }
  assert.ok(found, 'no seed finished the call');
  assert.equal(found.length, 1);
  const [tc] = found[0].message.tool_calls;
  assert.equal(tc.function.name, 'HassTurnOn');
  assert.ok(Array.isArray(tc.function.arguments.domain));
});

// ---- OpenAI-compatible ---------------------------------------------------------------------

test('home-llm generic OpenAI: /v1/models as the connection check reads it', { skip }, async () => {
  // async_validate_connection: response.ok; async_get_available_models: [m["id"] for m in data].
  const r = await fetch(`${server.url}/v1/models`);
  assert.ok(r.ok);
  const models = await r.json();
  assert.deepEqual(models.data.map((m) => m.id), ['llama3.2']);
});

// generic_openai.py _generate_stream: {model, stream: true, temperature, top_p, messages (user
// content as a list of text parts: get_oai_formatted_messages(user_content_as_list=True)),
// tools}; each SSE line is stripped of "data: ", [DONE] ends it, and _extract_response reads
// object, choices[0].delta.content / .tool_calls[].function, finish_reason.
function homeLlmRead(text) {
  let said = '';
  let finish = null;
  let lastObject = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    assert.ok(!line.startsWith('error: '), line);
    const chunk = line.replace(/^data: /, '');
    if (chunk.includes('[DONE]')) break;
    const j = JSON.parse(chunk);
    lastObject = j.object;
    if (!j.choices || j.choices.length === 0) continue;
    const choice = j.choices[0];
    assert.equal(j.object, 'chat.completion.chunk');
    const content = choice.delta.content ?? '';
    assert.equal(typeof content, 'string');
    said += content;
    for (const call of choice.delta.tool_calls ?? []) assert.equal(typeof call.function, 'object');
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { said, finish, lastObject };
}

test('home-llm generic OpenAI: streamed chat with tools', { skip }, async () => {
  const oaiTools = haTools;  // get_oai_formatted_tools: the same {type, function} shape
  const body = {
    model: 'llama3.2', stream: true, temperature: 0.1, top_p: 1,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: [{ type: 'text', text: 'turn on the kitchen light' }] },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'HassTurnOn', arguments: '{"name": "kitchen light"}' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: '{"success": true}' },
      { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
    ],
    tools: oaiTools,
    max_tokens: 8,  // bounds the random model; home-llm sends its own max_tokens option
  };
  const r = await post('/v1/chat/completions', body);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const { finish } = homeLlmRead(await r.text());
  assert.ok(['stop', 'length', 'tool_calls'].includes(finish), finish);
});

test('llama.cpp-style probe: max_tokens 3 with a tools array, not streamed and streamed', { skip }, async () => {
  const probe = {
    model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, tools: haTools,
  };
  let r = await post('/v1/chat/completions', probe);
  assert.equal(r.status, 200);
  const j = await r.json();
  assert.equal(j.object, 'chat.completion');
  assert.equal(j.choices[0].message.role, 'assistant');
  assert.ok(['stop', 'length', 'tool_calls'].includes(j.choices[0].finish_reason));
  if (j.choices[0].finish_reason !== 'tool_calls') assert.equal(typeof j.choices[0].message.content, 'string');
  assert.ok(j.usage.completion_tokens <= 3);
  r = await post('/v1/chat/completions', { ...probe, stream: true });
  assert.equal(r.status, 200);
  const { finish } = homeLlmRead(await r.text());
  assert.ok(['stop', 'length', 'tool_calls'].includes(finish), finish);
  // The same probe with a forced call comes back as a call (or is cut by the 3 tokens).
  r = await post('/v1/chat/completions', { ...probe, tool_choice: 'required' });
  const forced = await r.json();
  assert.ok(['length', 'tool_calls'].includes(forced.choices[0].finish_reason));
});

test('home-llm generic OpenAI: a streamed call it can read, with --tool-call-deltas whole', { skip }, async () => {
  // _extract_response hands every delta's `function` to parse_raw_tool_call, which wants a
  // name and whole arguments in each: OpenAI's chunking (name first, argument pieces after)
  // gives it an empty call and then a malformed one. `whole` sends each call in one delta.
  const whole = await startServer({ alias: 'llama3.2', args: ['--tool-call-deltas', 'whole'], ctxSize: 4096 });
  try {
    const small = [{ type: 'function', function: { name: 'HassTurnOn', parameters: { type: 'object', properties: { domain: { type: 'array', items: { type: 'string', enum: ['light', 'fan'] }, maxItems: 2 } }, required: ['domain'] } } }];
    let calls = null;
    for (let seed = 1; seed <= 6 && !calls; seed++) {
      const r = await fetch(`${whole.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: 'llama3.2', stream: true, temperature: 1, top_p: 1, seed, max_tokens: 60,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'light on' }] }],
          tools: small, tool_choice: 'required',  // forced: the random model writes a call
        }),
      });
      const found = [];
      for (const raw of (await r.text()).split('\n')) {
        const chunk = raw.trim().replace(/^data: /, '');
        if (!chunk || chunk.includes('[DONE]')) continue;
        const j = JSON.parse(chunk);
        for (const call of j.choices[0]?.delta?.tool_calls ?? []) {
          // parse_raw_tool_call's base schema: name a string, arguments a string or a dict.
          assert.equal(typeof call.function.name, 'string');
          assert.equal(typeof call.function.arguments, 'string');
          found.push({ name: call.function.name, args: JSON.parse(call.function.arguments) });
        }
      }
      if (found.length) calls = found;
    }
    assert.ok(calls, 'no seed finished the call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'HassTurnOn');
    assert.ok(Array.isArray(calls[0].args.domain));
  } finally {
    const status = await whole.stop();
    assert.equal(status.code, 0);
  }
});

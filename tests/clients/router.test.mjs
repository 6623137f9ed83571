// The router in `hearth serve --config` (docs/router.md) with real servers on loopback: the
// upstream is a second `hearth serve` on the synthetic model, the front door serves the same
// model locally as [[local]] "pi". Routing decisions and the X-Hearth-Route header are checked
// through the official openai and ollama clients; then the upstream is stopped and requests fall
// back (or get 503 when they pinned it). Bounded: tiny max_tokens, one upstream, short timeouts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { hearthBin, skipReason, startServer, synthModel } from './harness.mjs';

const run = promisify(execFile);
const skip = skipReason() ?? false;
let upstream;
let front;
let client;
let tmp;
let classified;  // a second front door with a [route.classifier]
let classifiedClient;

// The classifier on the local synthetic model (random weights: its label is arbitrary but
// deterministic). No cost rule, so every unpinned request reaches rule "classifier".
function classifierConfig(upstreamUrl, threshold) {
  return `
[[local]]
name = "pi"
model = "${synthModel()}"

[[upstream]]
name = "gpu"
url = "${upstreamUrl}"
models = ["synth"]
timeout_s = 60
health_timeout_s = 2

[route.classifier]
model = "pi"
prompt = "Answer short or long. Request: {input}\\nAnswer:"
labels = { short = "pi", long = "gpu" }
threshold = ${threshold}
timeout_s = 30
`;
}

function config(upstreamUrl) {
  return `
[[local]]
name = "pi"
model = "${synthModel()}"
alias = ["fast"]
prefill_tps = 1000
gen_tps = 0.5               # so that 16 tokens (32 s) are over the budget, 2 tokens (4 s) are not

[[upstream]]
name = "gpu"
url = "${upstreamUrl}"
models = ["synth"]
timeout_s = 60
health_timeout_s = 2
health_interval_s = 0.5

[route]
latency_budget_s = 20
`;
}

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'hearth-router-'));
  upstream = await startServer({ args: ['--parallel', '2'] });
  const cfg = path.join(tmp, 'hearth.toml');
  writeFileSync(cfg, config(upstream.baseURL));
  front = await startServer({ model: null, args: ['--config', cfg, '--parallel', '2'] });
  client = new OpenAI({ baseURL: front.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
  writeFileSync(path.join(tmp, 'classifier.toml'), classifierConfig(upstream.baseURL, 0));
  classified = await startServer({ model: null, args: ['--config', path.join(tmp, 'classifier.toml')],
                                   env: { HEARTH_STATE_DIR: tmp } });
  classifiedClient = new OpenAI({ baseURL: classified.baseURL, apiKey: 'none', maxRetries: 0, timeout: 60000 });
});

after(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (classified) await classified.stop();
  if (front) await front.stop();
  if (upstream) await upstream.stop();
});

const messages = [{ role: 'user', content: 'Name a colour.' }];

async function routed(body) {
  const { data, response } = await client.chat.completions.create({ messages, temperature: 0, ...body }).withResponse();
  return { data, route: response.headers.get('x-hearth-route') };
}

test('a local alias is answered by the local model', { skip }, async () => {
  const { data, route } = await routed({ model: 'fast', max_tokens: 4 });
  assert.equal(route, 'pi; reason=alias');
  assert.equal(data.choices[0].message.role, 'assistant');
});

test('an upstream model is proxied, streaming chunk by chunk', { skip }, async () => {
  const { data, route } = await routed({ model: 'synth', max_tokens: 4 });
  assert.equal(route, 'gpu; reason=alias');
  assert.ok(data.usage.completion_tokens >= 1);
  const stream = await client.chat.completions.create({
    model: 'synth', messages, max_tokens: 6, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(chunks >= 2, `only ${chunks} chunks`);
  assert.equal(text, (await routed({ model: 'synth', max_tokens: 6 })).data.choices[0].message.content);
});

test('unpinned requests: cost over the budget goes upstream, otherwise local', { skip }, async () => {
  let r = await routed({ model: 'auto', max_tokens: 16 });
  assert.match(r.route, /^gpu; reason=cost\(est=32\.\ds>20s\)$/);
  r = await routed({ model: 'auto', max_tokens: 2 });
  assert.equal(r.route, 'pi; reason=default');
});

test('the classifier on the local model labels unpinned requests, the same label every time', { skip }, async () => {
  const ask = async () => {
    const { data, response } = await classifiedClient.chat.completions
      .create({ model: 'auto', messages, max_tokens: 3, temperature: 0 }).withResponse();
    assert.equal(data.choices[0].message.role, 'assistant');
    return response.headers.get('x-hearth-route');
  };
  const route = await ask();
  const m = route.match(/^(pi|gpu); reason=classifier:(short|long)$/);
  assert.ok(m, route);
  assert.equal(m[1], m[2] === 'short' ? 'pi' : 'gpu');  // the label's backend answered
  assert.equal(await ask(), route);
  assert.match(classified.log(), /hearth router: classifier: (short|long) \(p=/);
  // Pinned requests never ask the classifier.
  const pinned = await classifiedClient.chat.completions.create({ model: 'pi', messages, max_tokens: 2 }).withResponse();
  assert.equal(pinned.response.headers.get('x-hearth-route'), 'pi; reason=alias');
});

test('a classifier without an answer (threshold out of reach) falls through to local', { skip }, async () => {
  // SIGHUP reloads the routing with threshold = 1: a share no label reaches.
  writeFileSync(path.join(tmp, 'classifier.toml'), classifierConfig(upstream.baseURL, 1));
  const before = classified.log().length;
  classified.proc.kill('SIGHUP');
  for (let i = 0; i < 100 && !classified.log().slice(before).includes('routing reloaded'); i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.match(classified.log().slice(before), /routing reloaded/);
  const { response } = await classifiedClient.chat.completions
    .create({ model: 'auto', messages, max_tokens: 2 }).withResponse();
  assert.equal(response.headers.get('x-hearth-route'), 'pi; reason=default');
  assert.match(classified.log().slice(before), /classifier skipped: no label reached threshold/);
});

test('the Ollama API reaches the OpenAI-only upstream through translation', { skip }, async () => {
  const ollama = new Ollama({ host: front.url });
  const whole = await ollama.chat({ model: 'synth', messages, options: { num_predict: 4, temperature: 0 }, stream: false });
  assert.equal(whole.message.role, 'assistant');
  assert.equal(whole.done, true);
  let text = '';
  let last;
  for await (const part of await ollama.chat({ model: 'synth', messages, options: { num_predict: 4, temperature: 0 }, stream: true })) {
    text += part.message.content;
    last = part;
  }
  assert.equal(last.done, true);
  assert.equal(text, whole.message.content);
  const gen = await ollama.generate({ model: 'synth', prompt: 'Hello', options: { num_predict: 3 }, stream: false });
  assert.equal(typeof gen.response, 'string');
});

test('/metrics counts requests per backend and rule', { skip }, async () => {
  const text = await (await fetch(`${front.url}/metrics`)).text();
  assert.match(text, /hearth_router_requests_total\{backend="gpu",rule="alias"\} \d+/);
  assert.match(text, /hearth_router_requests_total\{backend="pi",rule="alias"\} \d+/);
  assert.match(text, /hearth_router_upstream_up\{upstream="gpu"\} 1/);
  // Usage and timings per backend and route rule.
  assert.match(text, /hearth_router_upstream_tokens_total\{backend="gpu",kind="completion"\} [1-9]/);
  assert.match(text, /hearth_router_upstream_first_event_seconds_count\{backend="gpu",rule="alias"\} [1-9]/);
  assert.match(text, /hearth_router_upstream_request_seconds_count\{backend="gpu",rule="cost"\} [1-9]/);
});

test('with the upstream gone: fallback to local, 503 when pinned', { skip }, async () => {
  await upstream.stop();
  upstream = null;
  // Past health_interval_s (0.5 s) since its last answer, so the router probes before forwarding
  // and sees it down (a younger success would skip the probe: reason=fallback:upstream-error).
  await new Promise((r) => setTimeout(r, 1000));
  const r = await routed({ model: 'auto', max_tokens: 16 });
  assert.equal(r.route, 'pi; reason=fallback:upstream-down');
  await assert.rejects(client.chat.completions.create({ model: 'synth', messages, max_tokens: 2 }),
    (e) => e.status === 503 && /unavailable/.test(e.message));
});

test('--check validates a config and names the line of an error', { skip }, async () => {
  const good = path.join(tmp, 'good.toml');
  writeFileSync(good, config('http://127.0.0.1:9/v1'));
  await run(hearthBin, ['serve', '--config', good, '--check']);
  const bad = path.join(tmp, 'bad.toml');
  writeFileSync(bad, config('http://127.0.0.1:9/v1') + '\n[[upstream]]\nname = "x"\nurl = "http://h/v1"\nmodels = ["m"]\nwake_mac = "zz"\n');
  await assert.rejects(run(hearthBin, ['serve', '--config', bad, '--check']),
    (e) => e.code !== 0 && /bad\.toml:24: .*MAC address/.test(e.stderr));
});

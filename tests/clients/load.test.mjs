// A bounded load test of hearth serve on 127.0.0.1: 64 concurrent streaming requests (Ollama
// and OpenAI routes mixed) against 2 slots and a queue of 4. Every request must end either in a
// complete answer (a final done object / [DONE]) or in a clean refusal (503 / 429 with
// Retry-After and a JSON error); the server must stay up (/health 200 afterwards) and its RSS
// (from /metrics) must come back near the baseline measured after a warm-up. Then: greedy
// requests decoded together in one batch give the same text as each run alone.
// No timing assertions: only counts, shapes and memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
let server;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--parallel', '2', '--queue', '4', '--quiet'] });
});

after(() => stopCleanly(server));

async function metric(name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One streaming request; resolves with {ok, status, text} once the stream or refusal ends.
async function ollamaStream(i, numPredict) {
  const r = await fetch(`${server.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({
      model: 'synth',
      messages: [{ role: 'user', content: `Request number ${i}: tell me a story.` }],
      options: { temperature: 0, num_predict: numPredict },
    }),
  });
  if (r.status !== 200) return refusal(r);
  const lines = (await r.text()).split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
  const last = lines.at(-1);
  assert.equal(last.done, true, `stream ${i} did not finish: ${JSON.stringify(last)}`);
  assert.ok(!('error' in last), `stream ${i}: ${last.error}`);
  assert.ok(last.eval_count >= 1 && last.eval_count <= numPredict);
  return { ok: true, status: 200, text: lines.map((o) => o.message.content).join('') };
}

async function openaiStream(i, maxTokens) {
  const r = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'synth', stream: true, max_tokens: maxTokens, temperature: 0,
      messages: [{ role: 'user', content: `Request number ${i}: tell me a story.` }],
    }),
  });
  if (r.status !== 200) return refusal(r);
  const text = await r.text();
  assert.ok(text.trimEnd().endsWith('data: [DONE]'), `stream ${i} did not finish:\n${text.slice(-300)}`);
  const finishes = text.split('\n').filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6))).flatMap((c) => c.choices ?? []).filter((c) => c.finish_reason);
  assert.equal(finishes.length, 1, `stream ${i}: one finish_reason expected`);
  return { ok: true, status: 200, text };
}

async function refusal(r) {
  const text = await r.text();
  assert.ok([429, 503].includes(r.status), `unexpected status ${r.status}: ${text}`);
  assert.ok(r.headers.get('retry-after'), 'a refusal says when to retry');
  assert.ok(JSON.parse(text).error, 'a refusal has a JSON error');
  return { ok: false, status: r.status };
}

test('64 concurrent streams against 2 slots: full answers or clean refusals; server stays up; RSS back near baseline', { skip, timeout: 300000 }, async (t) => {
  // Warm-up: the slots' KV caches and the scratch buffers reach their working size.
  await Promise.all([ollamaStream(-1, 24), ollamaStream(-2, 24)]);
  await sleep(200);
  const baseline = await metric('process_resident_memory_bytes');
  assert.ok(baseline > 0, 'RSS is exported');

  const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
    (i % 2 ? openaiStream(i, 24) : ollamaStream(i, 24))));
  const served = results.filter((r) => r.ok).length;
  const refused = results.length - served;
  // 2 slots + 4 queued are always admitted; the rest may be refused.
  assert.ok(served >= 6, `only ${served} served`);
  assert.equal(served + refused, 64);

  t.diagnostic(`served ${served}, refused ${refused}`);
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  // Everything has drained: nothing queued, no slot busy.
  for (let i = 0; i < 100 && ((await metric('hearth_queue_depth')) > 0 || (await metric('hearth_slots_busy')) > 0); i++) await sleep(50);
  assert.equal(await metric('hearth_queue_depth'), 0);
  assert.equal(await metric('hearth_slots_busy'), 0);
  // Connection threads and per-request buffers are released: RSS within 64 MiB (or 50%) of
  // the baseline, whichever is larger.
  await sleep(500);
  const rss = await metric('process_resident_memory_bytes');
  const allowance = Math.max(64 * 1024 * 1024, baseline * 0.5);
  t.diagnostic(`RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, after ${(rss / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(rss <= baseline + allowance, `RSS ${rss} vs baseline ${baseline} (served ${served}, refused ${refused})`);
  // And the server still answers.
  const after = await ollamaStream(1000, 4);
  assert.ok(after.ok);
});

test('greedy requests batched together give the same text as each alone', { skip, timeout: 300000 }, async () => {
  const ids = [0, 1, 2, 3];
  const alone = [];
  for (const i of ids) alone.push((await ollamaStream(i, 20)).text);
  // Two at a time fill both slots, so they decode in one batched pass.
  for (let k = 0; k < ids.length; k += 2) {
    const pair = await Promise.all([ollamaStream(ids[k], 20), ollamaStream(ids[k + 1], 20)]);
    assert.equal(pair[0].text, alone[k], `request ${ids[k]} differs when batched`);
    assert.equal(pair[1].text, alone[k + 1], `request ${ids[k + 1]} differs when batched`);
  }
  // And with more requests than slots (queued, joining between steps).
  const all = await Promise.all(ids.map((i) => ollamaStream(i, 20)));
  all.forEach((r, k) => assert.equal(r.text, alone[k], `request ${ids[k]} differs under queueing`));
});

// hearth serve over raw HTTP with curl: the exact SSE framing, malformed requests (bad JSON,
// wrong types, an oversized body), API keys, and a client that hangs up mid-stream. Plus a
// bounded load test: many concurrent streams against 2 slots and a short queue all end in a full
// answer or a clean 429, and the server stays up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { skipReason, startServer } from './harness.mjs';

const run = promisify(execFile);
const skip = skipReason() ?? false;
let server;
let tmp;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'hearth-curl-'));
  server = await startServer({ args: ['--parallel', '2', '--queue', '2', '--max-body', '65536'] });
});

after(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!server) return;
  const status = await server.stop();
  assert.equal(status.code, 0, server.log());
});

// curl -i: returns { status, headers (lower-case), body }.
async function curl(args) {
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '60', ...args], { maxBuffer: 1 << 24 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: stdout.slice(split + 4) };
}

const post = (route, body, extra = []) =>
  curl(['-X', 'POST', `${server.url}${route}`, '-H', 'Content-Type: application/json',
        '--data-binary', typeof body === 'string' ? body : JSON.stringify(body), ...extra]);

test('SSE framing: data lines, blank-line separated, [DONE] last', { skip }, async () => {
  const r = await post('/v1/chat/completions', {
    model: 'synth', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, temperature: 0,
    stream: true, stream_options: { include_usage: true },
  }, ['-N']);
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.ok(r.body.endsWith('data: [DONE]\n\n'), JSON.stringify(r.body.slice(-40)));
  const events = r.body.split('\n\n').filter((e) => e.length);
  for (const e of events) assert.match(e, /^data: [^\n]+$/, 'one data line per event');
  const payloads = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  assert.equal(payloads[0].choices[0].delta.role, 'assistant');
  const usage = payloads.at(-1).usage;
  assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= 6);
  const finishes = payloads.filter((p) => p.choices.length && p.choices[0].finish_reason);
  assert.equal(finishes.length, 1);
});

test('malformed JSON: 400 in OpenAI error shape', { skip }, async () => {
  const r = await post('/v1/chat/completions', '{"model": "synth", "messages": [');
  assert.equal(r.status, 400);
  const e = JSON.parse(r.body).error;
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /JSON/);
  assert.ok('param' in e && 'code' in e);
});

test('wrong field types name the field', { skip }, async () => {
  const cases = [
    [{ model: 'synth', messages: 'hello' }, 'messages'],
    [{ model: 'synth', messages: [{ role: 'user', content: 'x' }], max_tokens: 'ten' }, 'max_tokens'],
    [{ model: 'synth', messages: [{ role: 'user', content: 'x' }], stop: [1, 2] }, 'stop'],
    [{ model: 'synth', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
    [{ model: 'synth', messages: [{ role: 'user', content: 'x' }], top_p: 7 }, 'top_p'],
    [{ model: 7, messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [[1, 2, 3], null],
  ];
  for (const [body, param] of cases) {
    const r = await post('/v1/chat/completions', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const e = JSON.parse(r.body).error;
    assert.equal(e.param, param, JSON.stringify(body));
    if (param) assert.match(e.message, new RegExp(param));
  }
  const c = await post('/v1/completions', { model: 'synth', prompt: { text: 'x' } });
  assert.equal(c.status, 400);
  assert.equal(JSON.parse(c.body).error.param, 'prompt');
});

test('deeply nested JSON (30000 levels): a 400 naming the depth on every route, the server stays up', { skip }, async () => {
  const file = path.join(tmp, 'deep.json');
  writeFileSync(file, '{"model": "synth", "input": ' + '['.repeat(30000) + ']'.repeat(30000) + '}');
  for (const route of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/api/chat', '/api/generate',
                       '/api/embed']) {
    const r = await curl(['-X', 'POST', `${server.url}${route}`, '-H', 'Content-Type: application/json',
                          '--data-binary', `@${file}`]);
    assert.equal(r.status, 400, `${route}: ${r.body}`);
    assert.match(r.body, /deeper than 64 levels/, route);
  }
  assert.equal((await curl([`${server.url}/health`])).status, 200);
});

test('a body over --max-body: 413 with a JSON error', { skip }, async () => {
  const file = path.join(tmp, 'big.json');
  writeFileSync(file, JSON.stringify({ model: 'synth', prompt: 'x'.repeat(200000) }));
  const r = await curl(['-X', 'POST', `${server.url}/v1/completions`, '-H', 'Content-Type: application/json',
                        '--data-binary', `@${file}`]);
  assert.equal(r.status, 413);
  assert.match(JSON.parse(r.body).error.message, /too large/);
});

test('unknown routes: 404 JSON', { skip }, async () => {
  const r = await curl([`${server.url}/v1/nothing-here`]);
  assert.equal(r.status, 404);
  assert.ok(JSON.parse(r.body).error.message);
});

test('a client that hangs up stops its generation and frees its slot', { skip }, async () => {
  // One slot, no queue: while the slot is busy every other request gets 429.
  const solo = await startServer({ args: ['--parallel', '1', '--queue', '0'] });
  try {
    const metric = async (name) => {
      const text = await (await fetch(`${solo.url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
      return sum;
    };
    const ac = new AbortController();
    // Unbounded: without the hang-up it would run until the 512-token context is full.
    const res = await fetch(`${solo.url}/v1/completions`, {
      method: 'POST', signal: ac.signal, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'synth', prompt: 'a story', stream: true, temperature: 1, seed: 7,
                             ignore_eos: true }),
    });
    const reader = res.body.getReader();
    await reader.read();
    ac.abort();
    // The cancelled generation is recorded once its slot is free again.
    for (let i = 0; i < 400 && (await metric('hearth_generations_total')) < 1; ++i) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(await metric('hearth_generations_total'), 1);
    assert.ok(await metric('hearth_generated_tokens_total') < 400, 'generation went on after the hang-up');
    const next = await post('/v1/completions', { model: 'synth', prompt: 'again', max_tokens: 4 }, []);
    assert.equal(next.status, 200, next.body);
  } finally {
    await solo.stop();
  }
  async function post(route, body) {
    return curl(['-X', 'POST', `${solo.url}${route}`, '-H', 'Content-Type: application/json',
                 '--data-binary', JSON.stringify(body)]);
  }
});

test('load: 32 concurrent streams on 2 slots end complete or in a clean 429', { skip }, async () => {
  const one = async (i) => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'synth', messages: [{ role: 'user', content: `n ${i}` }],
                             max_tokens: 8, stream: true, seed: i }),
    });
    const body = await res.text();
    if (res.status === 429) {
      assert.equal(JSON.parse(body).error.code, 'rate_limit_exceeded');
      assert.ok(res.headers.get('retry-after'));
      return 'rejected';
    }
    assert.equal(res.status, 200, body);
    assert.ok(body.endsWith('data: [DONE]\n\n'));
    assert.match(body, /"finish_reason":"(stop|length)"/);
    return 'done';
  };
  const outcomes = await Promise.all(Array.from({ length: 32 }, (_, i) => one(i)));
  assert.ok(outcomes.includes('done'));
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
});

test('API keys: every route but /health needs the Bearer key', { skip }, async () => {
  const guarded = await startServer({ args: ['--api-key', 'sesame'] });
  try {
    const open = await curl([`${guarded.url}/health`]);
    assert.equal(open.status, 200);
    const denied = await curl([`${guarded.url}/v1/models`]);
    assert.equal(denied.status, 401);
    assert.equal(JSON.parse(denied.body).error.type, 'invalid_request_error');
    const wrong = await curl([`${guarded.url}/v1/models`, '-H', 'Authorization: Bearer nope']);
    assert.equal(wrong.status, 401);
    const ok = await curl([`${guarded.url}/v1/models`, '-H', 'Authorization: Bearer sesame']);
    assert.equal(ok.status, 200);
  } finally {
    await guarded.stop();
  }
});

test('SIGTERM drains: the running stream completes, new requests get 503, exit 0', { skip }, async () => {
  const d = await startServer({ args: ['--drain-seconds', '60'] });
  let stopped;
  try {
    const res = await fetch(`${d.url}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      // Long enough (the whole 512-token context) to still run when the signal lands.
      body: JSON.stringify({ model: 'synth', prompt: 'drain', max_tokens: 500, ignore_eos: true, stream: true }),
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    d.proc.kill('SIGTERM');
    // Draining starts at once: poll until the server says so (bounded).
    let refused = null;
    let gone = false;
    for (let i = 0; i < 200 && !refused && !gone; ++i) {
      try {
        const r = await fetch(`${d.url}/v1/models`);
        if (r.status === 503) refused = r;
        else await new Promise((ok) => setTimeout(ok, 10));
      } catch {
        gone = true;  // the stream had already ended and the server with it: nothing to refuse
      }
    }
    if (!gone) {
      assert.ok(refused, 'no 503 while draining');
      assert.ok(refused.headers.get('retry-after'));
    }
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value);
    }
    assert.ok(body.endsWith('data: [DONE]\n\n'), body.slice(-80));
    assert.match(body, /"finish_reason":"(length|stop)"/);
    stopped = await new Promise((ok) => (d.exited() ? ok(d.exited()) : d.proc.on('exit', (code, signal) => ok({ code, signal }))));
    assert.equal(stopped.code, 0, d.log());
  } finally {
    if (!stopped) await d.stop();
  }
});

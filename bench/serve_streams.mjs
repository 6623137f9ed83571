#!/usr/bin/env node
// Aggregate generation speed of N concurrent streams against a running `hearth serve` (or any
// OpenAI-compatible server): the batching gain of docs/server.md. Each stream is one
// /v1/completions request with `ignore_eos`, greedy, so every stream generates exactly
// --tokens tokens; aggregate tok/s = all generated tokens ÷ the wall time from the first
// request sent to the last answer. Short, distinct prompts keep prefill and prefix reuse out of
// the figure. Plain Node 20 (global fetch), no packages.
//
//   node bench/serve_streams.mjs --url http://127.0.0.1:8080 [--streams 1,2,4] [--tokens 32]
//                                [--runs 2] [--model NAME]
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    streams: { type: 'string', default: '1,2,4' },
    tokens: { type: 'string', default: '32' },
    runs: { type: 'string', default: '2' },
    model: { type: 'string', default: '' },
  },
});
const streams = opt.streams.split(',').map(Number);
const tokens = Number(opt.tokens);
const runs = Number(opt.runs);
if (streams.some((n) => !(n >= 1)) || !(tokens >= 1) || !(runs >= 1)) {
  console.error('serve_streams: --streams, --tokens and --runs take positive whole numbers');
  process.exit(2);
}

async function complete(i) {
  const body = {
    prompt: `Story ${i}: once upon a time`,
    max_tokens: tokens,
    temperature: 0,
    ignore_eos: true,
    stream: false,
  };
  if (opt.model) body.model = opt.model;
  const res = await fetch(`${opt.url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(600_000),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const j = await res.json();
  return j.usage.completion_tokens;
}

// One untimed request first, so the model is loaded and its caches warm.
await complete(0);
const rows = [];
for (const n of streams) {
  const rates = [];
  for (let r = 0; r < runs; ++r) {
    const t0 = performance.now();
    const counts = await Promise.all(Array.from({ length: n }, (_, i) => complete(i + 1)));
    const seconds = (performance.now() - t0) / 1000;
    rates.push(counts.reduce((a, b) => a + b, 0) / seconds);
  }
  rows.push({ streams: n, tok_s: rates });
}
const one = rows.find((r) => r.streams === 1);
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log('| streams | aggregate tok/s (each run) | vs 1 stream |');
console.log('|---|---|---|');
for (const r of rows) {
  const ratio = one ? (mean(r.tok_s) / mean(one.tok_s)).toFixed(2) + '×' : '';
  console.log(`| ${r.streams} | ${r.tok_s.map((x) => x.toFixed(2)).join(' / ')} | ${ratio} |`);
}

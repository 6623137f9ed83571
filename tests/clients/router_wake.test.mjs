// Wake-on-LAN end to end on loopback (docs/router.md, "The upstream's life"): the front door's
// [[upstream]] points at a loopback port where nothing listens yet and sends its magic packet to a
// UDP listener on 127.0.0.1 — never a broadcast or LAN address. When the listener receives the
// exact packet for the configured MAC (6 × 0xFF, then the MAC 16 times), it starts a second
// `hearth serve` on that port: the "box" waking up.
//   - wake_policy = "hold": the request waits, then is answered by the woken upstream;
//   - wake_policy = "local": the first request is answered locally while the box wakes, later
//     ones go to it once it is healthy.
// Bounded: one wake-up per test, a few packets, tiny max_tokens; waits have deadlines.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { skipReason, startServer, synthModel } from './harness.mjs';

const skip = skipReason() ?? false;
const mac = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];  // locally administered: no real NIC has it
const macText = mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
const messages = [{ role: 'user', content: 'Name a colour.' }];
const cleanups = [];

after(async () => {
  for (const f of cleanups.reverse()) await f();
});

function magicPacket() {
  const p = Buffer.alloc(102, 0xff);
  for (let i = 0; i < 16; i++) Buffer.from(mac).copy(p, 6 + 6 * i);
  return p;
}

// A TCP port free right now (bound to 127.0.0.1, then released) for the sleeping upstream.
async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// The "box": a UDP listener on 127.0.0.1 that starts the upstream on the first exact packet.
async function sleepingBox(upstreamPort) {
  const sock = dgram.createSocket('udp4');
  const box = { packets: 0, wrong: 0, upstream: null, started: null };
  sock.on('message', (msg) => {
    if (!msg.equals(magicPacket())) { box.wrong += 1; return; }
    box.packets += 1;
    if (box.started) return;  // re-sent packets while it boots: one upstream only
    box.started = startServer({ port: upstreamPort, args: ['--parallel', '2'] }).then((s) => { box.upstream = s; return s; });
  });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  box.port = sock.address().port;
  cleanups.push(async () => {
    sock.close();
    if (box.started) await (await box.started.catch(() => null))?.stop();
  });
  return box;
}

function config(upstreamPort, udpPort, policy) {
  return `
[[local]]
name = "pi"
model = "${synthModel()}"
prefill_tps = 1000
gen_tps = 0.5               # 16 tokens (32 s) are over the budget: unpinned requests go upstream

[[upstream]]
name = "gpu"
url = "http://127.0.0.1:${upstreamPort}/v1"
models = ["synth"]
timeout_s = 60
health_timeout_s = 1
health_interval_s = 0.3
wake_mac = "${macText}"
wake_address = "127.0.0.1"  # loopback only: the test's UDP listener
wake_port = ${udpPort}
wake_wait_s = 60
wake_resend_s = 2
wake_policy = "${policy}"

[route]
latency_budget_s = 20
`;
}

async function front(policy) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hearth-wake-'));
  const upstreamPort = await freePort();
  const box = await sleepingBox(upstreamPort);
  const cfg = path.join(tmp, 'hearth.toml');
  writeFileSync(cfg, config(upstreamPort, box.port, policy));
  const server = await startServer({ model: null, args: ['--config', cfg, '--parallel', '2'], env: { HEARTH_STATE_DIR: tmp } });
  cleanups.push(async () => { await server.stop(); rmSync(tmp, { recursive: true, force: true }); });
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'none', maxRetries: 0, timeout: 90000 });
  return { server, box, client };
}

async function routed(client, body) {
  const { data, response } = await client.chat.completions.create({ messages, temperature: 0, ...body }).withResponse();
  return { data, route: response.headers.get('x-hearth-route') };
}

test('hold: the request waits for the magic packet to wake the upstream, which answers it', { skip }, async () => {
  const { server, box, client } = await front('hold');
  assert.equal(box.packets, 0);
  // Two concurrent held requests share one wake-up.
  const [a, b] = await Promise.all([routed(client, { model: 'auto', max_tokens: 16 }),
                                    routed(client, { model: 'synth', max_tokens: 2 })]);
  assert.match(a.route, /^gpu; reason=cost\(est=32\.\ds>20s\)$/);
  assert.equal(b.route, 'gpu; reason=alias');
  assert.ok(a.data.usage.completion_tokens >= 1);
  assert.ok(box.packets >= 1);
  assert.equal(box.wrong, 0);
  assert.ok(box.upstream, 'the upstream was started by the packet');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /hearth_router_wakeups_total\{upstream="gpu"\} 1\b/);
});

test('local: the first request is answered locally while the box wakes, later ones upstream', { skip }, async () => {
  const { box, client } = await front('local');
  const first = await routed(client, { model: 'auto', max_tokens: 16 });
  assert.equal(first.route, 'pi; reason=fallback:upstream-waking');
  assert.equal(first.data.choices[0].message.role, 'assistant');
  // The box boots on the packet; within the wake window a later request is routed to it.
  let route = first.route;
  for (let i = 0; i < 120 && !route.startsWith('gpu;'); i++) {
    await new Promise((r) => setTimeout(r, 500));
    ({ route } = await routed(client, { model: 'auto', max_tokens: 16 }));
    assert.match(route, /^(pi; reason=fallback:upstream-waking|gpu; reason=cost\(.*\))$/);
  }
  assert.match(route, /^gpu; reason=cost\(est=32\.\ds>20s\)$/);
  assert.ok(box.packets >= 1);
  assert.equal(box.wrong, 0);
});

// The Wyoming service (`hearth serve --wyoming 0`, docs/home-assistant.md) over TCP on 127.0.0.1,
// as Home Assistant's wyoming integration talks to it: describe → info with a handle program;
// transcript → intent / handled / not-handled. The synthetic model has random weights, so the
// checks are on framing and validity; with one intent and allow_none = false the grammar leaves
// the model no choice, so that server must answer `intent` with the configured name and values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipReason, startServer, stopCleanly } from './harness.mjs';

const skip = skipReason() ?? false;
const servers = {};

function writeConfig(name, body) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-wyoming-'));
  const file = path.join(dir, `${name}.toml`);
  writeFileSync(file, body);
  return file;
}

// A short prompt: the test model's context is 512 tokens.
const home = `
[wyoming]
model = "synth"
system_prompt = "Intents: {intents}. Devices: {entities}. Areas: {areas}. Language {language}."
entities = ["kitchen light", "fan"]
areas = ["kitchen", "bedroom"]
max_tokens = 300
max_text_chars = 16

[[wyoming.intents]]
name = "HassTurnOn"
slots = ["name", "area"]

[[wyoming.intents]]
name = "HassTurnOff"
slots = ["name", "area"]
`;
const single = `
[wyoming]
model = "synth"
system_prompt = "Devices: {entities}."
entities = ["lamp"]
allow_none = false
max_tokens = 300
max_text_chars = 16

[[wyoming.intents]]
name = "HassTurnOn"
slots = ["name"]
`;

async function start(name, toml) {
  const server = await startServer({ args: ['--wyoming', '0', '--config', writeConfig(name, toml)] });
  const m = server.log().match(/wyoming on tcp:\/\/[^\s]+:(\d+)/);
  assert.ok(m, `no wyoming line in the log:\n${server.log()}`);
  server.wyomingPort = Number(m[1]);
  return server;
}

before(async () => {
  if (skip) return;
  servers.home = await start('home', home);
  servers.single = await start('single', single);
});

after(async () => {
  for (const s of Object.values(servers)) await stopCleanly(s);
});

function encode(type, data) {
  const header = { type, version: '1.5.4' };
  let body = Buffer.alloc(0);
  if (data) {
    body = Buffer.from(JSON.stringify(data));
    header.data_length = body.length;
  }
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body]);
}

// Connects, writes `bytes`, reads `count` events (parsing the framing strictly: header line,
// data_length bytes of JSON object, payload_length bytes), then closes.
function exchange(port, bytes, count, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    const events = [];
    let buf = Buffer.alloc(0);
    const sock = net.createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`timed out with ${events.length} events`)); }, timeoutMs);
    const finish = (err) => { clearTimeout(timer); sock.destroy(); err ? reject(err) : resolve(events); };
    sock.on('connect', () => sock.write(bytes));
    sock.on('error', finish);
    sock.on('close', () => finish(events.length >= count ? null : new Error(`closed after ${events.length} events`)));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) return;
        const header = JSON.parse(buf.subarray(0, nl).toString('utf8'));
        const dl = header.data_length ?? 0;
        const pl = header.payload_length ?? 0;
        if (buf.length < nl + 1 + dl + pl) return;
        assert.equal(typeof header.type, 'string');
        assert.equal(typeof header.version, 'string');
        const data = { ...(header.data ?? {}), ...(dl ? JSON.parse(buf.subarray(nl + 1, nl + 1 + dl).toString('utf8')) : {}) };
        events.push({ type: header.type, data, payload: buf.subarray(nl + 1 + dl, nl + 1 + dl + pl) });
        buf = buf.subarray(nl + 1 + dl + pl);
        if (events.length >= count) return finish(null);
      }
    });
  });
}

// What Home Assistant's wyoming data.py / conversation.py read from info.
function checkInfo(info) {
  assert.equal(info.type, 'info');
  assert.ok(Array.isArray(info.data.handle) && info.data.handle.length === 1);
  const p = info.data.handle[0];
  for (const key of ['name', 'description', 'version']) assert.equal(typeof p[key], 'string', key);
  assert.equal(p.installed, true);
  assert.equal(typeof p.attribution.name, 'string');
  assert.equal(typeof p.attribution.url, 'string');
  assert.ok(p.models.length >= 1);
  for (const m of p.models) {
    assert.equal(m.installed, true);
    assert.ok(Array.isArray(m.languages) && m.languages.includes('en'));
  }
}

function checkReply(e, intents) {
  assert.ok(['handled', 'intent', 'not-handled'].includes(e.type), e.type);
  if (e.type === 'intent') {
    assert.ok(intents.includes(e.data.name), e.data.name);
    assert.ok(Array.isArray(e.data.entities));
    for (const ent of e.data.entities) {
      assert.ok(['name', 'area'].includes(ent.name), ent.name);
      assert.equal(typeof ent.value, 'string');
    }
  } else {
    assert.equal(typeof e.data.text, 'string');
  }
}

test('describe answers info with a handle program', { skip }, async () => {
  const [info] = await exchange(servers.home.wyomingPort, encode('describe'), 1);
  checkInfo(info);
});

test('ping answers pong with the same text', { skip }, async () => {
  const [pong] = await exchange(servers.home.wyomingPort, encode('ping', { text: 'hi' }), 1);
  assert.equal(pong.type, 'pong');
  assert.equal(pong.data.text, 'hi');
});

test('transcripts get well-formed handled / intent / not-handled replies', { skip }, async () => {
  // HA sends a transcript with its conversation context on a fresh connection each time.
  for (const text of ['turn on the kitchen light', 'what is the weather', 'switch the fan off in the bedroom']) {
    const [reply] = await exchange(servers.home.wyomingPort,
      encode('transcript', { text, language: 'en', context: { conversation_id: 'abc' } }), 1);
    checkReply(reply, ['HassTurnOn', 'HassTurnOff']);
    assert.deepEqual(reply.data.context, { conversation_id: 'abc' });
  }
  // describe then transcript on one connection, answered in order.
  const both = await exchange(servers.home.wyomingPort,
    Buffer.concat([encode('describe'), encode('transcript', { text: 'hello' })]), 2);
  checkInfo(both[0]);
  checkReply(both[1], ['HassTurnOn', 'HassTurnOff']);
});

test('one intent without "none": the grammar forces an intent event', { skip }, async () => {
  for (const text of ['lamp on please', 'anything at all']) {
    const [reply] = await exchange(servers.single.wyomingPort, encode('transcript', { text }), 1);
    assert.equal(reply.type, 'intent', JSON.stringify(reply.data));
    assert.equal(reply.data.name, 'HassTurnOn');
    for (const ent of reply.data.entities) assert.deepEqual(ent, { name: 'name', value: 'lamp' });
  }
});

test('a malformed header gets an error event and the connection closes', { skip }, async () => {
  const [err] = await exchange(servers.home.wyomingPort, Buffer.from('{"type": oops\n'), 1);
  assert.equal(err.type, 'error');
  assert.equal(typeof err.data.text, 'string');
  // The service still answers afterwards.
  const [info] = await exchange(servers.home.wyomingPort, encode('describe'), 1);
  checkInfo(info);
});

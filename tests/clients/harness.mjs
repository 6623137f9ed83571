// Shared by every tests/clients/*.test.mjs: starts `hearth serve` on 127.0.0.1 with a free port
// (--port 0; the port is read from the "listening on" log line) on a synthetic model from
// HEARTH_TEST_MODELS, waits for /health, and stops it (SIGTERM, then SIGKILL) after the tests.
//
//   import { startServer, synthModel } from './harness.mjs';
//   const server = await startServer({ args: ['--parallel', '2'] });
//   ... fetch(`${server.url}/v1/models`) ...
//   await server.stop();
//
// Env: HEARTH_BIN (default <repo>/build/hearth), HEARTH_TEST_MODELS (default <repo>/../shared/models).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const hearthBin = process.env.HEARTH_BIN || path.join(repoRoot, 'build', 'hearth');
export const modelsDir = process.env.HEARTH_TEST_MODELS || path.join(repoRoot, '..', 'shared', 'models');

// Path of a synthetic model (random weights; Phi-3-style chat template, vocab 512), or null
// when the shared models are absent (tests then skip).
export function synthModel(name = 'synth-llama-tiny-Q8_0.gguf') {
  const p = path.join(modelsDir, 'synth', name);
  return existsSync(p) ? p : null;
}

// Why the client tests cannot run here, or null.
export function skipReason() {
  if (!existsSync(hearthBin)) return `hearth binary absent: ${hearthBin} (set HEARTH_BIN)`;
  if (!synthModel()) return `synthetic models absent under ${modelsDir} (set HEARTH_TEST_MODELS)`;
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts the server; resolves once GET /health answers 200. Options:
//   model: GGUF path (default synthModel()), alias (default "synth"), args: extra flags,
//   apiKey: sent by health checks, timeoutMs: how long to wait for it to come up,
//   port: a fixed port (default 0: any free one), env: extra environment variables,
//   ctxSize: --ctx-size (default 512).
export async function startServer({ model = synthModel(), alias = 'synth', args = [], apiKey,
                                    timeoutMs = 30000, port: fixedPort = 0, env = {},
                                    ctxSize = 512 } = {}) {
  const argv = ['serve', '--host', '127.0.0.1', '--port', String(fixedPort), '--ctx-size', String(ctxSize),
                '--threads', '2', '--keep-alive', '-1'];
  if (model) argv.push('-m', model, '--alias', alias);
  argv.push(...args);
  // No rag:<collection> models from the user's own collections unless a test asks (--rag-dir).
  const noRag = path.join(os.tmpdir(), 'hearth-test-no-rag-collections');
  const proc = spawn(hearthBin, argv, { stdio: ['ignore', 'ignore', 'pipe'],
                                        env: { ...process.env, HEARTH_RAG_DIR: noRag, ...env } });
  let log = '';
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth serve did not start:\n${log}`)), timeoutMs);
    proc.stderr.on('data', (chunk) => {
      log += chunk.toString();
      const m = log.match(/listening on http:\/\/[^:\s]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', () => { clearTimeout(timer); reject(new Error(`hearth serve exited:\n${log}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) break;
    } catch { /* not accepting yet */ }
    if (Date.now() > deadline) throw new Error(`/health never answered 200:\n${log}`);
    await sleep(50);
  }
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    proc,
    log: () => log,
    exited: () => exited,
    // SIGTERM (the server drains), SIGKILL after `graceMs`; resolves with the exit status.
    async stop(graceMs = 10000) {
      if (exited) return exited;
      const done = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const status = await done;
      clearTimeout(timer);
      return status;
    },
  };
}

// Reads a fetch Response body as SSE `data:` payloads (strings), in order.
export async function readSse(response) {
  const text = await response.text();
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const lines = block.split('\n');
    for (const line of lines) if (line.startsWith('data: ')) events.push(line.slice(6));
  }
  return { text, events };
}

// The after() of every server test: a server that does not exit 0 on SIGTERM is a failure, with
// its log in the message. Safe to call when before() skipped and no server started.
export async function stopCleanly(server) {
  if (!server) return;
  const status = await server.stop();
  assert.equal(status.code, 0, `hearth serve did not exit cleanly:\n${server.log()}`);
}

#!/usr/bin/env node
// Runs every Engine.io real-peer check and prints one line per check:
//   - the unmodified engine.io-client 3.5.6 against pushwire's Server
//     (crates/engineio/examples/echo_server.rs): polling, websocket-only, upgrade;
//   - hand-made polling requests with XHR2 binary payloads (no `b64`) and with base64
//     packets (`b64=1`), upgraded to a `ws` websocket, against the same server
//     (eio-raw-binary.js);
//   - pushwire's client::Session (crates/engineio/examples/echo_client.rs) against the
//     engine.io 3.6.2 server: polling, websocket-only, upgrade.
//
//   cargo build -p pushwire-engineio --examples && cd tests/interop/node && npm ci && node run-eio-interop.js
//
// Exit code 0 when all pass.
'use strict';
const { spawn, spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..', '..', '..');
const bin = (name) => path.join(root, 'target', 'debug', 'examples', name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PING_MS = 300;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000 });
  const line = (r.stdout || '').trim().split('\n').pop() || '';
  let parsed = null;
  try { parsed = JSON.parse(line); } catch (e) { /* not JSON */ }
  return { ok: r.status === 0 && parsed && parsed.ok === true, line: line || (r.stderr || '').trim() };
}

async function main() {
  let failures = 0;
  const report = (name, r) => {
    if (!r.ok) failures++;
    console.log(`${r.ok ? 'PASS' : 'FAIL'} ${name} ${r.line}`);
  };

  const server = spawn(bin('echo_server'), ['127.0.0.1:38601', String(PING_MS)], { stdio: 'ignore' });
  await sleep(500);
  for (const mode of ['polling', 'websocket', 'upgrade']) {
    report(`engine.io-client 3.5.6 -> pushwire Server (${mode})`,
      run('node', [path.join(__dirname, 'eio-client-echo.js'), 'http://127.0.0.1:38601', '3', mode]));
  }
  server.kill();

  // Hand-made polling requests (engine.io-parser 2.2.1 payloads) and a `ws` websocket:
  // XHR2 binary payloads without `b64`, and base64 packets with `b64=1`, across the upgrade.
  // Default heartbeat (25 s): this client does not ping.
  const raw = spawn(bin('echo_server'), ['127.0.0.1:38603'], { stdio: 'ignore' });
  await sleep(500);
  for (const mode of ['xhr2', 'b64']) {
    report(`hand-made ${mode} polling + ws -> pushwire Server (upgrade)`,
      run('node', [path.join(__dirname, 'eio-raw-binary.js'), 'http://127.0.0.1:38603', mode]));
  }
  raw.kill();

  const peer = spawn('node', [path.join(__dirname, 'eio-server-echo.js'), '38602', String(PING_MS)], { stdio: 'ignore' });
  await sleep(500);
  for (const mode of ['polling', 'websocket', 'upgrade']) {
    report(`pushwire client::Session -> engine.io 3.6.2 (${mode})`,
      run(bin('echo_client'), ['127.0.0.1:38602', '2', mode]));
  }
  peer.kill();
  process.exit(failures ? 1 : 0);
}

main();

#!/usr/bin/env node
// The whole matrix against the real software: reference-server.js (socket.io 4.8.4 with
// allowEIO3, socket.io 2.5.1, and socket.io 4.8.4 without allowEIO3) on free ports, and
// client-check.js with every client version × transport against them. Cells that cannot
// work by design are run too and must fail at `connect`.
//
//   node run-reference.js        (after `npm ci` in this folder)
//
// Prints each check's lines prefixed with its cell, then the matrix; exit status 1 if a cell
// did not do what the matrix expects. Every wait is bounded.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const here = __dirname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sio-ref-'));
const servers = [];

// Starts reference-server.js; resolves with {name, args, port, pidfile} once it listens.
function startServer(name, args) {
  const pidfile = path.join(tmp, name + '.pid');
  const child = spawn(process.execPath, [path.join(here, 'reference-server.js'), ...args, '--pidfile', pidfile],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not listen within 10 s`)), 10000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        const s = { name, args, port: Number(m[1]), pidfile };
        servers.push(s);
        resolve(s);
      }
    });
    child.on('exit', (code) => { clearTimeout(t); if (!servers.some((s) => s.name === name)) reject(new Error(`${name} exited ${code}`)); });
  });
}

function runCheck(label, args, ms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'client-check.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => { out += d; };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const t = setTimeout(() => { out += 'FAIL runner: killed after ' + ms + ' ms\n'; child.kill('SIGKILL'); }, ms);
    child.on('close', (code) => {
      clearTimeout(t);
      for (const line of out.split('\n').filter(Boolean)) console.log(`[${label}] ${line}`);
      resolve({ code, out });
    });
  });
}

async function main() {
  const v4 = await startServer('socket.io-4.8.4', ['4', '0']);
  const v2 = await startServer('socket.io-2.5.1', ['2', '0']);
  const v4strict = await startServer('socket.io-4.8.4-no-eio3', ['4', '0', '--no-eio3']);

  // [server, client, transport, expectation, why, extra args, checks allowed to SKIP]
  const cells = [];
  for (const t of ['polling', 'websocket', 'upgrade']) {
    cells.push([v4, '4', t, 'pass', null, ['--mixed']]);
    cells.push([v4, '2', t, 'pass', null, ['--mixed']]);
    // socket.io 2 cannot serve socket.io-client 4, so no mixed-protocols there.
    cells.push([v2, '2', t, 'pass', null, [], ['mixed-protocols']]);
    cells.push([v2, '4', t, 'refused', 'socket.io-client 4 speaks EIO=4; socket.io 2 (engine.io 3) answers in EIO=3 framing and the client refuses it']);
    cells.push([v4strict, '2', t, 'refused', 'socket.io 4 without allowEIO3 answers EIO=3 with HTTP 400 "Unsupported protocol version"']);
  }
  const rows = [];
  for (const [server, client, transport, expect, why, extra = [], mayskip = []] of cells) {
    const label = `${server.name} × socket.io-client ${client === '4' ? '4.8.4' : '2.5.0'} × ${transport}`;
    const url = `http://127.0.0.1:${server.port}`;
    const args = [client, url, transport, ...extra];
    if (expect === 'pass') {
      const restart = ['sh', path.join(here, 'restart-reference.sh'), server.pidfile, ...server.args.map((a) => (a === '0' ? String(server.port) : a))];
      args.push('--restart-cmd', restart.map((w) => `'${w}'`).join(' '));
    } else {
      args.push('--only', 'connect');
    }
    const { code, out } = await runCheck(label, args, 200000);
    const summary = (/SUMMARY .*pass=(\d+) fail=(\d+) skip=(\d+)/.exec(out) || []).slice(1).map(Number);
    let ok;
    const skipped = [...out.matchAll(/^SKIP (\S+):/gm)].map((m) => m[1]);
    if (expect === 'pass') ok = code === 0 && summary[1] === 0 && skipped.every((c) => mayskip.includes(c));
    else ok = code === 1 && /^FAIL connect/m.test(out) && !/^PASS/m.test(out);
    rows.push({ label, expect, ok, summary: summary.length ? `pass=${summary[0]} fail=${summary[1]} skip=${summary[2]}` : 'no summary', why });
  }

  console.log('\nMATRIX');
  for (const r of rows) {
    const verdict = r.expect === 'pass' ? (r.ok ? 'PASS' : 'FAIL') : (r.ok ? 'REFUSED (as expected)' : 'UNEXPECTED');
    console.log(`${verdict.padEnd(22)} ${r.label.padEnd(62)} ${r.summary}${r.why ? ' — ' + r.why : ''}`);
  }
  return rows.every((r) => r.ok);
}

function stopServers() {
  // The servers restarted by restart-reference.sh are not our children: stop them by the
  // process id in their pidfile.
  for (const s of servers) {
    try { process.kill(Number(fs.readFileSync(s.pidfile, 'utf8')), 'SIGTERM'); } catch (e) { /* already gone */ }
  }
}

const deadline = setTimeout(() => { console.log('FAIL runner: over 30 minutes'); stopServers(); process.exit(1); }, 30 * 60 * 1000);
main().then((ok) => {
  clearTimeout(deadline);
  stopServers();
  console.log(ok ? 'ALL CELLS AS EXPECTED' : 'SOME CELLS NOT AS EXPECTED');
  setTimeout(() => process.exit(ok ? 0 : 1), 200);
}, (e) => {
  console.log('FAIL runner: ' + (e && e.stack));
  stopServers();
  process.exit(1);
});

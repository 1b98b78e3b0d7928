// What the headless Chromium checks share: the launch flags this machine needs (no sandbox
// as root; no background networking, which the closed network refuses) and the
// "ok/FAIL name: detail" tally that ends with "N passed, N failed" and the exit status.
'use strict';
const { chromium } = require('playwright-core');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Debian's Chromium with ARGS and `extra` flags. */
function launch(extra = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS.concat(extra) });
}

/** A tally: `check(name, ok, detail)` prints and counts; `finish()` prints the totals and exits. */
function checker() {
  const t = {
    passed: 0,
    failed: 0,
    check(name, ok, detail) {
      if (ok) t.passed++; else t.failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
    },
    finish() {
      console.log(`${t.passed} passed, ${t.failed} failed`);
      process.exit(t.failed ? 1 : 0);
    },
  };
  return t;
}

module.exports = { launch, checker };

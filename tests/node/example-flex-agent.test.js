// examples/flex-agent: the plugin, loaded by its own entry point into a
// standalone page (harness/serve.js, on http://localhost:…), driven in
// headless Chromium against verify-local on another origin (http://127.0.0.1:…)
// allowed by CORS, with the panel's own API key. Through a full verification
// and each outcome: approved, wrong, locked, expired (and refused, with a key
// verify-local does not know). Screenshots: target/test-logs/flex-agent-*.png.
//
// "Expired" without waiting ten minutes (or the shortest validity, one): that
// test starts a second verify-local under libfaketime (Debian's faketime
// package, LD_PRELOAD), which reads its wall-clock offset from a file, and
// moves that clock past the code's validity in one step, checking the move in
// its responses' Date header. The browser's clock and verify-local's
// monotonic time (timers, deadlines) are left alone.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const S = require('./server');
const { launchBrowser } = require('./browser');
const { startHarness } = require('../../examples/flex-agent/harness/serve');

const PANEL_KEY_SID = `SK${crypto.randomBytes(16).toString('hex')}`;
const PANEL_KEY_SECRET = crypto.randomBytes(24).toString('hex');
const PANEL_KEYS = JSON.stringify([
  {
    key_id: PANEL_KEY_SID,
    secret_sha256: crypto.createHash('sha256').update(PANEL_KEY_SECRET).digest('hex'),
    permissions: ['verify'],
  },
]);
const VALIDITY = 60; // seconds: the shortest a service allows
const MAX_FAILURES = 3; // wrong codes before the number is locked

function libfaketime() {
  const found = fs
    .readdirSync('/usr/lib')
    .map((dir) => path.join('/usr/lib', dir, 'faketime', 'libfaketime.so.1'))
    .find((p) => fs.existsSync(p));
  if (!found) throw new Error('libfaketime is missing: bash tests/setup.sh installs faketime');
  return found;
}

// libfaketime reads verify-local's clock offset from this file. It picks up
// a move forward within two seconds, but not reliably a move back, so the
// verify-local whose clock moves serves the "expired" test alone.
const clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'faketime-')), 'offset');
function writeClockFile(seconds) {
  fs.writeFileSync(`${clockFile}.new`, `+${seconds}s\n`);
  fs.renameSync(`${clockFile}.new`, clockFile); // never read half-written
}

/** `target`'s clock, as its responses' Date header shows it. */
async function clockOf(target) {
  const basic = Buffer.from(`${S.ACCOUNT_SID}:${S.AUTH_TOKEN}`).toString('base64');
  const r = await fetch(`${target.baseUrl}/_local/messages?to=%2B10000000000`, { headers: { Authorization: `Basic ${basic}` } });
  return Date.parse(r.headers.get('date'));
}

/** Moves `target`'s wall clock `seconds` ahead and waits until it shows. */
async function moveClockForward(target, seconds) {
  writeClockFile(seconds);
  const deadline = Date.now() + 15000;
  while ((await clockOf(target)) < Date.now() + (seconds - 2) * 1000) {
    if (Date.now() > deadline) throw new Error(`verify-local's clock did not move ${seconds} s ahead`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let server;
let harness;
let browser;

/** verify-local as the panel's tests need it; `env` adds to its environment. */
function startVerify(env = {}) {
  return S.startServer({
    services: {
      services: [{ sid: S.SERVICE_SID, friendly_name: 'Support', validity_seconds: VALIDITY, max_failures: MAX_FAILURES }],
    },
    // The panel's own key, on top of the servers' (all permissions, from
    // --api-key): configured as an operator would, holding `verify` only
    // (see the example's README).
    args: ['--cors-origin', harness.origin],
    env: { VERIFY_API_KEYS: PANEL_KEYS, ...env },
  });
}

before(async () => {
  harness = await startHarness({ port: 0 });
  server = await startVerify();
  configure(server, PANEL_KEY_SECRET);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (harness) await harness.close();
  fs.rmSync(path.dirname(clockFile), { recursive: true, force: true });
});

/** Builds the plugin for `target` (a verify-local) with the panel's key. */
function configure(target, secret) {
  harness.configure({
    FLEX_APP_VERIFY_START_URL: `${target.baseUrl}/start-verify`,
    FLEX_APP_VERIFY_CHECK_URL: `${target.baseUrl}/check-verify`,
    FLEX_APP_VERIFY_KEY_SID: PANEL_KEY_SID,
    FLEX_APP_VERIFY_KEY_SECRET: secret,
  });
}

async function openTask(number, target = server) {
  const page = await browser.newPage();
  const sid = `WT${crypto.randomBytes(16).toString('hex')}`;
  await page.goto(`${harness.origin}/?from=${encodeURIComponent(number)}&sid=${sid}`);
  await page.getByTestId('verify-panel').waitFor();
  assert.equal(await page.getByTestId('phone').inputValue(), number, 'the number comes from the task');
  assert.notEqual(new URL(page.url()).origin, new URL(target.baseUrl).origin, 'the panel calls another origin');
  return page;
}

/** Waits until the panel shows `state`; returns its text. */
async function shows(page, state) {
  const status = page.locator(`[data-testid="status"][data-state="${state}"]`);
  try {
    await status.waitFor({ timeout: 10000 });
  } catch (e) {
    const now = page.getByTestId('status');
    throw new Error(`expected ${state}, the panel shows ${await now.getAttribute('data-state')}: ${await now.textContent()}`);
  }
  return status.textContent();
}

/** Clicks `testId` and waits for the panel's request to `path` to be answered. */
async function clickAndWait(page, testId, path) {
  const answered = page.waitForResponse((r) => r.url().endsWith(path) && r.request().method() === 'POST');
  await page.getByTestId(testId).click();
  return answered;
}

const send = (page) => clickAndWait(page, 'send', '/start-verify');

async function enter(page, code) {
  await page.getByTestId('code').fill(code);
  return clickAndWait(page, 'check', '/check-verify');
}

function wrong(code) {
  return code.replace(/./g, (d) => (d === '1' ? '2' : '1'));
}

for (const channel of ['sms', 'call']) {
  test(`a full verification, the agent choosing ${channel}`, async () => {
    const number = S.freshNumber();
    const page = await openTask(number);
    assert.match(await shows(page, 'idle'), /Send the customer a code/);
    await page.getByTestId(`channel-${channel}`).check();
    await send(page);
    // Either channel is delivered as chosen: the panel shows 'sent' at once.
    assert.match(await shows(page, 'sent'), new RegExp(`${number.replace('+', '\\+')}`));
    assert.deepEqual((await server.messages(number)).map((m) => m.channel), [channel]);
    await enter(page, await server.lastCode(number));
    assert.match(await shows(page, 'approved'), /verified/);
    assert.equal(await page.getByTestId('send').isDisabled(), true, 'nothing more to do once approved');
    await browser.screenshot(page, `flex-agent-approved-${channel}`);
    await page.close();
  });
}

test('a wrong code says so and leaves the code usable', async () => {
  const number = S.freshNumber();
  const page = await openTask(number);
  await send(page);
  await shows(page, 'sent');
  const code = await server.lastCode(number);
  await enter(page, wrong(code));
  assert.match(await shows(page, 'wrong'), /Wrong code/);
  await browser.screenshot(page, 'flex-agent-wrong');
  await enter(page, code);
  await shows(page, 'approved');
  await page.close();
});

test('too many wrong codes lock the number, and the panel says until when', async () => {
  const number = S.freshNumber();
  const page = await openTask(number);
  await send(page);
  await shows(page, 'sent');
  const code = await server.lastCode(number);
  for (let i = 0; i < MAX_FAILURES; i += 1) {
    await enter(page, wrong(code));
    await shows(page, 'wrong');
  }
  await enter(page, code);
  assert.match(await shows(page, 'locked'), /Locked\..*locked.*until \d{4}-\d\d-\d\dT/);
  await browser.screenshot(page, 'flex-agent-locked');
  const refused = await send(page);
  assert.equal(refused.status(), 429);
  assert.match(await shows(page, 'locked'), /until/);
  assert.equal((await server.messages(number)).length, 1, 'a locked number gets no new code');
  await page.close();
});

test("the panel's key holds `verify` only: it cannot approve without a code or read codes", async () => {
  const number = S.freshNumber();
  const basic = Buffer.from(`${PANEL_KEY_SID}:${PANEL_KEY_SECRET}`).toString('base64');
  const call = (path, init = {}) =>
    fetch(`${server.baseUrl}${path}`, { ...init, headers: { Authorization: `Basic ${basic}`, ...(init.headers || {}) } });
  const form = (fields) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const started = await call(`/v2/Services/${S.SERVICE_SID}/Verifications`, form({ To: number, Channel: 'sms' }));
  assert.equal(started.status, 201);
  const { sid } = await started.json();
  const approve = await call(`/v2/Services/${S.SERVICE_SID}/Verifications/${sid}`, form({ Status: 'approved' }));
  assert.equal(approve.status, 403);
  assert.equal((await approve.json()).code, 20403);
  for (const path of [`/_local/messages?to=${encodeURIComponent(number)}`, '/v2/Attempts', '/v2/Services']) {
    assert.equal((await call(path)).status, 403, path);
  }
  const fetched = await call(`/v2/Services/${S.SERVICE_SID}/Verifications/${sid}`);
  assert.equal((await fetched.json()).status, 'pending', 'the refused approval changed nothing');
});

test('a key verify-local does not know is refused, and the panel says so', async () => {
  configure(server, 'not-the-panel-secret');
  try {
    const number = S.freshNumber();
    const page = await openTask(number);
    await send(page);
    assert.match(await shows(page, 'refused'), /refused the panel/);
    await browser.screenshot(page, 'flex-agent-refused');
    assert.deepEqual(await server.messages(number), []);
    await page.close();
  } finally {
    configure(server, PANEL_KEY_SECRET);
  }
});

test('a code checked after its validity is expired', async () => {
  writeClockFile(0);
  const late = await startVerify({
    LD_PRELOAD: libfaketime(),
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_CACHE_DURATION: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  configure(late, PANEL_KEY_SECRET);
  try {
    const number = S.freshNumber();
    const page = await openTask(number, late);
    await send(page);
    await shows(page, 'sent');
    const code = await late.lastCode(number);
    await moveClockForward(late, VALIDITY + 5);
    await enter(page, code); // the right code, too late
    assert.match(await shows(page, 'expired'), /Expired/);
    await browser.screenshot(page, 'flex-agent-expired');
    await page.close();
  } finally {
    configure(server, PANEL_KEY_SECRET);
    await late.stop();
  }
});

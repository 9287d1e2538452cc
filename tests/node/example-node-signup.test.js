// examples/node-signup: its server.js run as its README says (npm start, with
// VERIFY_BASE_URL and an API key of verify-local's), driven in headless
// Chromium: sign up with a number, read the code the "phone" got, confirm
// it, land on the account page with a session. Screenshots:
// target/test-logs/node-signup-*.png.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawn } = require('node:child_process');
const S = require('./server');
const { launchBrowser } = require('./browser');

const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'node-signup');

let server;
let app;
let browser;

/** Runs `node server.js` in the example's folder; resolves to its URL and a stop(). */
function startApp(env) {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: EXAMPLE,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node-signup did not start:\n${output}`)), 15000);
    const read = (chunk) => {
      output += chunk;
      const m = /node-signup listening on (http:\/\/\S+)\r?\n/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stop: () => new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', done);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10000).unref();
          }),
        });
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.once('exit', (code) => reject(new Error(`node-signup exited with ${code}:\n${output}`)));
  });
}

before(async () => {
  server = await S.startServer();
  app = await startApp({
    VERIFY_BASE_URL: server.baseUrl,
    VERIFY_API_KEY: S.API_KEY_SID,
    VERIFY_API_SECRET: S.API_KEY_SECRET,
    VERIFY_ACCOUNT_SID: S.ACCOUNT_SID,
    VERIFY_SERVICE_SID: S.SERVICE_SID,
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (app) await app.stop();
  if (server) await server.stop();
});

/** A page for a new visitor: no session cookie from an earlier test. */
async function visitor() {
  await browser.clearCookies();
  return browser.newPage();
}

async function signUp(page, number, channel) {
  await page.goto(app.url);
  await page.locator('#phone').fill(number);
  await page.locator(`input[name=channel][value=${channel}]`).check();
  await Promise.all([page.waitForLoadState('load'), page.locator('#send').click()]);
}

async function confirm(page, code) {
  await page.locator('#code').fill(code);
  await Promise.all([page.waitForLoadState('load'), page.locator('#confirm').click()]);
}

function wrong(code) {
  return code.replace(/./g, (d) => (d === '1' ? '2' : '1'));
}

for (const channel of ['sms', 'call']) {
  test(`sign up by ${channel}: number, code, session`, async () => {
    const number = S.freshNumber();
    const page = await visitor();
    await signUp(page, number, channel);
    // Either channel is delivered as chosen: straight to /confirm.
    assert.deepEqual((await server.messages(number)).map((m) => m.channel), [channel]);
    assert.equal(new URL(page.url()).pathname, '/confirm');
    assert.match(await page.locator('#sent').textContent(), new RegExp(number.replace('+', '\\+')));
    await confirm(page, await server.lastCode(number));
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.match(await page.locator('#signed-in').textContent(), new RegExp(`Signed in as ${number.replace('+', '\\+')}`));
    await browser.screenshot(page, `node-signup-account-${channel}`);

    // The session is a cookie the page's scripts cannot read.
    const cookies = await browser.context.cookies(app.url);
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0].httpOnly, true);
    assert.equal(cookies[0].sameSite, 'Lax');
    await page.goto(`${app.url}/account`);
    assert.match(await page.locator('#signed-in').textContent(), /Signed in/, 'the session holds');
    await Promise.all([page.waitForLoadState('load'), page.locator('#logout').click()]);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.goto(`${app.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/', 'signed out');
    await page.close();
  });
}

test('a wrong code is refused and the right one still works', async () => {
  const number = S.freshNumber();
  const page = await visitor();
  await signUp(page, number, 'sms');
  const code = await server.lastCode(number);
  await confirm(page, wrong(code));
  assert.equal(new URL(page.url()).pathname, '/confirm');
  assert.match(await page.locator('#error').textContent(), /not right/);
  await browser.screenshot(page, 'node-signup-wrong-code');
  await confirm(page, code);
  assert.equal(new URL(page.url()).pathname, '/account');
  await page.close();
});

test('a number Verify refuses is explained on the form', async () => {
  const page = await visitor();
  await signUp(page, '4155550123', 'sms');
  assert.match(await page.locator('#error').textContent(), /no country code/);
  assert.equal(new URL(page.url()).pathname, '/signup');
  await page.goto(`${app.url}/confirm`);
  assert.equal(new URL(page.url()).pathname, '/', 'no code pending, nothing to confirm');
  await page.close();
});

// Starts verify-local for one test file and stops it afterwards: in-memory
// store, a random loopback port, API keys in both of Twilio's styles, an auth
// token for X-Twilio-Signature, one allowed browser origin. Codes are read
// back from GET /_local/messages (with the same credentials), as a phone
// would receive them.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

// Helper libraries rewrite the host when these are set; keep them out.
delete process.env.TWILIO_EDGE;
delete process.env.TWILIO_REGION;

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.VERIFY_LOCAL_BIN || path.join(ROOT, 'target', 'debug', 'verify-local');

const ACCOUNT_SID = 'AC' + '3'.repeat(32);
const AUTH_TOKEN = 'b'.repeat(32);
const API_KEY_SID = 'SK' + '4'.repeat(32);
const API_KEY_SECRET = 'node-api-key-secret';
const SIGNING_TOKEN = 'fedcba9876543210fedcba9876543210';
const BROWSER_ORIGIN = 'https://flex.twilio.com';
const SERVICE_SID = 'VA' + 'abcdef0123456789'.repeat(2);

/**
 * Starts verify-local. Options, for tests that need more than the defaults:
 * `services` (the VERIFY_SERVICES document), `args` (more command-line
 * arguments, e.g. another --api-key or --cors-origin) and `env` (more
 * environment, e.g. libfaketime's).
 */
async function startServer(options = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`verify-local is not built at ${BIN}`);
  const env = { ...process.env };
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SNS', 'VERIFY_API_KEYS']) {
    delete env[name];
  }
  Object.assign(env, {
    VERIFY_SERVICES: JSON.stringify(options.services || { services: [{ sid: SERVICE_SID, friendly_name: 'Node Shop' }] }),
    VERIFY_ACCOUNT_SID: ACCOUNT_SID,
    VERIFY_AUTH_TOKENS: SIGNING_TOKEN,
    RUST_LOG: 'warn',
    ...options.env,
  });
  const child = spawn(
    BIN,
    [
      '--memory', '--port', '0',
      '--api-key', `${ACCOUNT_SID}:${AUTH_TOKEN}`,
      '--api-key', `${API_KEY_SID}:${API_KEY_SECRET}`,
      '--cors-origin', BROWSER_ORIGIN,
      ...(options.args || []),
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verify-local did not start:\n${log}`)), 30000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      // Only a whole line: a chunk may end in the middle of the port.
      const m = /verify-local listening on (http:\/\/\S+)\r?\n/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`verify-local exited with ${code}:\n${log}`));
    });
  });
  child.removeAllListeners('exit');

  // The list shows codes, so it takes the API's credentials.
  const basic = Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
  const messages = async (to) => {
    const r = await fetch(`${baseUrl}/_local/messages?to=${encodeURIComponent(to)}`, {
      headers: { Authorization: `Basic ${basic}` },
    });
    if (!r.ok) throw new Error(`messages: HTTP ${r.status}`);
    return r.json();
  };
  return {
    baseUrl,
    messages,
    async lastCode(to) {
      const all = await messages(to);
      if (all.length === 0) throw new Error(`no message was sent to ${to}`);
      // A call's SSML without its tags ends with the code's last reading.
      return /(\d+)\s*$/.exec(all[all.length - 1].body.replace(/<[^>]*>/g, ''))[1];
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10000).unref();
      });
    },
  };
}

/** The error a call to the library failed with: a twilio.RestException. */
async function restError(promise) {
  const assert = require('node:assert/strict');
  const twilio = require('twilio');
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof twilio.RestException, `expected RestException, got ${e}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

let next = 100;
/** A phone number no other test uses (limits are per number). */
function freshNumber() {
  next += 1;
  return `+1415555${String(next).padStart(4, '0')}`;
}

module.exports = {
  startServer,
  freshNumber,
  restError,
  ACCOUNT_SID,
  AUTH_TOKEN,
  API_KEY_SID,
  API_KEY_SECRET,
  SIGNING_TOKEN,
  BROWSER_ORIGIN,
  SERVICE_SID,
};

// Services managed over the API with the official `twilio` Node library,
// unmodified: a service created with `client.verify.v2.services.create`
// sends codes of its own length under its own name, is updated, refuses a
// parameter this project does not support (400/60200), and is deleted.
// Its own verify-local, so the other files' service lists stay as configured.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

let server;
let client;

before(async () => {
  server = await S.startServer();
  client = twilio(S.API_KEY_SID, S.API_KEY_SECRET, { accountSid: S.ACCOUNT_SID });
  client.verify.baseUrl = server.baseUrl;
});

after(async () => {
  if (server) await server.stop();
});

const { restError } = S;

test('a service created over the API is used, updated and deleted', async () => {
  const created = await client.verify.v2.services.create({ friendlyName: 'Node Pay', codeLength: 8 });
  assert.match(created.sid, /^VA[0-9a-f]{32}$/);
  assert.equal(created.friendlyName, 'Node Pay');
  assert.equal(created.codeLength, 8);
  assert.ok(created.dateCreated instanceof Date && !isNaN(created.dateCreated));
  const svc = client.verify.v2.services(created.sid);

  const to = S.freshNumber();
  const v = await svc.verifications.create({ to, channel: 'sms' });
  assert.equal(v.serviceSid, created.sid);
  assert.match((await server.messages(to))[0].body, /^Your Node Pay verification code is: \d{8}$/);
  const check = await svc.verificationChecks.create({ to, code: await server.lastCode(to) });
  assert.equal(check.status, 'approved');

  const updated = await svc.update({ friendlyName: 'Node Pay Two', skipSmsToLandlines: true });
  assert.equal(updated.friendlyName, 'Node Pay Two');
  assert.equal(updated.skipSmsToLandlines, true);
  assert.equal(updated.codeLength, 8);
  const refused = await restError(svc.update({ 'totp.issuer': 'Node Pay' }));
  assert.equal(refused.status, 400);
  assert.equal(refused.code, 60200);
  assert.equal((await svc.fetch()).friendlyName, 'Node Pay Two');
  assert.deepEqual((await client.verify.v2.services.list()).map((s) => s.sid), [S.SERVICE_SID, created.sid]);

  assert.equal(await svc.remove(), true);
  const gone = await restError(svc.fetch());
  assert.equal(gone.status, 404);
  assert.equal(gone.code, 20404);
  assert.deepEqual((await client.verify.v2.services.list()).map((s) => s.sid), [S.SERVICE_SID]);
});

// Webhooks created over the API with the official `twilio` Node library,
// unmodified: `client.verify.v2.services(sid).webhooks` creates (event
// types as an array), fetches, lists, updates and removes one; a Verify
// Push event type is refused 400/60200 naming EventTypes.
// Its own verify-local, with a signing secret for such webhooks.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

const SECRET = 'whsec_' + Buffer.from('node-service-webhooks-secret-32b').toString('base64');

let server;
let hooks;

before(async () => {
  server = await S.startServer({ args: ['--webhook-secret', SECRET] });
  const client = twilio(S.API_KEY_SID, S.API_KEY_SECRET, { accountSid: S.ACCOUNT_SID });
  client.verify.baseUrl = server.baseUrl;
  hooks = client.verify.v2.services(S.SERVICE_SID).webhooks;
});

after(async () => {
  if (server) await server.stop();
});

test('a webhook is created, fetched, listed, updated and removed', async () => {
  const created = await hooks.create({
    friendlyName: 'Node hook',
    eventTypes: ['verification.approved', 'verification.expired'],
    webhookUrl: 'https://hooks.example.com/node',
  });
  assert.match(created.sid, /^YW[0-9a-f]{32}$/);
  assert.deepEqual(created.eventTypes, ['verification.approved', 'verification.expired']);
  assert.equal(created.status, 'enabled');
  assert.equal(created.webhookMethod, 'POST');
  assert.ok(created.dateCreated instanceof Date && !isNaN(created.dateCreated));
  assert.equal((await hooks(created.sid).fetch()).friendlyName, 'Node hook');
  assert.deepEqual((await hooks.list()).map((h) => h.sid), [created.sid]);
  const updated = await hooks(created.sid).update({ status: 'disabled' });
  assert.equal(updated.status, 'disabled');
  assert.equal(await hooks(created.sid).remove(), true);
  assert.equal((await S.restError(hooks(created.sid).fetch())).status, 404);

  const refused = await S.restError(
    hooks.create({ friendlyName: 'Push', eventTypes: ['factor.verified'], webhookUrl: 'https://hooks.example.com/node' }),
  );
  assert.equal(refused.status, 400);
  assert.equal(refused.code, 60200);
  assert.match(refused.message, /EventTypes \(factor\.verified is a Verify Push/);
  assert.deepEqual(await hooks.list(), []);
});

// Messaging configurations with the official `twilio` Node library,
// unmodified: `client.verify.v2.services(sid).messagingConfigurations`
// creates one for GB naming a sender profile of the deployment
// (VERIFY_SMS_PROFILES), a start's SMS to GB goes out with its origination
// identity (verify-local's outbox shows it), and the configuration is
// listed, fetched, updated, refused a profile the deployment does not
// define (400/60200) and removed.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

const UK = 'MG' + '0'.repeat(31) + 'a';
const ANY = 'MG' + '0'.repeat(31) + 'b';

let server;
let client;

before(async () => {
  const profiles = { [UK]: { origination_identity: '+447700900123' }, [ANY]: { origination_identity: 'pool-0123456789abcdef' } };
  server = await S.startServer({ env: { VERIFY_SMS_SENDER: 'eum', VERIFY_SMS_PROFILES: JSON.stringify(profiles) } });
  client = twilio(S.API_KEY_SID, S.API_KEY_SECRET, { accountSid: S.ACCOUNT_SID });
  client.verify.baseUrl = server.baseUrl;
});

after(async () => {
  if (server) await server.stop();
});

test('a messaging configuration picks the sender profile of a country', async () => {
  const svc = client.verify.v2.services(S.SERVICE_SID);
  const created = await svc.messagingConfigurations.create({ country: 'GB', messagingServiceSid: UK });
  assert.equal(created.country, 'GB');
  assert.equal(created.messagingServiceSid, UK);
  assert.equal(created.serviceSid, S.SERVICE_SID);
  assert.ok(created.dateCreated instanceof Date && !isNaN(created.dateCreated));

  const to = '+447400123456';
  await svc.verifications.create({ to, channel: 'sms' });
  const [sent] = await server.messages(to);
  assert.equal(sent.from, '+447700900123');
  assert.equal(sent.messaging_service_sid, UK);

  assert.deepEqual((await svc.messagingConfigurations.list()).map((c) => c.country), ['GB']);
  assert.equal((await svc.messagingConfigurations('GB').fetch()).messagingServiceSid, UK);
  const updated = await svc.messagingConfigurations('GB').update({ messagingServiceSid: ANY });
  assert.equal(updated.messagingServiceSid, ANY);
  const refused = await S.restError(svc.messagingConfigurations('GB').update({ messagingServiceSid: 'MG' + 'f'.repeat(32) }));
  assert.equal(refused.status, 400);
  assert.equal(refused.code, 60200);
  assert.equal((await svc.messagingConfigurations('GB').fetch()).messagingServiceSid, ANY);

  assert.equal(await svc.messagingConfigurations('GB').remove(), true);
  const gone = await S.restError(svc.messagingConfigurations('GB').fetch());
  assert.equal(gone.status, 404);
  assert.deepEqual(await svc.messagingConfigurations.list(), []);
});

// The Safe List through the official `twilio` Node library, unmodified
// (`client.verify.v2.safelist`): create, fetch, delete, Twilio's errors, and
// what a listed number may do: pass a service's country restriction, never
// its per-number send limit.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

const { restError } = S;
const UK = '+442079460970';

let server;
let client;
let usOnly;

before(async () => {
  server = await S.startServer({
    services: { services: [{ sid: S.SERVICE_SID, friendly_name: 'Node Shop', countries: ['US'] }] },
  });
  client = twilio(S.ACCOUNT_SID, S.AUTH_TOKEN);
  client.verify.baseUrl = server.baseUrl;
  usOnly = client.verify.v2.services(S.SERVICE_SID);
});

after(async () => {
  if (server) await server.stop();
});

test('create, fetch, a second create, delete, then 404', async () => {
  const number = '+442079460971';
  const created = await client.verify.v2.safelist.create({ phoneNumber: number });
  assert.match(created.sid, /^GN[0-9a-f]{32}$/);
  assert.equal(created.phoneNumber, number);
  assert.equal(created.url, `${server.baseUrl}/v2/SafeList/Numbers/${number}`);
  const fetched = await client.verify.v2.safelist(number).fetch();
  assert.deepEqual([fetched.sid, fetched.phoneNumber], [created.sid, number]);
  const again = await restError(client.verify.v2.safelist.create({ phoneNumber: number }));
  assert.deepEqual([again.status, again.code], [400, 60411]);
  assert.equal(await client.verify.v2.safelist(number).remove(), true);
  const gone = await restError(client.verify.v2.safelist(number).fetch());
  assert.deepEqual([gone.status, gone.code], [404, 20404]);
});

test('a number without its country code is a 400 and lists nothing', async () => {
  const e = await restError(client.verify.v2.safelist.create({ phoneNumber: '2079460972' }));
  assert.deepEqual([e.status, e.code], [400, 60200]);
});

test('a listed number passes the country restriction, not the send limit', async () => {
  const refused = await restError(usOnly.verifications.create({ to: UK, channel: 'sms' }));
  assert.deepEqual([refused.status, refused.code], [403, 60605]);
  assert.deepEqual(await server.messages(UK), [], 'a refused start sends nothing');
  await client.verify.v2.safelist.create({ phoneNumber: UK });
  try {
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await usOnly.verifications.create({ to: UK, channel: 'sms' })).status, 'pending');
    }
    const limited = await restError(usOnly.verifications.create({ to: UK, channel: 'sms' }));
    assert.deepEqual([limited.status, limited.code], [429, 60203]);
    assert.equal((await server.messages(UK)).length, 5);
  } finally {
    await client.verify.v2.safelist(UK).remove();
  }
});

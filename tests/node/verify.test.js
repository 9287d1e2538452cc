// The official `twilio` Node library, unmodified, against verify-local: only
// `client.verify.baseUrl` is changed, as a team moving off Twilio would.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

let server;
let service;

before(async () => {
  server = await S.startServer();
  const client = twilio(S.ACCOUNT_SID, S.AUTH_TOKEN);
  client.verify.baseUrl = server.baseUrl;
  service = client.verify.v2.services(S.SERVICE_SID);
});

after(async () => {
  if (server) await server.stop();
});

const { restError } = S;

function otherThan(code) {
  return code === '111111' ? '222222' : '111111';
}

test('create, fetch by sid and by number, wrong code, right code, then 404', async () => {
  const to = S.freshNumber();
  const v = await service.verifications.create({ to, channel: 'sms' });
  assert.match(v.sid, /^VE[0-9a-f]{32}$/);
  assert.equal(v.status, 'pending');
  assert.equal(v.valid, false);
  assert.equal(v.serviceSid, S.SERVICE_SID);
  assert.equal(v.accountSid, S.ACCOUNT_SID);
  assert.ok(v.dateCreated instanceof Date && !isNaN(v.dateCreated));
  assert.equal(v.url, `${server.baseUrl}/v2/Services/${S.SERVICE_SID}/Verifications/${v.sid}`);
  assert.equal(v.sendCodeAttempts.length, 1);

  const bySid = await service.verifications(v.sid).fetch();
  assert.equal(bySid.sid, v.sid);
  assert.equal(bySid.status, 'pending');
  const byNumber = await service.verifications(to).fetch();
  assert.equal(byNumber.sid, v.sid);

  const code = await server.lastCode(to);
  const wrong = await service.verificationChecks.create({ to, code: otherThan(code) });
  assert.equal(wrong.status, 'pending');
  assert.equal(wrong.valid, false);
  const right = await service.verificationChecks.create({ to, code });
  assert.equal(right.status, 'approved');
  assert.equal(right.valid, true);

  const e = await restError(service.verificationChecks.create({ to, code }));
  assert.equal(e.status, 404);
  assert.equal(e.code, 20404);
  assert.equal(e.moreInfo, 'https://www.twilio.com/docs/errors/20404');
});

test('cancel flow', async () => {
  const to = S.freshNumber();
  const v = await service.verifications.create({ to, channel: 'sms' });
  const code = await server.lastCode(to);
  const canceled = await service.verifications(v.sid).update({ status: 'canceled' });
  assert.equal(canceled.status, 'canceled');
  for (const call of [
    () => service.verifications(v.sid).fetch(),
    () => service.verifications(to).fetch(),
    () => service.verificationChecks.create({ to, code }),
  ]) {
    const e = await restError(call());
    assert.equal(e.status, 404);
    assert.equal(e.code, 20404);
  }
  const again = await service.verifications.create({ to, channel: 'sms' });
  assert.notEqual(again.sid, v.sid);
});

test('60202 after five wrong codes', async () => {
  const to = S.freshNumber();
  await service.verifications.create({ to, channel: 'sms' });
  const code = await server.lastCode(to);
  for (let i = 0; i < 5; i += 1) {
    const c = await service.verificationChecks.create({ to, code: otherThan(code) });
    assert.equal(c.status, 'pending');
  }
  const e = await restError(service.verificationChecks.create({ to, code }));
  assert.equal(e.status, 429);
  assert.equal(e.code, 60202);
});

test('60203 after five sends', async () => {
  const to = S.freshNumber();
  for (let i = 0; i < 5; i += 1) {
    await service.verifications.create({ to, channel: 'sms' });
  }
  const e = await restError(service.verifications.create({ to, channel: 'sms' }));
  assert.equal(e.status, 429);
  assert.equal(e.code, 60203);
  assert.equal((await server.messages(to)).length, 5);
});

test('401 with bad credentials', async () => {
  const to = S.freshNumber();
  for (const [user, secret] of [
    [S.ACCOUNT_SID, 'wrong'],
    [S.API_KEY_SID, S.AUTH_TOKEN],
  ]) {
    const bad = twilio(user, secret, { accountSid: S.ACCOUNT_SID });
    bad.verify.baseUrl = server.baseUrl;
    const e = await restError(bad.verify.v2.services(S.SERVICE_SID).verifications.create({ to, channel: 'sms' }));
    assert.equal(e.status, 401);
    assert.equal(e.code, 20003);
  }
  assert.deepEqual(await server.messages(to), []);
});

test('API key credentials and services read', async () => {
  const client = twilio(S.API_KEY_SID, S.API_KEY_SECRET, { accountSid: S.ACCOUNT_SID });
  client.verify.baseUrl = server.baseUrl;
  const services = await client.verify.v2.services.list();
  assert.deepEqual(services.map((s) => s.sid), [S.SERVICE_SID]);
  const s = await client.verify.v2.services(S.SERVICE_SID).fetch();
  assert.equal(s.friendlyName, 'Node Shop');
  assert.equal(s.codeLength, 6);
  const to = S.freshNumber();
  await client.verify.v2.services(S.SERVICE_SID).verifications.create({ to, channel: 'sms' });
  assert.match((await server.messages(to))[0].body, /^Your Node Shop verification code is: \d{6}$/);
});

test('X-Twilio-Signature made by the library is accepted, a changed one is not', async () => {
  const to = S.freshNumber();
  const url = `${server.baseUrl}/v2/Services/${S.SERVICE_SID}/Verifications`;
  const params = { To: to, Channel: 'sms' };
  const post = (signature, body = params) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
      body: new URLSearchParams(body),
    });
  const signature = twilio.getExpectedTwilioSignature(S.SIGNING_TOKEN, url, params);
  assert.ok(twilio.validateRequest(S.SIGNING_TOKEN, signature, url, params));
  assert.equal((await post(signature)).status, 201);
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  assert.equal((await post(flipped)).status, 401);
  assert.equal((await post(signature, { ...params, Locale: 'en' })).status, 401);
  assert.equal((await server.messages(to)).length, 1);
});

test('browser preflight and CORS headers for an allowed origin only', async () => {
  const pre = await fetch(`${server.baseUrl}/start-verify`, {
    method: 'OPTIONS',
    headers: {
      Origin: S.BROWSER_ORIGIN,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), S.BROWSER_ORIGIN);
  const to = S.freshNumber();
  const auth = 'Basic ' + Buffer.from(`${S.ACCOUNT_SID}:${S.AUTH_TOKEN}`).toString('base64');
  const r = await fetch(`${server.baseUrl}/start-verify`, {
    method: 'POST',
    headers: { Origin: S.BROWSER_ORIGIN, Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    body: new URLSearchParams({ to }),
  });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('access-control-allow-origin'), S.BROWSER_ORIGIN);
  const other = await fetch(`${server.baseUrl}/check-verify`, {
    method: 'POST',
    headers: { Origin: 'https://evil.example', Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ to, code: await server.lastCode(to) }),
  });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('channel email: the code from the e-mail approves; a SendGrid template_id is refused', async () => {
  const to = `node.${Date.now()}@Example.COM`;
  const stored = to.replace('@Example.COM', '@example.com');
  const v = await service.verifications.create({ to, channel: 'email' });
  assert.equal(v.channel, 'email');
  assert.equal(v.to, stored);
  const [mail] = await server.messages(stored);
  assert.equal(mail.channel, 'email');
  assert.equal(mail.subject, 'Your Node Shop verification code');
  const code = mail.body.match(/verification code is: (\d{6})/)[1];
  assert.ok(mail.html.includes(`>${code}<`));
  const right = await service.verificationChecks.create({ to: stored, code });
  assert.equal(right.status, 'approved');

  const e = await restError(
    service.verifications.create({ to, channel: 'email', channelConfiguration: { template_id: 'd-123' } }),
  );
  assert.equal(e.status, 400);
  assert.equal(e.code, 60200);
  assert.match(e.message, /leave template_id out/);
});

test('a code by call, a resend by text, and auto on a fixed line', async () => {
  const to = S.freshNumber();
  const call = await service.verifications.create({ to, channel: 'call' });
  assert.equal(call.channel, 'call');
  const [message] = await server.messages(to);
  assert.equal(message.channel, 'call');
  assert.match(message.body, /^<speak>.*<say-as interpret-as="digits">\d<\/say-as>.*<\/speak>$/);
  const resend = await service.verifications.create({ to, channel: 'sms' });
  assert.equal(resend.sid, call.sid);
  assert.deepEqual(resend.sendCodeAttempts.map((a) => a.channel), ['call', 'sms']);
  const check = await service.verificationChecks.create({ to, code: await server.lastCode(to) });
  assert.equal(check.status, 'approved');

  // A London number is a fixed line by the UK plan: auto calls it.
  const fixed = `+442079460${to.slice(-3)}`;
  const auto = await service.verifications.create({ to: fixed, channel: 'auto' });
  assert.equal(auto.channel, 'call');
  assert.deepEqual((await server.messages(fixed)).map((m) => m.channel), ['call']);
});

test('rate limits and buckets through the client; RateLimits on a start gets 429/20429 when full', async () => {
  const name = `end_user_ip_address_${Date.now()}`;
  const limit = await service.rateLimits.create({ uniqueName: name, description: 'per IP' });
  assert.match(limit.sid, /^RK[0-9a-f]{32}$/);
  assert.equal(limit.uniqueName, name);
  const bucket = await service.rateLimits(limit.sid).buckets.create({ max: 1, interval: 3600 });
  assert.match(bucket.sid, /^BL[0-9a-f]{32}$/);
  assert.equal(bucket.max, 1);
  const listed = await service.rateLimits(limit.sid).buckets.list();
  assert.deepEqual(listed.map((b) => b.sid), [bucket.sid]);
  const dup = await restError(service.rateLimits.create({ uniqueName: name }));
  assert.equal(dup.status, 400);
  assert.equal(dup.code, 60208);

  const rateLimits = { [name]: '192.0.2.10' };
  const first = S.freshNumber();
  const v = await service.verifications.create({ to: first, channel: 'sms', rateLimits });
  assert.equal(v.status, 'pending');
  const second = S.freshNumber();
  const e = await restError(service.verifications.create({ to: second, channel: 'sms', rateLimits }));
  assert.equal(e.status, 429);
  assert.equal(e.code, 20429);
  assert.deepEqual(await server.messages(second), []);
  assert.equal(await service.rateLimits(limit.sid).remove(), true);
});

test('channel whatsapp: the template code approves; a resend switches from text to WhatsApp', async () => {
  const to = S.freshNumber();
  const v = await service.verifications.create({ to, channel: 'whatsapp' });
  assert.equal(v.channel, 'whatsapp');
  assert.deepEqual(v.sendCodeAttempts.map((a) => a.channel), ['whatsapp']);
  const [message] = await server.messages(to);
  assert.equal(message.channel, 'whatsapp');
  assert.equal(message.template, 'verification_code');
  assert.equal(message.language, 'en');
  const { template } = message.message;
  assert.equal(message.message.to, to);
  assert.deepEqual(template.language, { policy: 'deterministic', code: 'en' });
  const [body, button] = template.components;
  assert.deepEqual(button, { type: 'button', sub_type: 'url', index: '0', parameters: body.parameters });
  const code = body.parameters[0].text;
  assert.match(code, /^\d{6}$/);
  assert.equal(await server.lastCode(to), code);
  const check = await service.verificationChecks.create({ to, code });
  assert.equal(check.status, 'approved');
  assert.equal(check.channel, 'whatsapp');

  const other = S.freshNumber();
  const text = await service.verifications.create({ to: other, channel: 'sms' });
  const resend = await service.verifications.create({ to: other, channel: 'whatsapp', locale: 'pt-BR' });
  assert.equal(resend.sid, text.sid);
  assert.equal(resend.channel, 'whatsapp');
  assert.deepEqual(resend.sendCodeAttempts.map((a) => a.channel), ['sms', 'whatsapp']);
  const sent = await server.messages(other);
  assert.deepEqual(sent.map((m) => m.channel), ['sms', 'whatsapp']);
  assert.equal(sent[1].language, 'pt_BR');
  const approved = await service.verificationChecks.create({ to: other, code: await server.lastCode(other) });
  assert.equal(approved.status, 'approved');
});

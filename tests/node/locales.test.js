// Locales through the official `twilio` Node library against verify-local:
// a locale of each script (Latin, Cyrillic, Arabic, CJK, Devanagari) on sms,
// call and email, read back from /_local/messages and approved with its code;
// an unknown region falling back to its language and an unknown language to
// English; and the verification's `locale` field, which Twilio's resource
// does not have (the library's model drops it), read with the library's own
// `client.request`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const twilio = require('twilio');
const S = require('./server');

let server;
let client;
let service;

before(async () => {
  server = await S.startServer();
  client = twilio(S.ACCOUNT_SID, S.AUTH_TOKEN);
  client.verify.baseUrl = server.baseUrl;
  service = client.verify.v2.services(S.SERVICE_SID);
});

after(async () => {
  if (server) await server.stop();
});

let next = 0;
function freshNumber() {
  next += 1;
  return `+1415556${String(next).padStart(4, '0')}`;
}

/** The code in a message: its one run of 6 digits (a call's three readings are the same run). */
function theCode(text) {
  const runs = new Set(text.match(/\d{6}/g));
  assert.equal(runs.size, 1, text);
  return [...runs][0];
}

const spoken = (ssml) => ssml.replace(/<[^>]*>/g, '');

async function localeOf(verification) {
  const r = await client.request({ method: 'get', uri: verification.url });
  assert.equal(r.statusCode, 200);
  const body = typeof r.body === 'string' ? JSON.parse(r.body) : r.body;
  return body.locale;
}

async function approve(to, code) {
  const check = await service.verificationChecks.create({ to, code });
  assert.equal(check.status, 'approved');
}

// [Locale, a word of its SMS and e-mail, its script, the locale a call is read in, a word of the call].
const SCRIPTS = [
  ['sv', 'verifieringskod', /[åäö]/, 'sv', 'En gång till'],
  ['uk', 'підтвердження', /[\u0400-\u04FF]/, 'en', 'Once again'],
  ['ar', 'التحقق', /[\u0600-\u06FF]/, 'ar', 'مرة أخرى'],
  ['zh', '验证码', /[\u4E00-\u9FFF]/, 'zh', '再说一遍'],
  ['mr', 'पडताळणी', /[\u0900-\u097F]/, 'en', 'Once again'],
];

for (const [locale, word, script, callLocale, callWord] of SCRIPTS) {
  test(`sms in ${locale}`, async () => {
    const to = freshNumber();
    const v = await service.verifications.create({ to, channel: 'sms', locale });
    assert.equal(await localeOf(v), locale);
    const [sms] = await server.messages(to);
    assert.ok(sms.body.includes(word) && script.test(sms.body) && sms.body.includes('Node Shop'), sms.body);
    await approve(to, theCode(sms.body));
  });

  test(`email in ${locale}`, async () => {
    const to = `node.${locale}.${Date.now()}@example.com`;
    const v = await service.verifications.create({ to, channel: 'email', locale });
    assert.equal(await localeOf(v), locale);
    const [mail] = await server.messages(to);
    assert.ok(script.test(mail.subject) && mail.subject.includes('Node Shop'), mail.subject);
    assert.ok(mail.body.includes(word), mail.body);
    assert.ok(mail.html.includes(`lang="${locale}"`));
    assert.equal(mail.html.includes('dir="rtl"'), locale === 'ar');
    await approve(to, theCode(mail.body));
  });

  // Ukrainian and Marathi have no voice in the voice API: read in English.
  test(`call in ${locale} is read in ${callLocale}`, async () => {
    const to = freshNumber();
    const v = await service.verifications.create({ to, channel: 'call', locale });
    assert.equal(await localeOf(v), callLocale);
    const [call] = await server.messages(to);
    assert.equal(call.channel, 'call');
    const heard = spoken(call.body);
    assert.ok(heard.includes(callWord) && heard.includes('Node Shop'), heard);
    await approve(to, theCode(heard));
  });
}

for (const [asked, used, word] of [
  ['fr-CA', 'fr', 'Votre code de vérification'],
  ['es_MX', 'es', 'Tu código de verificación'],
  ['ZH-hk', 'zh-HK', '驗證碼'],
  ['xx', 'en', 'Your Node Shop verification code is'],
]) {
  test(`${asked} falls back to ${used}`, async () => {
    const to = freshNumber();
    const v = await service.verifications.create({ to, channel: 'sms', locale: asked });
    assert.equal(await localeOf(v), used);
    const [sms] = await server.messages(to);
    assert.ok(sms.body.includes(word), sms.body);
    await approve(to, theCode(sms.body));
  });
}

test('a value that is no language tag is a 400 and sends nothing', async () => {
  const to = freshNumber();
  try {
    await service.verifications.create({ to, channel: 'sms', locale: 'not a locale' });
    assert.fail('expected a 400');
  } catch (e) {
    assert.ok(e instanceof twilio.RestException, `${e}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, 60200);
  }
  assert.deepEqual(await server.messages(to), []);
});

// Runs the sign-up app. Moving from Twilio Verify to this project is two
// settings: VERIFY_BASE_URL, and credentials of this project's (an API key).
//
//   VERIFY_BASE_URL=http://127.0.0.1:8080 VERIFY_API_KEY=SK… VERIFY_API_SECRET=… \
//   VERIFY_ACCOUNT_SID=AC… VERIFY_SERVICE_SID=VA… SESSION_SECRET=$(openssl rand -hex 32) npm start
'use strict';

// The library rewrites the host when these are set.
delete process.env.TWILIO_EDGE;
delete process.env.TWILIO_REGION;

const twilio = require('twilio');
const { createApp } = require('./app');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see README.md)`);
  return value;
}

const client = twilio(required('VERIFY_API_KEY'), required('VERIFY_API_SECRET'), {
  accountSid: required('VERIFY_ACCOUNT_SID'),
});
if (process.env.VERIFY_BASE_URL) client.verify.baseUrl = process.env.VERIFY_BASE_URL.replace(/\/+$/, '');

const app = createApp({
  verify: client.verify.v2.services(required('VERIFY_SERVICE_SID')),
  sessionSecret: required('SESSION_SECRET'),
  secureCookies: process.env.SECURE_COOKIES === 'true',
});

const port = Number(process.env.PORT ?? 3000);
const listener = app.listen(port, process.env.HOST || '127.0.0.1', () => {
  const { address, port: bound } = listener.address();
  console.log(`node-signup listening on http://${address}:${bound}`);
});

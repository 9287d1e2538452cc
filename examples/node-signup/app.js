// Sign up with a phone number: enter it, receive a code (text message or
// call), type it in, and get a session. The Verify calls are the official
// twilio library's, unmodified; server.js decides where they go.
'use strict';

const express = require('express');
const session = require('express-session');
const { RestException } = require('twilio');

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body, error) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label,input,button{display:block;margin:.5rem 0}input[type=tel],input[name=code]{font-size:1.2rem;padding:.4rem}
.error{color:#b00020;border-left:4px solid #b00020;padding-left:.6rem}fieldset{border:0;padding:0}</style></head>
<body><h1>${escape(title)}</h1>${error ? `<p class="error" role="alert" id="error">${escape(error)}</p>` : ''}${body}</body></html>`;
}

function signupForm(phone = '', channel = 'sms') {
  const radio = (value, label) =>
    `<label><input type="radio" name="channel" value="${value}" ${channel === value ? 'checked' : ''}> ${label}</label>`;
  return `<form method="post" action="/signup">
<label for="phone">Mobile number, with + and country code</label>
<input id="phone" name="phone" type="tel" autocomplete="tel" required placeholder="+14155550123" value="${escape(phone)}">
<fieldset><legend>Send my code by</legend>${radio('sms', 'text message')}${radio('call', 'phone call')}</fieldset>
<button id="send">Send code</button></form>`;
}

function confirmForm(pending) {
  const how = pending.channel === 'call' ? 'We are calling' : 'We sent a code to';
  return `<p id="sent">${how} <b>${escape(pending.phone)}</b>.</p>
<form method="post" action="/confirm">
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9]{4,10}">
<button id="confirm">Confirm</button></form>
<form method="post" action="/signup"><input type="hidden" name="phone" value="${escape(pending.phone)}">
<input type="hidden" name="channel" value="${escape(pending.channel)}"><button id="resend">Send a new code</button></form>`;
}

/** What to tell the person when Verify refuses a start. */
function startRefusal(e) {
  if (e.code === 60223) return 'Codes by phone call are not available right now. Choose a text message.';
  if (e.code === 60203) return 'Too many codes were sent to this number. Please try again later.';
  if (e.code === 60202 || e.code === 60200) return e.message; // locked until…, or why the number is wrong
  if (e.code === 60605) return 'We cannot send codes to this number.';
  return 'Something went wrong. Please try again.';
}

/** What to tell the person when Verify refuses a check. */
function checkRefusal(e) {
  if (e.status === 404) return 'This code has expired. Send a new one.';
  if (e.code === 60202) return e.message; // too many wrong codes; says until when if the number is locked
  if (e.code === 60200) return 'Enter the digits of the code.';
  return 'Something went wrong. Please try again.';
}

/**
 * @param {object} o
 * @param {object} o.verify  `client.verify.v2.services(sid)` of the official library
 * @param {string} o.sessionSecret
 * @param {boolean} [o.secureCookies]  true behind https
 */
function createApp({ verify, sessionSecret, secureCookies = false }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '2kb' }));
  app.use(
    session({
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: 8 * 3600 * 1000 },
    }),
  );
  const send = (res, status, html) => res.status(status).type('html').send(html);

  app.get('/', (req, res) => {
    if (req.session.user) return res.redirect(303, '/account');
    send(res, 200, page('Sign up', signupForm()));
  });

  app.post('/signup', async (req, res, next) => {
    const phone = String(req.body.phone || '').trim();
    const channel = req.body.channel === 'call' ? 'call' : 'sms';
    try {
      const v = await verify.verifications.create({ to: phone, channel });
      req.session.pending = { phone: v.to, channel };
      res.redirect(303, '/confirm');
    } catch (e) {
      if (!(e instanceof RestException)) return next(e);
      send(res, e.status === 429 ? 429 : 400, page('Sign up', signupForm(phone, channel), startRefusal(e)));
    }
  });

  app.get('/confirm', (req, res) => {
    if (!req.session.pending) return res.redirect(303, '/');
    send(res, 200, page('Enter your code', confirmForm(req.session.pending)));
  });

  app.post('/confirm', async (req, res, next) => {
    const pending = req.session.pending;
    if (!pending) return res.redirect(303, '/');
    try {
      const check = await verify.verificationChecks.create({ to: pending.phone, code: String(req.body.code || '') });
      if (check.status !== 'approved') {
        return send(res, 400, page('Enter your code', confirmForm(pending), 'That code is not right. Try again.'));
      }
      // A new session id for the signed-in session (no fixation).
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.user = { phone: pending.phone };
        res.redirect(303, '/account');
      });
    } catch (e) {
      if (!(e instanceof RestException)) return next(e);
      send(res, e.status === 429 ? 429 : 400, page('Enter your code', confirmForm(pending), checkRefusal(e)));
    }
  });

  app.get('/account', (req, res) => {
    if (!req.session.user) return res.redirect(303, '/');
    send(res, 200, page('Your account', `<p id="signed-in">Signed in as <b>${escape(req.session.user.phone)}</b>.</p>
<form method="post" action="/logout"><button id="logout">Sign out</button></form>`));
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/')));
  });

  return app;
}

module.exports = { createApp };

// The panel's two calls, made from the agent's browser: start a verification
// and check a code, form-encoded like Twilio's Flex Verify plugin sends them,
// with HTTP Basic credentials of the panel's own key. Each answer becomes one
// outcome the panel shows: { state, message }.

const FORM = 'application/x-www-form-urlencoded;charset=UTF-8';

/** "in 4 minutes" from a Retry-After header (seconds). */
function waitText(retryAfter) {
  const minutes = Math.ceil(Number(retryAfter || 0) / 60);
  return minutes > 1 ? `in ${minutes} minutes` : 'in a minute';
}

/** Outcomes every call shares: credentials, bad input, outages. */
function common(r) {
  if (r.network) return { state: 'error', message: 'Verify cannot be reached. Check the connection and try again.' };
  if (r.status === 401 || r.status === 403) {
    return { state: 'refused', message: `Verify refused the panel (${r.body.message || r.status}). Ask an admin to check its key and allowed origins.` };
  }
  if (r.status === 400) return { state: 'invalid', message: r.body.message || 'Verify did not accept that.' };
  return { state: 'error', message: 'Verify had a problem. Try again.' };
}

export function startOutcome(r, channel) {
  if (r.status === 201) {
    const how = channel === 'call' ? 'Calling' : 'Code sent by text message to';
    return { state: 'sent', message: `${how} ${r.body.to}. Ask the customer to read it back.` };
  }
  if (r.body.code === 60223) return { state: 'unavailable', message: 'Calls are not available for this service. Send a text message instead.' };
  if (r.body.code === 60203) return { state: 'too_many', message: `Too many codes were sent to this number. Try again ${waitText(r.retryAfter)}.` };
  if (r.body.code === 60202) return { state: 'locked', message: `Locked. ${r.body.message}` };
  if (r.body.code === 60605) return { state: 'blocked', message: 'Codes cannot be sent to this number.' };
  return common(r);
}

export function checkOutcome(r) {
  if (r.status === 200 && r.body.success === true) return { state: 'approved', message: 'Approved: the customer is verified.' };
  if (r.status === 200) return { state: 'wrong', message: 'Wrong code. Ask the customer to read it again.' };
  // Verify forgets a verification once its time is up (or a newer code
  // replaced it); the panel only checks codes it sent, so that is expiry.
  if (r.status === 404) return { state: 'expired', message: 'Expired: this code is no longer valid. Send a new code.' };
  if (r.body.code === 60202) return { state: 'locked', message: `Locked. ${r.body.message}` };
  return common(r);
}

/**
 * `startUrl` and `checkUrl`: verify-local's /start-verify and /check-verify,
 * or on AWS the stack's StartVerifyUrl and CheckVerifyUrl.
 */
export function verifyApi({ startUrl, checkUrl, keySid, keySecret }) {
  const authorization = `Basic ${btoa(`${keySid}:${keySecret}`)}`;

  async function post(url, fields) {
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': FORM },
        body: new URLSearchParams(fields).toString(),
      });
    } catch (e) {
      return { network: true, body: {} };
    }
    const body = await response.json().catch(() => ({}));
    return { status: response.status, body, retryAfter: response.headers.get('Retry-After') };
  }

  return {
    start: async (to, channel) => startOutcome(await post(startUrl, { to, channel }), channel),
    check: async (to, code) => checkOutcome(await post(checkUrl, { to, code })),
  };
}

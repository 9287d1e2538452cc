import React, { useEffect, useState } from 'react';

import { Styles, stateColors } from './VerifyPanel.Styles';

/** The customer's number on a voice or SMS task. */
function customerNumber(task) {
  if (!task) return '';
  return (task.attributes && (task.attributes.from || task.attributes.caller)) || task.defaultFrom || '';
}

const IDLE = { state: 'idle', message: 'Send the customer a code to verify them.' };

/**
 * The agent's Verify panel for one task: send a code by text message or by
 * call, type what the customer reads back, see the outcome (approved, wrong,
 * expired, locked, or why Verify refused).
 *
 * @param {{ task: object, api: { start: Function, check: Function } }} props
 */
export default function VerifyPanel({ task, api }) {
  const [phone, setPhone] = useState(customerNumber(task));
  const [channel, setChannel] = useState('sms');
  const [code, setCode] = useState('');
  const [sentTo, setSentTo] = useState(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState(IDLE);

  // Another task: start over with its customer.
  useEffect(() => {
    setPhone(customerNumber(task));
    setCode('');
    setSentTo(null);
    setOutcome(IDLE);
  }, [task && task.sid]);

  async function run(call) {
    setBusy(true);
    try {
      setOutcome(await call());
    } finally {
      setBusy(false);
    }
  }

  const send = () =>
    run(async () => {
      const result = await api.start(phone.trim(), channel);
      setSentTo(result.state === 'sent' ? phone.trim() : sentTo);
      setCode('');
      return result;
    });
  const check = (event) => {
    event.preventDefault();
    return run(() => api.check(sentTo, code.trim()));
  };
  const done = outcome.state === 'approved';

  return (
    <div data-testid="verify-panel" style={Styles.panel}>
      <h2 style={Styles.title}>Verify the customer</h2>
      <label style={Styles.label}>
        Customer number
        <input data-testid="phone" style={Styles.input} value={phone} onChange={(e) => setPhone(e.target.value)} disabled={busy || done} />
      </label>
      <div role="radiogroup" aria-label="Send the code by" style={Styles.row}>
        {[['sms', 'Text message'], ['call', 'Phone call']].map(([value, label]) => (
          <label key={value} style={Styles.choice}>
            <input type="radio" name={`channel-${task && task.sid}`} data-testid={`channel-${value}`} value={value}
              checked={channel === value} onChange={() => setChannel(value)} disabled={busy || done} />
            {label}
          </label>
        ))}
      </div>
      <button data-testid="send" style={Styles.button} onClick={send} disabled={busy || done || !phone.trim()}>
        {sentTo ? 'Send a new code' : 'Send code'}
      </button>
      {sentTo && !done && (
        <form onSubmit={check} style={Styles.row}>
          <label style={Styles.label}>
            Code the customer reads back
            <input data-testid="code" style={Styles.input} inputMode="numeric" autoComplete="off" value={code}
              onChange={(e) => setCode(e.target.value)} disabled={busy} />
          </label>
          <button data-testid="check" style={Styles.button} disabled={busy || !code.trim()}>Check</button>
        </form>
      )}
      <p data-testid="status" data-state={outcome.state} role="status"
        style={{ ...Styles.status, ...(stateColors[outcome.state] || stateColors.error) }}>
        {outcome.message}
      </p>
    </div>
  );
}

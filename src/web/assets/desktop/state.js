// The agent's state: available, break with a reason, logged out; time in the state.

import { html, useEffect, useRef, useState } from '../vendor/htm-preact.module.js';
import { t } from '../i18n.js';

/** Break reasons offered on the desktop (site-defined codes of the API's `reason`). */
const REASONS = [1, 2, 3, 4];

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function StateBar({ me, agent, act }) {
  const [now, setNow] = useState(Date.now());
  const since = useRef({ state: null, at: Date.now() });
  const [reason, setReason] = useState(1);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!agent) return html`<p class="muted">${t('desktop.loading')}</p>`;
  const key = `${agent.state}:${agent.reason}`;
  if (since.current.state !== key) since.current = { state: key, at: agent.since_ms || Date.now() };
  const base = `/api/v1/agents/${encodeURIComponent(me.extension)}`;
  const stateText = agent.state === 'break'
    ? `${t('state.break')} (${t(`reason.${agent.reason}`)})`
    : t(`state.${agent.state}`);
  return html`
    <section class="statebar" aria-label=${t('state.title')}>
      <span class=${`state ${agent.state}`} id="state">${stateText}</span>
      <span class="muted" id="in-state">${clock(now - since.current.at)}</span>
      <button type="button" id="go-available" onClick=${() =>
        agent.state === 'offline'
          ? act('POST', `${base}/login`)
          : act('PUT', `${base}/state`, { state: 'available' })}>${t('state.go_available')}</button>
      <select id="break-reason" value=${reason} onChange=${(e) => setReason(Number(e.target.value))}>
        ${REASONS.map((r) => html`<option value=${r}>${t(`reason.${r}`)}</option>`)}
      </select>
      <button type="button" id="go-break" onClick=${() => act('PUT', `${base}/state`, { state: 'break', reason })}>${t('state.go_break')}</button>
      <button type="button" id="go-offline" onClick=${() => act('POST', `${base}/logout`)}>${t('state.go_offline')}</button>
    </section>`;
}

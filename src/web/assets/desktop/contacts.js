// Contacts in progress: the agent's calls with their controls (hang up, hold, transfer,
// recording) and the other tasks the agent holds, with the customer's screen pop.

import { html, useState } from '../vendor/htm-preact.module.js';
import { t } from '../i18n.js';
import { Facts, History } from './offer.js';

function Call({ call, act, first }) {
  const [held, setHeld] = useState(false);
  const [target, setTarget] = useState('');
  const [paused, setPaused] = useState(false);
  const base = `/api/v1/calls/${encodeURIComponent(call.id)}`;
  const since = Math.round((Date.now() - call.started_at_ms) / 1000);
  const toggleHold = async () => {
    await act('POST', `${base}/${held ? 'unhold' : 'hold'}`);
    setHeld(!held);
  };
  const toggleRecording = async () => {
    await act('POST', `${base}/recording`, { action: paused ? 'resume' : 'pause' });
    setPaused(!paused);
  };
  const transfer = (mode) => act('POST', `${base}/transfer`, { target: target.trim(), mode });
  return html`
    <article class="card call" data-call=${call.id}>
      <h3>${call.caller} → ${call.callee} <span class="muted">${t('contacts.since', { s: since })}</span></h3>
      ${held && html`<p class="state break">${t('contacts.on_hold')}</p>`}
      <p>
        <button type="button" class="danger" data-shortcut=${first ? 'h' : undefined} onClick=${() => act('POST', `${base}/hangup`)}>${t('contacts.hangup')}</button>
        <button type="button" onClick=${toggleHold}>${held ? t('contacts.resume') : t('contacts.hold')}</button>
        <button type="button" onClick=${toggleRecording}>${paused ? t('contacts.record_resume') : t('contacts.record_pause')}</button>
      </p>
      <p>
        <input aria-label=${t('contacts.transfer_target')} placeholder=${t('contacts.transfer_target')} value=${target} onInput=${(e) => setTarget(e.target.value)} />
        <button type="button" disabled=${!target.trim()} onClick=${() => transfer('blind')}>${t('contacts.transfer_blind')}</button>
        <button type="button" disabled=${!target.trim()} onClick=${() => transfer('attended')}>${t('contacts.transfer_attended')}</button>
        <button type="button" onClick=${() => act('POST', `${base}/transfer/complete`)}>${t('contacts.transfer_complete')}</button>
        <button type="button" onClick=${() => act('POST', `${base}/transfer/cancel`)}>${t('contacts.transfer_cancel')}</button>
      </p>
    </article>`;
}

function Held({ task, pop }) {
  return html`
    <article class="card task" data-task=${task.id}>
      <h3>${t(`channel.${task.channel}`)} · ${task.queue}</h3>
      <p class="customer">${t('offers.customer')}: <strong>${task.customer || t('offers.unknown')}</strong></p>
      ${pop && html`<${Facts} data=${pop.customer && pop.customer.record} />`}
      ${pop && html`<${History} history=${pop.history} />`}
    </article>`;
}

export function Contacts({ calls, tasks, pops, act }) {
  if (calls.length === 0 && tasks.length === 0) return html`<p class="muted" id="no-contact">${t('contacts.none')}</p>`;
  return html`${calls.map((call, i) => html`<${Call} key=${call.id} call=${call} act=${act} first=${i === 0} />`)}
    ${tasks.map((task) => html`<${Held} key=${task.id} task=${task} pop=${pops[task.id]} />`)}`;
}

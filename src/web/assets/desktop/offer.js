// The offered contact: the screen pop (CRM record, CTI data, the customer's last
// interactions), the SLA countdown, accept and reject, and the chime that announces it.

import { html, useEffect, useState } from '../vendor/htm-preact.module.js';
import { t } from '../i18n.js';

/** A short two-note chime (Web Audio; no file to fetch). */
export function chime() {
  try {
    const audio = new AudioContext();
    [880, 660].forEach((frequency, i) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.value = 0.1;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + i * 0.18);
      tone.stop(audio.currentTime + i * 0.18 + 0.15);
    });
  } catch {
    // No audio device: the card still shows.
  }
}

function Countdown({ deadline }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!deadline) return null;
  const left = Math.round((deadline - now) / 1000);
  const text = left >= 0 ? t('offers.sla_left', { s: left }) : t('offers.sla_over', { s: -left });
  return html`<span class=${left < 0 ? 'sla over' : 'sla'}>${text}</span>`;
}

/** Key/value rows of a JSON object (the CRM record, CTI data). */
export function Facts({ data, id }) {
  if (!data || typeof data !== 'object' || Object.keys(data).length === 0) return null;
  const show = (value) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value));
  return html`<dl class="facts" id=${id}>${Object.entries(data).map(([k, v]) => html`<dt>${k}</dt><dd>${show(v)}</dd>`)}</dl>`;
}

/** The customer's last calls and contacts, from the screen pop. */
export function History({ history }) {
  if (!history) return null;
  const calls = (history.calls || []).map((c) => ({
    at: c.started_at_ms, text: `${t('channel.voice')}: ${c.caller} → ${c.callee} (${c.result})`,
  }));
  const tasks = (history.tasks || []).map((task) => ({
    at: task.arrived_at_ms, text: `${t(`channel.${task.channel}`)}: ${task.queue} (${task.state})`,
  }));
  const items = calls.concat(tasks).sort((a, b) => b.at - a.at).slice(0, 10);
  if (items.length === 0) return html`<p class="muted">${t('offers.no_history')}</p>`;
  return html`<ol class="history">${items.map((item) =>
    html`<li><time>${new Date(item.at).toLocaleString()}</time> ${item.text}</li>`)}</ol>`;
}

function Offer({ task, pop, act, first }) {
  const voice = task.channel === 'voice' || task.channel === 'callback';
  const base = `/api/v1/tasks/${task.id}`;
  return html`
    <article class="card offer" data-task=${task.id}>
      <h3>${t(`channel.${task.channel}`)} · ${task.queue} <${Countdown} deadline=${task.deadline_ms} /></h3>
      <p class="customer">${t('offers.customer')}: <strong>${task.customer || t('offers.unknown')}</strong></p>
      ${pop && html`<${Facts} data=${pop.customer && pop.customer.record} id="crm-record" />`}
      <${Facts} data=${(pop && pop.cti) || task.attributes} id="cti-data" />
      ${pop && html`<${History} history=${pop.history} />`}
      ${voice
        ? html`<p class="hint">${t('offers.answer_phone')}</p>`
        : html`<p>
            <button type="button" class="primary" data-shortcut=${first ? 'a' : undefined} onClick=${() => act('POST', `${base}/accept`)}>${t('offers.accept')}</button>
            <button type="button" data-shortcut=${first ? 'r' : undefined} onClick=${() => act('POST', `${base}/reject`)}>${t('offers.reject')}</button>
          </p>`}
    </article>`;
}

export function Offers({ tasks, pops, act }) {
  if (tasks.length === 0) return html`<p class="muted" id="no-offer">${t('offers.none')}</p>`;
  return tasks.map((task, i) => html`<${Offer} task=${task} pop=${pops[task.id]} act=${act} first=${i === 0} />`);
}

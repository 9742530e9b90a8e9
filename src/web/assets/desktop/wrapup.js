// Wrap-up: every contact the agent holds ends with a disposition code and a note; a call's
// form appears when the call ends.

import { html, useState } from '../vendor/htm-preact.module.js';
import { t } from '../i18n.js';

/** Codes suggested when the queue configures none. */
const SUGGESTED = ['resolved', 'sale', 'callback', 'complaint', 'info'];

function Form({ task, act, first, onDone }) {
  const [code, setCode] = useState('');
  const [note, setNote] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const disposition = { code: code.trim() };
    if (note.trim()) disposition.note = note.trim();
    await act('POST', `/api/v1/tasks/${task.id}/complete`, { disposition });
    onDone(task);
  };
  return html`
    <form class="card wrapup" data-task=${task.id} onSubmit=${submit}>
      <h3>${t(`channel.${task.channel}`)} · ${task.queue} · ${task.customer || ''}</h3>
      <label>${t('wrapup.code')}
        <input name="code" list="codes" required maxlength="64" value=${code} data-shortcut=${first ? 'w' : undefined} onInput=${(e) => setCode(e.target.value)} /></label>
      <datalist id="codes">${SUGGESTED.map((c) => html`<option value=${c} />`)}</datalist>
      <label>${t('wrapup.note')}
        <textarea name="note" rows="2" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea></label>
      <button type="submit" class="primary">${t('wrapup.done')}</button>
    </form>`;
}

export function WrapUp({ tasks, act, onDone }) {
  if (tasks.length === 0) return html`<p class="muted" id="no-wrapup">${t('wrapup.none')}</p>`;
  return tasks.map((task, i) => html`<${Form} key=${task.id} task=${task} act=${act} first=${i === 0} onDone=${onDone} />`);
}

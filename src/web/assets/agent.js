// The agent desktop: the agent's state, the offered contact with its screen pop, the
// contacts in progress with call controls, and wrap-up. Live over one WebSocket; everything
// it shows is read back from the API, so a reload or a second tab shows the same truth.

import { html, render, useEffect, useRef, useState } from './vendor/htm-preact.module.js';
import { api, currentSession, eventStream } from './api.js';
import { language, loadLanguage, t } from './i18n.js';
import { StateBar } from './desktop/state.js';
import { Offers, chime } from './desktop/offer.js';
import { Contacts } from './desktop/contacts.js';
import { WrapUp } from './desktop/wrapup.js';

/** Whether a task is a call (it ends with the call, wrap-up follows). */
const isCall = (task) => task.channel === 'voice' || task.channel === 'callback';

/** The agent's live picture: state, tasks, calls, read from the API. */
async function snapshot(me) {
  const [agent, tasks, calls] = await Promise.all([
    api('GET', `/api/v1/agents/${encodeURIComponent(me.extension)}`),
    api('GET', `/api/v1/tasks?agent=${encodeURIComponent(me.extension)}`),
    api('GET', '/api/v1/calls'),
  ]);
  return { agent, tasks: tasks.items, calls: calls.items };
}

function Desktop({ me }) {
  const [view, setView] = useState({ agent: null, tasks: [], calls: [] });
  const [pops, setPops] = useState({});
  const [online, setOnline] = useState(false);
  const [notice, setNotice] = useState('');
  const [, setLang] = useState(language());
  const refreshing = useRef(null);
  // Calls the agent holds now; when one ends (its task leaves the ACD with the call), it
  // waits in `ended` for its disposition.
  const liveCalls = useRef({});
  const [ended, setEnded] = useState([]);

  const noteEndedCalls = (tasks) => {
    const now = tasks.filter((task) => task.state === 'assigned' && isCall(task));
    for (const task of now) liveCalls.current[task.id] = task;
    const gone = Object.values(liveCalls.current).filter((old) => !now.some((task) => task.id === old.id));
    for (const task of gone) delete liveCalls.current[task.id];
    if (gone.length) setEnded((old) => old.concat(gone));
  };

  const refresh = () => {
    clearTimeout(refreshing.current);
    refreshing.current = setTimeout(async () => {
      try {
        const snap = await snapshot(me);
        noteEndedCalls(snap.tasks);
        setView(snap);
      } catch (err) {
        if (err.status === 401) location.assign('/');
        else setNotice(err.message);
      }
    }, 50);
  };

  useEffect(() => {
    refresh();
    return eventStream(
      (message) => {
        if (message.type === 'screen_pop') {
          setPops((old) => ({ ...old, [message.task_id]: message }));
          chime();
        }
        if (message.type !== 'hello') refresh();
      },
      (open) => {
        setOnline(open);
        if (open) refresh();
      },
    );
  }, []);

  // Shortcuts: a accept, r reject, h hang up, w wrap-up (not while typing).
  useEffect(() => {
    const onKey = (event) => {
      if (event.target.closest('input, textarea, select') || event.ctrlKey || event.metaKey) return;
      const target = document.querySelector(`[data-shortcut="${event.key}"]`);
      if (target) {
        event.preventDefault();
        target.click();
        if (target.tagName === 'INPUT') target.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const act = async (method, path, body) => {
    setNotice('');
    try {
      await api(method, path, body);
    } catch (err) {
      setNotice(err.message);
      throw err;
    } finally {
      refresh();
    }
  };
  const switchLanguage = async (lang) => setLang(await loadLanguage(lang));
  const offered = view.tasks.filter((task) => task.state === 'offered');
  const assigned = view.tasks.filter((task) => task.state === 'assigned');
  const toWrapUp = assigned.filter((task) => !isCall(task)).concat(ended);
  const wrapped = (task) => setEnded((old) => old.filter((t) => t.id !== task.id));

  return html`
    <header>
      <strong>${me.name || me.extension}</strong> <span class="muted">${me.extension}</span>
      <span class=${online ? 'link up' : 'link down'} id="link">${online ? t('desktop.online') : t('desktop.offline')}</span>
      <nav class="languages">
        <button type="button" onClick=${() => switchLanguage('pl')}>PL</button>
        <button type="button" onClick=${() => switchLanguage('en')}>EN</button>
        <button type="button" id="signout" onClick=${async () => { await act('DELETE', '/auth/session'); location.assign('/'); }}>${t('desktop.signout')}</button>
      </nav>
    </header>
    <${StateBar} me=${me} agent=${view.agent} act=${act} />
    ${notice && html`<p class="error" role="alert" id="notice">${notice}</p>`}
    <main class="desk">
      <section aria-labelledby="offers-h"><h2 id="offers-h">${t('offers.title')}</h2>
        <${Offers} tasks=${offered} pops=${pops} act=${act} /></section>
      <section aria-labelledby="contacts-h"><h2 id="contacts-h">${t('contacts.title')}</h2>
        <${Contacts} calls=${view.calls} tasks=${assigned} pops=${pops} act=${act} /></section>
      <section aria-labelledby="wrapup-h"><h2 id="wrapup-h">${t('wrapup.title')}</h2>
        <${WrapUp} tasks=${toWrapUp} act=${act} onDone=${wrapped} /></section>
    </main>`;
}

async function start() {
  await loadLanguage();
  const me = await currentSession();
  if (!me) {
    location.assign('/');
    return;
  }
  document.title = `${t('desktop.title')} — ${me.extension}`;
  render(html`<${Desktop} me=${me} />`, document.getElementById('app'));
}

start();

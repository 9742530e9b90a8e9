// The sign-in page: extension and password in, the session cookie out, then the desktop.

import { api, ApiFailure, currentSession } from './api.js';
import { loadLanguage, t } from './i18n.js';

function translate() {
  for (const element of document.querySelectorAll('[data-t]')) {
    element.textContent = t(element.dataset.t);
  }
  document.title = t('signin.title');
}

async function signIn(event) {
  event.preventDefault();
  const error = document.getElementById('error');
  error.textContent = '';
  try {
    await api('POST', '/auth/login', {
      extension: document.getElementById('extension').value.trim(),
      password: document.getElementById('password').value,
    });
    location.assign('/agent');
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 429) error.textContent = t('signin.locked');
    else if (err instanceof ApiFailure && err.status === 401) error.textContent = t('signin.wrong');
    else error.textContent = t('error.network');
  }
}

async function start() {
  await loadLanguage();
  translate();
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', async () => {
      await loadLanguage(button.dataset.lang);
      translate();
    });
  }
  document.getElementById('signin').addEventListener('submit', signIn);
  if (await currentSession()) location.assign('/agent');
}

start();

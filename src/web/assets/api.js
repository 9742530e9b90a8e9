// The pages' only way to the core: the public REST API (with the session cookie and its
// CSRF token) and the live event WebSocket. Anything a page does, a CRM can do the same way.

let csrf = null;

/** Remembers the session's CSRF token for state-changing requests. */
export function useCsrf(token) {
  csrf = token;
}

/** A refused request: the HTTP status and the API's error message. */
export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** `method path` with an optional JSON body; resolves to the JSON answer (or null). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiFailure(response.status, (data && data.error && data.error.message) || response.statusText);
  }
  return data;
}

/** The signed-in account, or null when there is no session. */
export async function currentSession() {
  try {
    const info = await api('GET', '/auth/session');
    useCsrf(info.csrf);
    return info;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return null;
    throw err;
  }
}

/**
 * The event stream, reconnecting with back-off after a network loss. `onMessage` gets each
 * JSON message, `onStatus` true/false as the socket opens and closes. Returns a stop function.
 */
export function eventStream(onMessage, onStatus) {
  let socket = null;
  let stopped = false;
  let delay = 500;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/events`);
    socket.onopen = () => {
      delay = 500;
      onStatus(true);
    };
    socket.onmessage = (message) => {
      try {
        onMessage(JSON.parse(message.data));
      } catch {
        // A frame that is not JSON is not ours to show.
      }
    };
    socket.onclose = () => {
      onStatus(false);
      if (stopped) return;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return () => {
    stopped = true;
    if (socket) socket.close();
  };
}

// @ts-check
/**
 * Calls to the admin API with the admin token. The token lives in sessionStorage
 * (this tab only, gone when it closes) and travels only in the Authorization
 * header, never in a URL, so it never reaches a log or the browser history. A 401
 * opens the token dialog and retries once the user has entered one.
 */
import { byId } from './dom.js';

const TOKEN_KEY = 'entitlement-mock.admin-token';

export class AdminError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @returns {Record<string, string>} */
function authorization() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * fetch() against the admin API, asking for the token as often as it is refused.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
export async function adminFetch(path, init = {}) {
  for (;;) {
    const sentToken = sessionStorage.getItem(TOKEN_KEY);
    const response = await fetch(path, { ...init, headers: { ...init.headers, ...authorization() } });
    if (response.status !== 401) return response;
    await response.body?.cancel();
    // Another call may have asked already while this one was on its way.
    if (sessionStorage.getItem(TOKEN_KEY) === sentToken) await askForToken(sentToken !== null);
  }
}

/**
 * JSON from the admin API; a non-2xx answer throws an AdminError with the API's message.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<any>}
 */
export async function adminJson(path, init = {}) {
  const response = await adminFetch(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new AdminError(response.status, body?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

/**
 * A JSON body for adminJson.
 * @param {string} method
 * @param {unknown} body
 * @returns {RequestInit}
 */
export function jsonBody(method, body) {
  return { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

/** @type {Promise<void> | null} */
let asking = null;

/**
 * Show the token dialog (one at a time, shared by every caller) and resolve once a token is stored.
 * @param {boolean} refused the stored token was refused
 */
function askForToken(refused) {
  asking ??= new Promise((resolve) => {
    const dialog = byId('token-dialog', HTMLDialogElement);
    const form = byId('token-form', HTMLFormElement);
    const input = byId('token-input', HTMLInputElement);
    byId('token-refused', HTMLElement).hidden = !refused;
    input.value = '';
    /** @param {SubmitEvent} event */
    const submitted = (event) => {
      event.preventDefault();
      if (input.value === '') return;
      sessionStorage.setItem(TOKEN_KEY, input.value);
      input.value = '';
      form.removeEventListener('submit', submitted);
      dialog.removeEventListener('cancel', stayOpen);
      dialog.close();
      asking = null;
      resolve();
    };
    // Nothing works without the token: Escape does not dismiss the dialog.
    const stayOpen = (/** @type {Event} */ event) => event.preventDefault();
    form.addEventListener('submit', submitted);
    dialog.addEventListener('cancel', stayOpen);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

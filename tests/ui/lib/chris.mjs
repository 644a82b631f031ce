// What every Node test shares: which @fnndsc/chrisapi version drives the server, where the server is,
// and the few steps (sign up, wait for a run) that every scenario starts with.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

// "current" = @fnndsc/chrisapi 1.23 (CUBE 6 API), "classic" = 1.14 (CUBE 2-5 API).
export const VERSION = process.env.CHRISAPI_VERSION || 'current';
if (!['current', 'classic'].includes(VERSION)) {
  throw new Error(`CHRISAPI_VERSION must be current or classic, not ${VERSION}`);
}
export const PACKAGE = `chrisapi-${VERSION}`;
export const chrisapi = require(PACKAGE);
export const Client = chrisapi.default;
export const CLIENT_SEMVER = JSON.parse(
  readFileSync(join(UI_DIR, 'node_modules', PACKAGE, 'package.json'), 'utf8')).version;

const rawUrl = process.env.CUBE_URL;
if (!rawUrl) {
  throw new Error('CUBE_URL must name a running server, e.g. http://127.0.0.1:8000/api/v1/');
}
export const API = rawUrl.endsWith('/') ? rawUrl : rawUrl + '/';
export const USERS_URL = API + 'users/';
export const AUTH_URL = API + 'auth-token/';

let counter = 0;
/** A username unique within this server's life (4-32 characters, as CUBE requires). */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${counter}`.slice(0, 32);
}

/** Sign up and log in the way the UI does: createUser, then getAuthToken. */
export async function signUp(prefix = 'ui') {
  const username = uniqueName(prefix);
  const password = `${username}-Pass-1234`;
  const user = await Client.createUser(USERS_URL, username, password, `${username}@example.org`);
  const token = await Client.getAuthToken(AUTH_URL, username, password);
  const client = new Client(API, { token });
  return { username, password, token, user, client };
}

/** The home-relative path a client version uses for a user's storage (classic paths lack 'home/'). */
export function userPath(username, rest) {
  return VERSION === 'current' ? `home/${username}/${rest}` : `${username}/${rest}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Re-fetch a plugin instance until it is no longer active (the UI polls the same way). */
export async function waitInactive(instance, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await instance.get();
    if (!instance.data.active) return instance;
    if (Date.now() > deadline) {
      throw new Error(`plugin instance ${instance.data.id} still ${instance.data.status} after ${timeoutMs} ms`);
    }
    await sleep(150);
  }
}

/** rel → href of a Collection+JSON item or document. */
export function relsOf(obj) {
  return Object.fromEntries((obj.links || []).map((l) => [l.rel, l.href]));
}

/** The bytes at a file_resource link, fetched exactly as the client asks for them (Accept and
 * Content-Type application/octet-stream, token auth). In Node the client's own getFileBlob() decodes
 * the body as UTF-8 (axios's Node adapter has no Blob), so binary content is compared through this. */
export async function downloadBytes(href, token, extraHeaders = {}) {
  const headers = { Accept: 'application/octet-stream', 'Content-Type': 'application/octet-stream',
    ...extraHeaders };
  if (token) headers.Authorization = `Token ${token}`;
  const resp = await fetch(href, { headers });
  return { status: resp.status, headers: resp.headers, bytes: new Uint8Array(await resp.arrayBuffer()) };
}

export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** A two-node pipeline of the built-in ds plugin, in CUBE's plugin_tree form (a JSON string). */
export const PIPELINE_TREE = JSON.stringify([
  { title: 'first', plugin_name: 'pl-simpledsapp', plugin_version: '2.1.0', previous: null,
    plugin_parameter_defaults: [{ name: 'prefix', default: 'w1_' }] },
  { title: 'second', plugin_name: 'pl-simpledsapp', plugin_version: '2.1.0', previous: 'first',
    plugin_parameter_defaults: [{ name: 'prefix', default: 'w2_' }] },
]);

/** Wait until every listed run (plugin instance items, e.g. a workflow's) is inactive. */
export async function waitAllInactive(client, ids, timeoutMs = 90000) {
  const done = [];
  for (const id of ids) done.push(await waitInactive(await client.getPluginInstance(id), timeoutMs));
  return done;
}

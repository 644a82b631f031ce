// A page on another origin than the API: what the ChRIS UI does first, with fetch under CORS and with
// the UI's own client library. The API URL and an optional file to download come in the query string.
const params = new URLSearchParams(window.location.search);
const API = params.get('api');
const CJ = 'application/vnd.collection+json';
const $ = (id) => document.getElementById(id);

async function signUpState() {
  // The UI reads the Allow header on users/ to decide whether to show a sign-up link.
  const resp = await fetch(API + 'users/', { headers: { Accept: CJ } });
  const allow = resp.headers.get('Allow') || '';
  $('signup').textContent = /\bPOST\b/.test(allow) ? 'open' : `closed (Allow: ${allow || 'unreadable'})`;
}

async function login(event) {
  event.preventDefault();
  $('error').textContent = '';
  const resp = await fetch(API + 'auth-token/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username: $('username').value, password: $('password').value }),
  });
  const body = await resp.json();
  if (!resp.ok) {
    $('error').textContent = `login refused (${resp.status}): ${JSON.stringify(body)}`;
    return;
  }
  const token = body.token;
  const feeds = await fetch(API, { headers: { Accept: CJ, Authorization: `Token ${token}` } });
  const doc = (await feeds.json()).collection;
  const list = $('feeds');
  list.replaceChildren();
  for (const item of doc.items) {
    const li = document.createElement('li');
    li.textContent = item.data.find((d) => d.name === 'name').value;
    li.dataset.href = item.href;
    list.appendChild(li);
  }
  $('status').textContent = `logged in: ${doc.items.length} feed(s)`;
  const fileUrl = params.get('file');
  if (fileUrl) await download(token, fileUrl);
}

async function download(token, fileUrl) {
  // The UI's own download path: an item resource, then getFileBlob() (Accept: application/octet-stream).
  try {
    const file = new self.FileBrowserFolderFile(fileUrl, { token });
    await file.get();
    const blob = await file.getFileBlob();
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    $('download').textContent = `${blob.size} bytes sha256 ${hex}`;
  } catch (err) {
    $('download').textContent = `failed: ${err.message}`;
  }
}

$('login').addEventListener('submit', (event) => {
  login(event).catch((err) => { $('error').textContent = `error: ${err.message}`; });
});
signUpState().catch((err) => { $('signup').textContent = `error: ${err.message}`; });

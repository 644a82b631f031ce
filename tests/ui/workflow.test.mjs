// The researcher's path through the ChRIS web UI, driven by the UI's own client library against a
// running server: sign up, log in, upload, list the library, create a feed with pl-dircopy from the
// upload, open it (the feed tree), run pl-simpledsapp, download an output byte-identical, make the feed
// public, delete it. CHRISAPI_VERSION picks @fnndsc/chrisapi 1.23 (current) or 1.14 (classic).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  API, AUTH_URL, CLIENT_SEMVER, Client, USERS_URL, VERSION, downloadBytes, relsOf, sameBytes, signUp,
  sleep, userPath, waitInactive,
} from './lib/chris.mjs';

const CURRENT = VERSION === 'current';
// Every byte value, many times: a download that re-encodes text or truncates shows up here.
const BINARY = Uint8Array.from({ length: 300 * 1024 }, (_, i) => (i * 7 + (i >> 8)) % 256);
const TEXT = 'ChRIS UI test: a text output the client reads back as it is.\n'.repeat(40);

/** Every file under a file-browser folder, depth first, as the UI's file browser walks it. */
async function walkFolder(folder) {
  const out = [];
  const files = await folder.getFiles({ limit: 100 });
  out.push(...files.getItems());
  const children = await folder.getChildren({ limit: 100 });
  for (const child of children.getItems()) out.push(...(await walkFolder(child)));
  return out;
}

async function outputFiles(instance) {
  if (CURRENT) return walkFolder(await instance.getOutputFolder());
  return (await instance.getFiles({ limit: 100 })).getItems();
}

const baseName = (fname) => fname.split('/').pop();

describe(`@fnndsc/chrisapi ${CLIENT_SEMVER} (${VERSION}): the researcher's workflow`, () => {
  const state = {};

  before(async () => {
    const { client } = await signUp('wf');
    // The UI finds every collection from the API home's links, once.
    await client.setUrls();
    state.client = client;
  });

  it('reads the Allow header on users/ to know sign-up is open', async () => {
    const resp = await fetch(USERS_URL, { headers: { Accept: 'application/vnd.collection+json' } });
    assert.equal(resp.status, 200);
    assert.match(resp.headers.get('allow') || '', /\bPOST\b/);
  });

  it('signs up and logs in; a wrong password is refused', async () => {
    const { username, password, user, client } = await signUp('login');
    assert.match(user.url, /\/users\/\d+\/$/);
    const me = await client.getUser();
    assert.equal(me.data.username, username);
    await assert.rejects(Client.getAuthToken(AUTH_URL, username, password + 'x'),
      (err) => err.response && err.response.status === 400);
    // A duplicate sign-up comes back as a field error the UI can show next to the field.
    await assert.rejects(Client.createUser(USERS_URL, username, password, `${username}@example.org`),
      (err) => err.response && err.response.status === 400 && typeof err.response.data === 'object'
        && 'username' in err.response.data);
  });

  it('uploads files into the user\'s uploads', async () => {
    const { client } = state;
    const me = await client.getUser();
    state.username = me.data.username;
    state.folder = userPath(state.username, 'uploads/study1');
    const a = await client.uploadFile({ upload_path: `${state.folder}/scan.bin` },
      { fname: new Blob([BINARY]) });
    const b = await client.uploadFile({ upload_path: `${state.folder}/notes.txt` },
      { fname: new Blob([TEXT]) });
    assert.equal(a.data.fname, `${state.folder}/scan.bin`);
    assert.equal(a.data.fsize, BINARY.length);
    assert.equal(b.data.fname, `${state.folder}/notes.txt`);
    // The upload's own link serves the bytes back unchanged.
    const back = await downloadBytes(relsOf(a.collection.items[0]).file_resource, state.client.auth.token);
    assert.equal(back.status, 200);
    assert.ok(sameBytes(back.bytes, BINARY), 'uploaded bytes differ');
  });

  it('lists the library', async () => {
    const { client } = state;
    if (CURRENT) {
      const uploads = await client.getFileBrowserFolderByPath(`home/${state.username}/uploads`);
      assert.ok(uploads, 'no uploads folder');
      const children = (await uploads.getChildren()).data.map((f) => f.path);
      assert.ok(children.includes(state.folder), `${state.folder} not in ${children}`);
      const study = await client.getFileBrowserFolderByPath(state.folder);
      const names = (await study.getFiles()).data.map((f) => baseName(f.fname)).sort();
      assert.deepEqual(names, ['notes.txt', 'scan.bin']);
      const mine = await client.getUserFiles({ fname_icontains: 'study1', limit: 50 });
      assert.equal(mine.totalCount, 2);
    } else {
      const mine = await client.getUploadedFiles({ fname: state.folder, limit: 50 });
      assert.equal(mine.totalCount, 2);
      const names = mine.data.map((f) => baseName(f.fname)).sort();
      assert.deepEqual(names, ['notes.txt', 'scan.bin']);
    }
  });

  it('opens a plugin\'s page: versions, parameters, where it runs', async () => {
    const { client } = state;
    const metas = await client.getPluginMetas({ name_title_category: 'dircopy' });
    // The search is 'contains': the built-in pl-tsdircopy (which chrs upload runs) matches too.
    assert.deepEqual(metas.data.map((m) => m.name).sort(), ['pl-dircopy', 'pl-tsdircopy']);
    const meta = metas.getItems().find((m) => m.data.name === 'pl-dircopy');
    const versions = await meta.getPlugins();
    assert.equal(versions.data.length, 1);
    const plugin = versions.getItems()[0];
    const params = await plugin.getPluginParameters();
    const dir = params.data.find((p) => p.name === 'dir');
    assert.ok(['path', 'unextpath'].includes(dir.type), dir.type);
    const crs = await plugin.getPluginComputeResources();
    assert.ok(crs.data.length >= 1 && crs.data.every((cr) => typeof cr.name === 'string'));
    const mine = await plugin.getPluginInstances();
    assert.equal(mine.data, null); // no runs yet
  });

  it('creates a feed from the upload with pl-dircopy and names it', async () => {
    const { client } = state;
    const plugins = await client.getPlugins({ name_exact: 'pl-dircopy' });
    assert.equal(plugins.totalCount, 1);
    const dircopy = plugins.getItems()[0];
    // The UI lays out the run form from the plugin's parameters.
    const params = (await dircopy.getPluginParameters()).data.map((p) => p.name);
    assert.ok(params.includes('dir'));
    const fs = await client.createPluginInstance(dircopy.data.id, { dir: state.folder, title: 'copy' });
    assert.equal(fs.data.plugin_name, 'pl-dircopy');
    const feed = await fs.getFeed();
    await feed.put({ name: 'UI study' });
    assert.equal(feed.data.name, 'UI study');
    state.fs = await waitInactive(fs);
    assert.equal(state.fs.data.status, 'finishedSuccessfully', JSON.stringify(state.fs.data));
    state.feedId = feed.data.id;
  });

  it('opens the feed and draws its tree', async () => {
    const { client } = state;
    const feed = await client.getFeed(state.feedId);
    assert.ok(feed, 'getFeed found nothing');
    assert.equal(feed.data.name, 'UI study');
    assert.ok(feed.data.finished_jobs >= 1);
    const list = await feed.getPluginInstances({ limit: 100 });
    const items = list.getItems();
    assert.equal(items.length, 1);
    // CUBE 6 leaves 'parameters' out of the feed's instance items and the UI logs an error: not here.
    const dircopyParams = await items[0].getParameters();
    // Classic clients send <user>/uploads/...; the server keeps the path in its current form.
    const stored = CURRENT ? state.folder : `home/${state.folder}`;
    assert.deepEqual(dircopyParams.data.map((p) => [p.param_name, p.value]), [['dir', stored]]);
    const plugin = await items[0].getPlugin();
    assert.equal(plugin.data.name, 'pl-dircopy');
    const cr = await items[0].getComputeResource();
    assert.ok(cr.data.name);
    assert.equal(await items[0].getPreviousPluginInstance(), null);
  });

  it('runs pl-simpledsapp on the feed and finds it in the tree', async () => {
    const { client } = state;
    const ds = (await client.getPlugins({ name_exact: 'pl-simpledsapp' })).getItems()[0];
    const run = await client.createPluginInstance(ds.data.id, { previous_id: state.fs.data.id, prefix: 'p_' });
    assert.equal(run.data.previous_id, state.fs.data.id);
    state.ds = await waitInactive(run);
    assert.equal(state.ds.data.status, 'finishedSuccessfully', JSON.stringify(state.ds.data));
    const prev = await state.ds.getPreviousPluginInstance();
    assert.equal(prev.data.id, state.fs.data.id);
    const desc = await state.fs.getDescendantPluginInstances();
    assert.deepEqual(desc.data.map((d) => d.id).sort(), [state.fs.data.id, state.ds.data.id].sort());
    const feed = await client.getFeed(state.feedId);
    const tree = (await feed.getPluginInstances({ limit: 100 })).data;
    assert.deepEqual(tree.map((i) => [i.id, i.previous_id]).sort(),
      [[state.fs.data.id, null], [state.ds.data.id, state.fs.data.id]].sort());
    const params = await state.ds.getParameters();
    assert.deepEqual(params.data.map((p) => [p.param_name, p.value]), [['prefix', 'p_']]);
  });

  it('downloads the outputs byte-identical', async () => {
    const files = await outputFiles(state.ds);
    const byName = Object.fromEntries(files.map((f) => [baseName(f.data.fname), f]));
    assert.deepEqual(Object.keys(byName).sort(), ['p_notes.txt', 'p_scan.bin']);
    // The client's own download call, as the UI makes it.
    const text = await byName['p_notes.txt'].getFileBlob();
    assert.equal(typeof text === 'string' ? text : await text.text(), TEXT);
    const href = relsOf(byName['p_scan.bin'].collection.items[0]).file_resource;
    const got = await downloadBytes(href, state.client.auth.token);
    assert.equal(got.status, 200);
    assert.ok(sameBytes(got.bytes, BINARY), `downloaded ${got.bytes.length} bytes differ from the upload`);
    state.outputHref = href;
    if (CURRENT) {
      // A one-time download token (the UI's links for the browser's own download manager).
      const token = await state.client.createDownloadToken();
      const sep = href.includes('?') ? '&' : '?';
      const once = await downloadBytes(`${href}${sep}download_token=${token.data.token}`, null);
      assert.equal(once.status, 200);
      assert.ok(sameBytes(once.bytes, BINARY));
      const twice = await downloadBytes(`${href}${sep}download_token=${token.data.token}`, null);
      assert.notEqual(twice.status, 200, 'a download token worked twice');
    }
  });

  it('makes the feed public: anyone can find it and read its outputs', async () => {
    const { client } = state;
    const feed = await client.getFeed(state.feedId);
    const anon = new Client(API);
    const before = await anon.getPublicFeeds({ limit: 100 });
    assert.ok(!(before.data || []).some((f) => f.id === state.feedId));
    if (CURRENT) await feed.makePublic(); else await feed.put({ public: true });
    assert.equal(feed.data.public, true);
    const after = await anon.getPublicFeeds({ limit: 100 });
    assert.ok(after.data.some((f) => f.id === state.feedId), 'the public feed is not listed');
    const got = await downloadBytes(state.outputHref, null);
    assert.equal(got.status, 200, 'an output of a public feed is not readable anonymously');
    assert.ok(sameBytes(got.bytes, BINARY));
  });

  it('deletes the feed', async () => {
    const { client } = state;
    const feed = await client.getFeed(state.feedId);
    await feed.delete();
    // Deletion finishes in the background (202): the feed leaves the listing, then its files go.
    const deadline = Date.now() + 30000;
    while ((await client.getFeed(state.feedId)) !== null) {
      assert.ok(Date.now() < deadline, 'the deleted feed is still listed');
      await sleep(200);
    }
    for (;;) {
      const got = await downloadBytes(state.outputHref, state.client.auth.token);
      if (got.status === 404) break;
      assert.ok(Date.now() < deadline, `an output of the deleted feed still answers ${got.status}`);
      await sleep(200);
    }
  });
});

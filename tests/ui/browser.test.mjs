// A page served from another origin logs in and lists feeds in headless Chromium (Debian's), driven by
// playwright-core: CORS preflights with Authorization, the Allow header, error bodies, and a binary
// download through the UI's client library, all as a browser enforces them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { API, UI_DIR, signUp, userPath, waitInactive } from './lib/chris.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// As root, without a sandbox; no background traffic (this machine's network is closed to it).
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAYLOAD = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 31 + 7) % 256);

const STATIC = {
  '/': ['browser/index.html', 'text/html; charset=utf-8'],
  '/app.js': ['browser/app.js', 'text/javascript'],
  '/chrisapi.js': ['node_modules/chrisapi-current/dist/web/main.js', 'text/javascript'],
};

function servePage() {
  const server = createServer((req, res) => {
    const entry = STATIC[new URL(req.url, 'http://x').pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': entry[1] }).end(readFileSync(join(UI_DIR, entry[0])));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('a page on another origin, in headless Chromium', () => {
  const ctx = {};

  before(async () => {
    const { username, password, client } = await signUp('web');
    const folder = userPath(username, 'uploads/web');
    await client.uploadFile({ upload_path: `${folder}/scan.bin` }, { fname: new Blob([PAYLOAD]) });
    const dircopy = (await client.getPlugins({ name_exact: 'pl-dircopy' })).getItems()[0];
    const run = await waitInactive(await client.createPluginInstance(dircopy.data.id,
      { dir: folder, title: 'Browser feed' }));
    assert.equal(run.data.status, 'finishedSuccessfully');
    const out = await run.getOutputFolder();
    const [sub] = (await out.getChildren()).getItems();
    const [file] = (await sub.getFiles()).getItems();
    Object.assign(ctx, { username, password, fileUrl: file.url });
    ctx.server = await servePage();
    const { port } = ctx.server.address();
    ctx.pageUrl = `http://127.0.0.1:${port}/?api=${encodeURIComponent(API)}&file=${encodeURIComponent(file.url)}`;
    assert.notEqual(new URL(ctx.pageUrl).origin, new URL(API).origin, 'the page must be on another origin');
    ctx.profile = mkdtempSync(join(tmpdir(), 'cube-chromium-'));
    ctx.browser = await chromium.launchPersistentContext(ctx.profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS,
    });
    ctx.browser.setDefaultTimeout(15000);
    ctx.requests = [];
    ctx.browser.on('request', (r) => ctx.requests.push([r.method(), r.url()]));
  });

  after(async () => {
    if (ctx.browser) await ctx.browser.close();
    if (ctx.server) await new Promise((resolve) => ctx.server.close(resolve));
    if (ctx.profile) rmSync(ctx.profile, { recursive: true, force: true });
  });

  it('reads the Allow header across origins', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(ctx.pageUrl);
    await page.waitForFunction(() => document.getElementById('signup').textContent !== 'unknown');
    assert.equal(await page.textContent('#signup'), 'open');
    await page.close();
  });

  it('shows the server\'s reason when the password is wrong', async () => {
    const page = await ctx.browser.newPage();
    await page.goto(ctx.pageUrl);
    await page.fill('#username', ctx.username);
    await page.fill('#password', 'not-the-password');
    await page.click('#submit');
    await page.waitForFunction(() => document.getElementById('error').textContent !== '');
    assert.match(await page.textContent('#error'), /login refused \(400\)/);
    await page.close();
  });

  it('logs in, lists the feeds, and downloads an output through the client library', async () => {
    const page = await ctx.browser.newPage();
    const consoleErrors = [];
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    await page.goto(ctx.pageUrl);
    await page.fill('#username', ctx.username);
    await page.fill('#password', ctx.password);
    await page.click('#submit');
    await page.waitForSelector('#feeds li', { timeout: 15000 });
    assert.deepEqual(await page.$$eval('#feeds li', (lis) => lis.map((li) => li.textContent)), ['Browser feed']);
    assert.equal(await page.textContent('#status'), 'logged in: 1 feed(s)');
    await page.waitForFunction(() => !/not started/.test(document.getElementById('download').textContent));
    const expected = createHash('sha256').update(PAYLOAD).digest('hex');
    assert.equal(await page.textContent('#download'), `${PAYLOAD.length} bytes sha256 ${expected}`);
    assert.ok(ctx.requests.some(([method, url]) => method === 'GET' && url === API), 'no GET of the API home');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});

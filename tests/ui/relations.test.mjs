// Every link relation @fnndsc/chrisapi follows, read from the client's own source, must be on the
// documents this server returns: a missing relation is a client exception ("Missing "x" link relation!")
// somewhere in the UI. Each class is checked on a real document: pipelines, workflows (and classic pipeline
// instances), tags, taggings, comments, shares and splits included. Only the classic path browser, which
// this server does not serve, is reported as todo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  API, Client, PACKAGE, VERSION, PIPELINE_TREE, relsOf, signUp, uniqueName, userPath, waitInactive,
} from './lib/chris.mjs';
import { clientRelations } from './lib/relations.mjs';

const CURRENT = VERSION === 'current';
const CJ = 'application/vnd.collection+json';
const ADMIN = { username: 'chris', password: process.env.CUBE_ADMIN_PASSWORD || 'chris1234' };

// Relations whose subsystem does not exist on this server, and what the client does with them. Every
// subsystem a relation leads to exists now; an entry here makes its relation a todo instead of a failure.
const MISSING_SUBSYSTEMS = {};
// Classes that no document of this server serves: the classic path browser (FileBrowserPath), whose URL
// the CUBE 6 folder browser now serves.
const MISSING_CLASSES = {
  FileBrowserPath: 'the classic path browser (filebrowser/ items with a files link and path/subfolders) is '
    + 'replaced by the CUBE 6 folder browser at the same URL; classic UIs list uploads through uploadedfiles',
  FileBrowserPathFile: 'the classic path browser (see FileBrowserPath)',
};


// Checked by pacs.test.mjs, which has a registered PACS with retrieved series to look at.
const PACS_SUITE = new Set(['PACS', 'PACSQuery', 'PACSQueryList', 'PACSRetrieve', 'PACSRetrieveList', 'PACSSeries',
  'PACSFile', 'ServiceFile']);

function headers(auth) {
  const h = { Accept: CJ, 'Content-Type': CJ };
  if (auth && auth.token) h.Authorization = `Token ${auth.token}`;
  if (auth && auth.username) {
    h.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  }
  return h;
}

async function collection(url, auth) {
  const resp = await fetch(url, { headers: headers(auth) });
  const body = await resp.json();
  assert.equal(resp.status, 200, `GET ${url}: ${resp.status} ${JSON.stringify(body)}`);
  return body.collection;
}

async function post(url, auth, data) {
  const template = { data: Object.entries(data).map(([name, value]) => ({ name, value })) };
  const resp = await fetch(url, { method: 'POST', headers: headers(auth), body: JSON.stringify({ template }) });
  const body = await resp.json();
  assert.ok(resp.status < 300, `POST ${url}: ${resp.status} ${JSON.stringify(body)}`);
  return body.collection;
}

async function postFile(url, auth, fields, name, bytes) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('fname', new Blob([bytes]), name);
  const h = headers(auth);
  delete h['Content-Type'];
  const resp = await fetch(url, { method: 'POST', headers: h, body: form });
  const body = await resp.json();
  assert.ok(resp.status < 300, `POST ${url}: ${resp.status} ${JSON.stringify(body)}`);
  return body.collection;
}

const idOf = (item) => item.data.find((d) => d.name === 'id').value;

const firstItem = async (url, auth) => {
  const coll = await collection(url, auth);
  assert.ok(coll.items.length, `${url} has no items`);
  return coll.items[0];
};

describe(`${PACKAGE}: every link relation the client follows is there`, () => {
  const ctx = {};
  const samples = {};

  before(async () => {
    const { username, client, token } = await signUp('rel');
    ctx.auth = { token };
    await client.setUrls();
    const folder = userPath(username, 'uploads/rels');
    const up = await client.uploadFile({ upload_path: `${folder}/x.txt` }, { fname: new Blob(['relations\n']) });
    const dircopy = (await client.getPlugins({ name_exact: 'pl-dircopy' })).getItems()[0];
    const ds = (await client.getPlugins({ name_exact: 'pl-simpledsapp' })).getItems()[0];
    const fs = await waitInactive(await client.createPluginInstance(dircopy.data.id, { dir: folder }));
    const run = await waitInactive(await client.createPluginInstance(ds.data.id, { previous_id: fs.data.id, prefix: 'r_' }));
    assert.equal(run.data.status, 'finishedSuccessfully');
    const root = await collection(API, ADMIN);
    const rootRels = relsOf(root);
    const userRoot = await collection(API, ctx.auth);
    const instance = await firstItem(relsOf(userRoot).plugin_instances + 'search/?id=' + run.data.id, ctx.auth);
    const feed = await firstItem(relsOf(instance).feed, ctx.auth);
    const plugin = await firstItem(relsOf(instance).plugin, ctx.auth);
    const param = await firstItem(relsOf(instance).parameters, ctx.auth);
    const meta = await firstItem(relsOf(plugin).meta, ctx.auth);

    Object.assign(samples, {
      FeedList: root,
      Feed: feed,
      FeedPluginInstanceList: await collection(relsOf(feed).plugin_instances, ctx.auth),
      PluginInstance: instance,
      PluginInstanceList: await collection(relsOf(plugin).instances, ctx.auth),
      AllPluginInstanceList: await collection(rootRels.plugin_instances, ctx.auth),
      PluginInstanceParameter: param,
      Plugin: plugin,
      PluginList: await collection(rootRels.plugins, ctx.auth),
      PluginMeta: meta,
      PluginMetaList: await collection(rootRels.plugin_metas, ctx.auth),
      PluginMetaPluginList: await collection(relsOf(meta).plugins, ctx.auth),
      PluginParameter: await firstItem(relsOf(plugin).parameters, ctx.auth),
      PluginParameterList: await collection(relsOf(plugin).parameters, ctx.auth),
      PluginComputeResourceList: await collection(relsOf(plugin).compute_resources, ctx.auth),
      ComputeResourceList: await collection(rootRels.compute_resources, ctx.auth),
      PluginAdminList: await collection(rootRels.admin, ADMIN),
    });

    // Pipelines, and the pipeline run as a workflow under the ds run (plus, for the classic client, as a
    // classic pipeline instance): the runs it makes carry the workflow / pipeline_inst links.
    const pipelineItem = (await post(rootRels.pipelines, ctx.auth, {
      name: uniqueName('relpipe'), locked: false, plugin_tree: PIPELINE_TREE })).items[0];
    const pipelineRels = relsOf(pipelineItem);
    const pipings = await collection(pipelineRels.plugin_pipings, ctx.auth);
    const workflow = (await post(pipelineRels.workflows, ctx.auth, {
      previous_plugin_inst_id: run.data.id, title: 'relations' })).items[0];
    const workflowRuns = await collection(relsOf(workflow).plugin_instances, ctx.auth);
    const runIds = workflowRuns.items.map(idOf);
    Object.assign(samples, {
      PipelineList: await collection(rootRels.pipelines, ctx.auth),
      Pipeline: pipelineItem,
      PluginPiping: pipings.items.find((item) => 'previous' in relsOf(item)),
      PipingDefaultParameter: await firstItem(pipelineRels.default_parameters, ctx.auth),
      Workflow: workflow,
      WorkflowList: await collection(pipelineRels.workflows, ctx.auth),
      AllWorkflowList: await collection(rootRels.workflows, ctx.auth),
      PluginInstance: workflowRuns.items.find((item) => 'previous' in relsOf(item)),
    });
    if (!CURRENT) {
      const classicRun = (await post(pipelineRels.instances, ctx.auth, {
        previous_plugin_inst_id: run.data.id, title: 'classic', description: 'a classic pipeline instance' }))
        .items[0];
      samples.PipelineInstance = await firstItem(
        `${rootRels.pipeline_instances}search/?id=${idOf(classicRun)}`, ctx.auth);
      samples.AllPipelineInstanceList = await collection(rootRels.pipeline_instances, ctx.auth);
      runIds.push(...(await collection(relsOf(classicRun).plugin_instances, ctx.auth)).items.map(idOf));
    }
    // Tags and taggings, both ways round; the note; a comment; a split of the ds run.
    const feedRels = relsOf(feed);
    const tag = (await post(rootRels.tags, ctx.auth, { name: 'relations', color: '#00ff00' })).items[0];
    const tagRels = relsOf(tag);
    await post(feedRels.taggings, ctx.auth, { tag_id: idOf(tag) });
    const taggings = await collection(feedRels.taggings, ctx.auth);
    await post(feedRels.comments, ctx.auth, { title: 'a comment', content: 'on relations' });
    const comments = await collection(feedRels.comments, ctx.auth);
    await post(relsOf(instance).splits, ctx.auth, { filter: '\\.txt$' });
    const splits = await collection(relsOf(instance).splits, ctx.auth);
    runIds.push(...String(splits.items[0].data.find((d) => d.name === 'created_plugin_inst_ids').value)
      .split(',').filter(Boolean).map(Number));
    Object.assign(samples, {
      Tag: tag,
      TagList: await collection(rootRels.tags, ctx.auth),
      Tagging: taggings.items[0],
      FeedTaggingList: taggings,
      TagTaggingList: await collection(tagRels.taggings, ctx.auth),
      TagFeedList: await collection(tagRels.feeds, ctx.auth),
      FeedTagList: await collection(feedRels.tags, ctx.auth),
      Note: await firstItem(feedRels.note, ctx.auth),
      CommentList: comments,
      Comment: comments.items[0],
      PluginInstanceSplitList: splits,
      PluginInstanceSplit: splits.items[0],
    });
    ctx.runIds = runIds;

    if (CURRENT) {
      const upload = up.collection.items[0];
      samples.UserFile = upload;
      const output = await firstItem(relsOf(instance).output_folder, ctx.auth);
      samples.FileBrowserFolder = output;
      samples.FileBrowserFolderChildList = await collection(relsOf(output).children, ctx.auth);
      const uploadsFolder = await firstItem(relsOf(upload).parent_folder, ctx.auth);
      samples.FileBrowserFolderFileList = await collection(relsOf(uploadsFolder).files, ctx.auth);
      samples.FileBrowserFolderFile = samples.FileBrowserFolderFileList.items[0];
      const home = await firstItem(`${rootRels.filebrowser}search/?path=home/${username}`, ctx.auth);
      samples.FileBrowserFolderLinkFileList = await collection(relsOf(home).link_files, ctx.auth);
      samples.FileBrowserFolderLinkFile = samples.FileBrowserFolderLinkFileList.items[0];
      // A group with the user in it, and grants of every kind to it and to the user.
      const group = (await post(rootRels.groups, ADMIN, { name: `g${Date.now().toString(36)}` })).items[0];
      const groupRels = relsOf(group);
      await post(groupRels.users, ADMIN, { username });
      samples.Group = group;
      samples.GroupUserList = await collection(groupRels.users, ADMIN);
      samples.GroupUser = samples.GroupUserList.items[0];
      // The feed shared with the group and with another user.
      const other = await signUp('relo');
      await post(feedRels.group_permissions, ctx.auth, { grp_name: group.data.find((d) => d.name === 'name').value });
      await post(feedRels.user_permissions, ctx.auth, { username: other.username });
      samples.FeedGroupPermissionList = await collection(feedRels.group_permissions, ctx.auth);
      samples.FeedGroupPermission = samples.FeedGroupPermissionList.items[0];
      samples.FeedUserPermissionList = await collection(feedRels.user_permissions, ctx.auth);
      samples.FeedUserPermission = samples.FeedUserPermissionList.items[0];
      // A pipeline source file (the CUBE 6 client uploads them).
      const yaml = `name: ${uniqueName('relyaml')}\nlocked: false\nplugin_tree:\n`
        + '  - title: only\n    plugin: pl-simpledsapp v2.1.0\n    previous: null\n';
      const source = (await postFile(rootRels.pipelinesourcefiles, ctx.auth, { type: 'yaml' }, 'rel.yml', yaml))
        .items[0];
      samples.PipelineSourceFile = await firstItem(
        `${rootRels.pipelinesourcefiles}search/?id=${idOf(source)}`, ctx.auth);
      const me = await firstItem(relsOf(userRoot).user, ctx.auth);
      samples.User = me;
      samples.UserGroupList = await collection(relsOf(me).groups, ctx.auth);
      const grantees = { Group: ['group_permissions', { grp_name: group.data.find((d) => d.name === 'name').value }],
        User: ['user_permissions', { username: 'chris' }] };
      const objects = { Folder: uploadsFolder, File: samples.FileBrowserFolderFile,
        LinkFile: samples.FileBrowserFolderLinkFile };
      for (const [kind, obj] of Object.entries(objects)) {
        for (const [grantee, [rel, who]] of Object.entries(grantees)) {
          const listUrl = relsOf(obj)[rel];
          const created = await post(listUrl, ctx.auth, { ...who, permission: 'r' });
          samples[`${kind}${grantee}Permission`] = created.items[0];
          samples[`${kind}${grantee}PermissionList`] = await collection(listUrl, ctx.auth);
        }
      }
    } else {
      const files = await collection(relsOf(instance).files, ctx.auth);
      samples.PluginInstanceFileList = files;
      samples.FeedFile = files.items[0];
      samples.FeedFileList = await collection(relsOf(feed).files, ctx.auth);
      samples.UploadedFile = up.collection.items[0];
    }
  });

  after(async () => {
    // The workflow's and the split's runs end before the server does.
    const c = new Client(API, ctx.auth);
    for (const id of ctx.runIds || []) await waitInactive(await c.getPluginInstance(id), 90000);
  });

  const classes = [...clientRelations(PACKAGE)].filter(([name, info]) => info.rels.size > 0
    && !PACS_SUITE.has(name));

  it('reads the relations from the client source', () => {
    // A parse that silently finds nothing would make every check below vacuous.
    const names = classes.map(([name]) => name);
    for (const expected of ['FeedList', 'Feed', 'PluginInstance', 'Plugin']) assert.ok(names.includes(expected));
    assert.ok(classes.reduce((n, [, info]) => n + info.rels.size, 0) > 60);
  });

  for (const [name, info] of classes) {
    if (name in MISSING_CLASSES) {
      const key = MISSING_CLASSES[name];
      it(`${name}: not on this server yet`, { todo: MISSING_SUBSYSTEMS[key] || key }, () => {});
      continue;
    }
    it(`${name} (${info.kind}): ${[...info.rels].join(', ')}`, (t) => {
      const sample = samples[name];
      assert.ok(sample, `no sample document for ${name}: add one to this test`);
      const have = relsOf(sample);
      const missing = [...info.rels].filter((rel) => !(rel in have));
      const gaps = missing.filter((rel) => rel in MISSING_SUBSYSTEMS);
      const wrong = missing.filter((rel) => !(rel in MISSING_SUBSYSTEMS) && !optional(name, rel, sample));
      assert.deepEqual(wrong, [], `${name} lacks ${wrong.join(', ')}`);
      // One todo per test (node shows only the last one): every missing relation with what it needs.
      if (gaps.length) t.todo(gaps.map((rel) => `${rel} (${MISSING_SUBSYSTEMS[rel]})`).join('; '));
      for (const rel of info.rels) {
        if (rel in have) assert.match(have[rel], /^https?:\/\//, `${name}.${rel} is not an absolute URL`);
      }
    });
  }

  it('pages link next/previous as the client expects', async () => {
    const plugins = await collection(`${API}plugins/?limit=1`, ctx.auth);
    assert.equal(plugins.items.length, 1);
    assert.ok('next' in relsOf(plugins), 'the first page of a longer list has no next link');
    const second = await collection(relsOf(plugins).next, ctx.auth);
    assert.ok('previous' in relsOf(second));
    assert.ok(plugins.total >= 2, 'total is what ListResource.totalCount reads');
  });

  it('answers the client\'s searches at <list>search/ by id', async () => {
    // ListResource.get(searchParams) falls back to url + 'search/' and getItem(id) reads data.id.
    const c = new Client(API, ctx.auth);
    const plugins = await c.getPlugins({ limit: 5 });
    const id = plugins.data[0].id;
    const one = await c.getPlugin(id);
    assert.equal(one.data.id, id);
    const cr = await c.getComputeResources({ limit: 1 });
    assert.equal((await c.getComputeResource(cr.data[0].id)).data.id, cr.data[0].id);
    const metas = await c.getPluginMetas({ limit: 1 });
    assert.equal((await c.getPluginMeta(metas.data[0].id)).data.id, metas.data[0].id);
  });
});

/** Relations a particular document may rightly lack. */
function optional(name, rel, sample) {
  // The root folder has no parent; a link file points at a folder or at a file, not both.
  if (name === 'FileBrowserFolder' && rel === 'parent') return false;
  if (name === 'FileBrowserFolderLinkFile' && (rel === 'linked_folder' || rel === 'linked_file')) {
    const have = relsOf(sample);
    return 'linked_folder' in have || 'linked_file' in have;
  }
  return false;
}

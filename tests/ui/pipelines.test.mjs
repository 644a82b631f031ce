// The web UI's pipeline pages, driven by @fnndsc/chrisapi's own methods against a live server: create a
// pipeline from a plugin tree and (CUBE 6 client) from a YAML source file, find it, read its pipings and
// default parameters, run it on a plugin instance as a workflow (and, classic client, as a classic
// pipeline instance), wait for the runs, list the workflow's instances, rename and delete it.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  CLIENT_SEMVER, PIPELINE_TREE, VERSION, signUp, uniqueName, userPath, waitAllInactive, waitInactive,
} from './lib/chris.mjs';

const CURRENT = VERSION === 'current';
// Two ds steps and a ts join reading both (its plugininstances default names pipings by title).
const JOIN_TREE = JSON.stringify([
  ...JSON.parse(PIPELINE_TREE),
  { title: 'join', plugin_name: 'pl-topologicalcopy', plugin_version: '1.0.0', previous: 'second',
    plugin_parameter_defaults: [{ name: 'plugininstances', default: 'second,first' }] },
]);

/** The 4xx a client call was refused with, and the field errors the UI shows beside its form. */
async function refusal(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err.response, `not an HTTP refusal: ${err}`);
    return { status: err.response.status, data: err.response.data };
  }
  throw new Error('the request was accepted');
}

describe(`chrisapi-${VERSION} ${CLIENT_SEMVER}: the pipeline pages`, () => {
  const state = {};

  before(async () => {
    const { client, username } = await signUp('pipe');
    await client.setUrls();
    const folder = userPath(username, 'uploads/pipes');
    await client.uploadFile({ upload_path: `${folder}/in.txt` }, { fname: new Blob(['pipeline input\n']) });
    const dircopy = (await client.getPlugins({ name_exact: 'pl-dircopy' })).getItems()[0];
    const fs = await waitInactive(await client.createPluginInstance(dircopy.data.id, { dir: folder }));
    assert.equal(fs.data.status, 'finishedSuccessfully');
    Object.assign(state, { client, username, fs });
  });

  it('creates a pipeline from a plugin tree and finds it by search and id', async () => {
    const { client } = state;
    const name = uniqueName('UI pipe ');
    const pipeline = await client.createPipeline({
      name, authors: 'UI tester', category: 'test', description: 'two ds steps and a join', locked: false,
      plugin_tree: JOIN_TREE,
    });
    assert.equal(pipeline.data.name, name);
    assert.equal(pipeline.data.locked, false);
    const found = await client.getPipelines({ name, limit: 10 });
    assert.deepEqual(found.data.map((p) => p.id), [pipeline.data.id]);
    const byOwner = await client.getPipelines({ owner_username: state.username });
    assert.ok(byOwner.data.some((p) => p.id === pipeline.data.id));
    const one = await client.getPipeline(pipeline.data.id);
    assert.equal(one.data.name, name);
    // The pipeline list's own plugins link (PipelineList.getPlugins) answers.
    const list = await client.getPipelines({ limit: 1 });
    assert.ok((await list.getPlugins()).data.length >= 1);
    state.pipeline = one;
  });

  it('reads the pipings, their plugins and the default parameters', async () => {
    const { pipeline } = state;
    const plugins = await pipeline.getPlugins();
    assert.deepEqual(plugins.data.map((p) => p.name).sort(), ['pl-simpledsapp', 'pl-topologicalcopy']);
    const pipings = (await pipeline.getPluginPipings()).getItems();
    const byTitle = Object.fromEntries(pipings.map((p) => [p.data.title, p]));
    assert.deepEqual(Object.keys(byTitle).sort(), ['first', 'join', 'second']);
    // The piping fields the UI draws the pipeline's tree from.
    assert.equal(byTitle.first.data.previous_id, null);
    assert.equal(byTitle.join.data.previous_id, byTitle.second.data.id);
    assert.equal(byTitle.join.data.plugin_name, 'pl-topologicalcopy');
    assert.equal(await byTitle.first.getPreviousPluginPiping().catch(() => null), null);
    const prev = await byTitle.second.getPreviousPluginPiping();
    assert.equal(prev.data.id, byTitle.first.data.id);
    assert.equal((await byTitle.second.getPlugin()).data.name, 'pl-simpledsapp');
    assert.equal((await byTitle.second.getPipeline()).data.id, pipeline.data.id);
    const defaults = await pipeline.getDefaultParameters({ limit: 100 });
    const prefixes = defaults.data.filter((d) => d.param_name === 'prefix')
      .map((d) => [d.plugin_piping_title, d.value]).sort();
    assert.deepEqual(prefixes, [['first', 'w1_'], ['second', 'w2_']]);
    // The join's parents are stored as piping ids, which a workflow turns into run ids.
    const parents = defaults.data.find((d) => d.param_name === 'plugininstances');
    assert.equal(parents.value, `${byTitle.second.data.id},${byTitle.first.data.id}`);
    // Fields computeWorkflowNodesInfo reads.
    for (const d of defaults.data) {
      assert.ok(Number.isInteger(d.plugin_piping_id) && 'previous_plugin_piping_id' in d, JSON.stringify(d));
    }
    const item = defaults.getItems()[0];
    assert.equal((await item.getPluginPiping()).data.id, item.data.plugin_piping_id);
    assert.equal((await item.getPluginParameter()).data.name, item.data.param_name);
    state.defaults = defaults.data;
  });

  it('runs the pipeline as a workflow and waits for every run', async () => {
    const { client, pipeline, fs } = state;
    const nodes = client.computeWorkflowNodesInfo(state.defaults, true);
    const first = nodes.find((n) => n.title === 'first');
    first.plugin_parameter_defaults = first.plugin_parameter_defaults.map(
      (p) => (p.name === 'prefix' ? { name: 'prefix', default: 'ui_' } : p));
    const workflow = await client.createWorkflow(pipeline.data.id, {
      previous_plugin_inst_id: fs.data.id, title: 'UI workflow', nodes_info: JSON.stringify(nodes),
    });
    assert.equal(workflow.data.title, 'UI workflow');
    assert.equal(workflow.data.pipeline_id, pipeline.data.id);
    assert.equal((await workflow.getPipeline()).data.id, pipeline.data.id);
    const runs = (await workflow.getPluginInstances({ limit: 10 })).data;
    assert.equal(runs.length, 3);
    const done = await waitAllInactive(client, runs.map((r) => r.id));
    assert.deepEqual(done.map((r) => r.data.status), Array(3).fill('finishedSuccessfully'),
      JSON.stringify(done.map((r) => r.data)));
    const byTitle = Object.fromEntries(done.map((r) => [r.data.title, r]));
    assert.equal(byTitle.first.data.previous_id, fs.data.id);
    assert.equal(byTitle.second.data.previous_id, byTitle.first.data.id);
    assert.equal(byTitle.join.data.previous_id, byTitle.second.data.id);
    const joined = (await byTitle.join.getParameters()).data.find((p) => p.param_name === 'plugininstances');
    assert.equal(joined.value, `${byTitle.second.data.id},${byTitle.first.data.id}`);
    const params = await byTitle.first.getParameters();
    assert.ok(params.data.some((p) => p.param_name === 'prefix' && p.value === 'ui_'));
    // A run links back to its workflow (CUBE 6) or its pipeline instance (classic).
    if (CURRENT) {
      assert.equal((await byTitle.second.getWorkflow()).data.id, workflow.data.id);
    } else {
      assert.equal((await byTitle.second.getPipelineInstance()).data.id, workflow.data.id);
    }
    assert.equal(byTitle.second.data.pipeline_id, pipeline.data.id);
    // A run made by hand has neither link, and the client's lookups say null.
    assert.equal(CURRENT ? await fs.getWorkflow() : await fs.getPipelineInstance(), null);
    state.workflow = workflow;
  });

  it('saves a run and everything below it as a new pipeline', async () => {
    const { client, workflow } = state;
    const runs = (await workflow.getPluginInstances()).data;
    const first = runs.find((r) => r.title === 'first');
    const copy = await client.createPipeline({ name: uniqueName('UI saved '), plugin_inst_id: first.id });
    const pipings = (await copy.getPluginPipings()).data;
    assert.deepEqual(pipings.map((p) => p.plugin_name).sort(),
      ['pl-simpledsapp', 'pl-simpledsapp', 'pl-topologicalcopy']);
  });

  it('lists the workflow under the pipeline and among all workflows', async () => {
    const { client, pipeline, workflow } = state;
    if (CURRENT) { // chrisapi 1.14's Pipeline has no getWorkflows (its pipelines list pipeline instances)
      const mine = await pipeline.getWorkflows();
      assert.ok(mine.data.some((w) => w.id === workflow.data.id));
      assert.equal((await mine.getPipeline()).data.id, pipeline.data.id);
    }
    const all = await client.getWorkflows({ pipeline_name: pipeline.data.name });
    assert.deepEqual(all.data.map((w) => w.id), [workflow.data.id]);
    assert.ok((await all.getPipelines()).data.length >= 1);
    const again = await client.getWorkflow(workflow.data.id);
    assert.equal(again.data.finished_jobs, 3);
    const runs = await again.getPluginInstances();
    assert.equal(runs.data.length, 3);
  });

  it('renames and deletes the workflow; its runs stay', async () => {
    const { client, workflow } = state;
    await workflow.put({ title: 'renamed workflow' });
    assert.equal(workflow.data.title, 'renamed workflow');
    const runIds = (await workflow.getPluginInstances()).data.map((r) => r.id);
    const { id } = workflow.data;
    await workflow.delete();
    assert.equal(await client.getWorkflow(id), null);
    for (const id of runIds) assert.ok(await client.getPluginInstance(id), `run ${id} went with the workflow`);
  });

  if (!CURRENT) {
    it('runs the pipeline as a classic pipeline instance', async () => {
      const { client, pipeline, fs } = state;
      const firstId = (await pipeline.getPluginPipings()).data.find((p) => p.title === 'first').id;
      const inst = await client.createPipelineInstance(pipeline.data.id, {
        previous_plugin_inst_id: fs.data.id, title: 'classic run', description: 'from chrisapi 1.14',
        [`${firstId}_prefix`]: 'cl_',
      });
      assert.equal(inst.data.title, 'classic run');
      assert.equal((await inst.getPipeline()).data.id, pipeline.data.id);
      const runs = (await inst.getPluginInstances()).data;
      assert.equal(runs.length, 3);
      const done = await waitAllInactive(client, runs.map((r) => r.id));
      assert.ok(done.every((r) => r.data.status === 'finishedSuccessfully'));
      const first = done.find((r) => r.data.title === 'first');
      assert.ok((await first.getParameters()).data.some((p) => p.param_name === 'prefix' && p.value === 'cl_'));
      const listed = await client.getPipelineInstances({ pipeline_name: pipeline.data.name });
      assert.deepEqual(listed.data.map((p) => p.id), [inst.data.id]);
      assert.equal((await client.getPipelineInstance(inst.data.id)).data.id, inst.data.id);
      assert.ok((await pipeline.getPipelineInstances()).data.some((p) => p.id === inst.data.id));
      await inst.put({ title: 'classic renamed' });
      assert.equal(inst.data.title, 'classic renamed');
    });
  }

  if (CURRENT) {
    it('uploads a YAML pipeline source file, finds it and reads it back', async () => {
      const { client } = state;
      const name = uniqueName('UI yaml ');
      const yaml = `name: ${name}\nauthors: UI tester\ncategory: test\nlocked: false\nplugin_tree:\n`
        + '  - title: only\n    plugin: pl-simpledsapp v2.1.0\n    previous: null\n'
        + '    plugin_parameter_defaults:\n      prefix: y_\n';
      const file = await client.uploadPipelineSourceFile({ type: 'yaml' },
        { fname: new File([yaml], 'ui-pipeline.yml') });
      assert.equal(file.data.type, 'yaml');
      assert.equal(file.data.pipeline_name, name);
      const found = await client.getPipelineSourceFiles({ pipeline_name: name });
      assert.deepEqual(found.data.map((f) => f.id), [file.data.id]);
      const got = await client.getPipelineSourceFile(file.data.id);
      const text = await got.getFileBlob();
      assert.equal(typeof text === 'string' ? text : await text.text(), yaml);
      const folder = await got.getParentFolder();
      assert.ok(folder.data.path.startsWith('PIPELINES/'), folder.data.path);
      const pipeline = await client.getPipeline(file.data.pipeline_id);
      assert.equal(pipeline.data.name, name);
      const pipings = await pipeline.getPluginPipings();
      assert.deepEqual(pipings.data.map((p) => p.title), ['only']);
      // The JSON form too.
      const jname = uniqueName('UI json ');
      const json = JSON.stringify({ name: jname, locked: false, plugin_tree: JSON.parse(PIPELINE_TREE) });
      const jfile = await client.uploadPipelineSourceFile({ type: 'json' },
        { fname: new File([json], 'ui-pipeline.json') });
      assert.equal(jfile.data.type, 'json');
      const jpipe = await client.getPipeline(jfile.data.pipeline_id);
      assert.deepEqual((await jpipe.getPluginPipings()).data.map((p) => p.title).sort(), ['first', 'second']);
    });
  }

  it('refuses a taken name, a bad tree and a bad run with the field the UI marks', async () => {
    const { client, pipeline, fs } = state;
    let got = await refusal(client.createPipeline({ name: pipeline.data.name, plugin_tree: PIPELINE_TREE }));
    assert.equal(got.status, 400);
    assert.ok('name' in got.data, JSON.stringify(got.data));
    got = await refusal(client.createPipeline({ name: uniqueName('UI bad '), plugin_tree: '[{"title": "x"}]' }));
    assert.equal(got.status, 400);
    assert.ok('plugin_tree' in got.data, JSON.stringify(got.data));
    got = await refusal(client.createWorkflow(pipeline.data.id, { previous_plugin_inst_id: 999999 }));
    assert.equal(got.status, 400);
    assert.ok('previous_plugin_inst_id' in got.data, JSON.stringify(got.data));
    // Someone else may see the published pipeline but not run it into this user's feed.
    const other = await signUp('pipo');
    assert.ok(await other.client.getPipeline(pipeline.data.id));
    got = await refusal(other.client.createWorkflow(pipeline.data.id, { previous_plugin_inst_id: fs.data.id }));
    assert.equal(got.status, 400);
  });

  it('keeps a draft to its owner, publishes it, and deletes a pipeline nobody ran', async () => {
    const { client } = state;
    const name = uniqueName('UI gone ');
    const pipeline = await client.createPipeline({ name, plugin_tree: PIPELINE_TREE });
    assert.equal(pipeline.data.locked, true);
    const other = await signUp('pipd');
    assert.equal(await other.client.getPipeline(pipeline.data.id), null);
    await pipeline.put({ description: 'a draft' });
    assert.equal(pipeline.data.description, 'a draft');
    await pipeline.put({ locked: false });
    assert.equal(pipeline.data.locked, false);
    assert.equal((await other.client.getPipeline(pipeline.data.id)).data.name, name);
    const { id } = pipeline.data;
    await pipeline.delete();
    assert.equal(await client.getPipeline(id), null);
  });
});

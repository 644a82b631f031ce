// The UI's PACS pages through @fnndsc/chrisapi, against a server with a registered PACS (a real Orthanc,
// set up by the pytest wrapper, which passes PACS_PATIENT_ID): current client: find the PACS, query it,
// read the result as the UI decodes it, retrieve, find the series, open its folder, download a file;
// classic client: find the retrieved files through pacsfiles and download one. Both check every link
// relation their PACS classes follow.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

import {
  PACKAGE, VERSION, downloadBytes, relsOf, signUp, sleep,
} from './lib/chris.mjs';
import { clientRelations } from './lib/relations.mjs';

const PATIENT = process.env.PACS_PATIENT_ID;
const CURRENT = VERSION === 'current';
const RELATIONS = clientRelations(PACKAGE);

function assertRelations(name, doc) {
  const wanted = [...(RELATIONS.get(name)?.rels || [])];
  const have = relsOf(doc);
  assert.deepEqual(wanted.filter((rel) => !(rel in have)), [], `${name} lacks relations`);
}

const isDicom = (bytes) => bytes.length > 132 && Buffer.from(bytes.slice(128, 132)).toString('latin1') === 'DICM';

async function until(fetchItem, done, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const item = await fetchItem();
    if (done(item)) return item;
    assert.ok(Date.now() < deadline, `still ${JSON.stringify(item.data)}`);
    await sleep(200);
  }
}

describe(`${PACKAGE}: the PACS pages`, { skip: PATIENT ? false : 'PACS_PATIENT_ID not set' }, () => {
  const ctx = {};

  before(async () => {
    const { client, token } = await signUp('pacs');
    Object.assign(ctx, { client, token });
  });

  if (CURRENT) {
    it('finds the PACS, queries it and reads the result as the UI decodes it', async () => {
      const list = await ctx.client.getPACSList();
      const pacs = list.getItems().find((p) => p.data.identifier === 'ORTHANC');
      assert.ok(pacs, `no ORTHANC in ${JSON.stringify(list.data)}`);
      assertRelations('PACS', pacs.collection.items[0]);
      const folder = await pacs.getFolder();
      assert.equal(folder.data.path, 'SERVICES/PACS/ORTHANC');
      const query = await ctx.client.createPACSQuery(pacs.data.id,
        { title: `ui ${Date.now()}`, query: JSON.stringify({ PatientID: PATIENT }) });
      assertRelations('PACSQuery', query.collection.items[0]);
      const done = await until(() => ctx.client.getPACSQuery(query.data.id),
        (q) => ['succeeded', 'errored'].includes(q.data.status));
      assert.equal(done.data.status, 'succeeded', JSON.stringify(done.data));
      // The UI inflates 'result': base64 of zlib of pfdcm's pypx JSON.
      const decoded = JSON.parse(inflateSync(Buffer.from(done.data.result, 'base64')).toString('utf8'));
      assert.ok(JSON.stringify(decoded).includes(PATIENT), 'the decoded result does not name the patient');
      const queries = await pacs.getQueries();
      assertRelations('PACSQueryList', queries.collection);
      assert.ok(queries.data.some((q) => q.id === query.data.id));
      ctx.pacs = pacs;
      ctx.queryId = query.data.id;
    });

    it('retrieves what the query found', async () => {
      const retrieve = await ctx.client.createPACSRetrieve(ctx.queryId);
      assertRelations('PACSRetrieve', retrieve.collection.items[0]);
      const done = await until(async () => retrieve.get(), (r) => ['succeeded', 'errored'].includes(r.data.status));
      assert.equal(done.data.status, 'succeeded', JSON.stringify(done.data));
      const query = await ctx.client.getPACSQuery(ctx.queryId);
      const retrieves = await query.getRetrieves();
      assertRelations('PACSRetrieveList', retrieves.collection);
      assert.equal(retrieves.data.length, 1);
      const back = await retrieve.getQuery();
      assert.equal(back.data.id, ctx.queryId);
    });

    it('finds the series, opens its folder and downloads a DICOM file', async () => {
      const series = await ctx.client.getPACSSeriesList({ PatientID: PATIENT, limit: 50 });
      assert.ok(series.data.length >= 1, 'no series for the patient');
      const one = series.getItems()[0];
      assertRelations('PACSSeries', one.collection.items[0]);
      const folder = await one.getFolder();
      const files = await folder.getFiles({ limit: 100 });
      assert.equal(files.data.length, one.data.ndicom);
      const got = await downloadBytes(relsOf(files.collection.items[0]).file_resource, ctx.token);
      assert.equal(got.status, 200);
      assert.ok(isDicom(got.bytes), 'not a DICOM file');
      const perPacs = await ctx.pacs.getSeriesList();
      assert.ok(perPacs.data.some((s) => s.id === one.data.id));
      const pacsFiles = await ctx.client.getPACSFiles({ fname: folder.data.path, limit: 100 });
      assert.equal(pacsFiles.totalCount, one.data.ndicom);
      const file = pacsFiles.getItems()[0];
      assert.ok(file, 'the PACS file search found nothing');
      assertRelations('PACSFile', file.collection.items[0]);
      const parent = await file.getParentFolder();
      assert.ok(parent.data.path.startsWith('SERVICES/PACS/ORTHANC/'));
    });
  } else {
    it('finds the retrieved files through pacsfiles and downloads one', async () => {
      const files = await ctx.client.getPACSFiles({ PatientID: PATIENT, limit: 100 });
      assert.ok(files.data && files.data.length >= 1, 'no PACS files for the patient (run the current suite first)');
      const item = files.collection.items[0];
      assertRelations('PACSFile', item);
      assert.ok(files.data.every((f) => f.PatientID === PATIENT));
      const got = await downloadBytes(relsOf(item).file_resource, ctx.token);
      assert.equal(got.status, 200);
      assert.ok(isDicom(got.bytes), 'not a DICOM file');
    });

    it('lists them as service files too', async () => {
      const files = await ctx.client.getServiceFiles({ limit: 5 });
      assert.ok(files.data && files.data.length >= 1, 'no service files');
      assertRelations('ServiceFile', files.collection.items[0]);
      const got = await downloadBytes(relsOf(files.collection.items[0]).file_resource, ctx.token);
      assert.equal(got.status, 200);
      assert.ok(isDicom(got.bytes), 'not a DICOM file');
    });
  }
});

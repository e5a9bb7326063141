// The in-editor ways out of a model mismatch (src/app/index-model.ts) against real parts: two generated tiny
// models, the index's own ModelMismatchError, a meta.json as the index builder writes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateModel } from '../../src/inference/convert';
import { modelIdentity } from '../../src/inference/identity';
import { ModelMismatchError } from '../../src/index/store';
import { readIndexMeta, isModelMismatch, findModelDir, sameWeights, modelLabel } from '../../src/app/index-model';

let dir = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-model-'));
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'a'), precisions: ['fp32'], seed: 1 });
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'b'), precisions: ['fp32'], seed: 2 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the model that built an index is found among the candidate folders; a mismatch is recognised', async () => {
  const a = modelIdentity(path.join(dir, 'a'), true);
  const b = modelIdentity(path.join(dir, 'b'), false);
  assert.equal(sameWeights(a, { ...a, queryPrefix: false }), true, 'the query prefix does not change the passages');
  assert.equal(sameWeights(a, b), false);
  fs.mkdirSync(path.join(dir, 'index'));
  fs.writeFileSync(
    path.join(dir, 'index', 'meta.json'),
    JSON.stringify({
      format: 1,
      model: a,
      modelDir: path.join(dir, 'gone'),
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      files: {
        '/data/x.xml': { size: 10, mtimeMs: 1, completedAt: '2026-01-01T00:00:00.000Z' },
        '/data/y.nbib': { size: 20, mtimeMs: 2, completedAt: '2026-01-01T00:00:00.000Z' },
      },
    }),
  );
  const meta = readIndexMeta(path.join(dir, 'index'));
  assert.deepEqual(meta?.files, ['/data/x.xml', '/data/y.nbib']);
  assert.equal(
    await findModelDir(meta!.model!, [meta!.modelDir, path.join(dir, 'b'), undefined, path.join(dir, 'a')]),
    path.join(dir, 'a'),
  );
  assert.equal(await findModelDir(meta!.model!, [path.join(dir, 'b')]), undefined);
  assert.equal(readIndexMeta(path.join(dir, 'nothing')), undefined);
  assert.equal(isModelMismatch(new ModelMismatchError(path.join(dir, 'index'), a, b)), true);
  assert.equal(isModelMismatch(new Error('something else')), false);
  assert.equal(isModelMismatch(Object.assign(new Error('no index'), { exitCode: 4 })), false);
  assert.match(modelLabel(a), /generated weights/);
});

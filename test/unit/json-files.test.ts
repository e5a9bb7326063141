// Every JSON file the project reads goes through one reader with a schema (src/util/json.ts): a damaged file is
// refused with a message naming the file, the field path and the value found; a good file still loads. The files
// are real ones (a generated model's manifest.json, an index's meta.json, a release.json, pins.json) with one field
// spoilt at a time.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import {
  JsonError,
  checkJson,
  jsonObject,
  parseJson,
  readJson,
  readJsonIfExists,
  positiveInt,
} from '../../src/util/json';
import { generateModel } from '../../src/inference/convert/generate';
import { readManifest, verifyModelFiles, supportFiles, VERIFY_CACHE_FILE } from '../../src/inference/manifest';
import { modelIdentity } from '../../src/inference/identity';
import { RegistrySchema, readPins, defaultRegistry } from '../../src/inference/hub';
import { readIndexMetaFile, META_FILE } from '../../src/index/meta';
import { readMeta } from '../../src/index/store';
import { parseLocation } from '../../src/index/location';
import { readIndexMeta } from '../../src/app/index-model';
import { parseRelease } from '../../src/release/manifest';
import { readVerified, VERIFIED_SUFFIX } from '../../src/pubmed/fetch';
import { hashBytes } from '../../src/util/hash';
import { readPubmedQaFile } from '../../src/tools/bench/pubmedqa-file';
import { DEMO_PUBMED } from '../fixtures/paths';

let dir = '';
let model = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-json-'));
  model = path.join(dir, 'model');
  await generateModel({ shape: 'tiny', outDir: model, precisions: ['fp32'], seed: 3 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of `file`'s JSON with `edit` applied, written to `to`. */
function spoil(file: string, to: string, edit: (j: Record<string, any>) => void): void {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(j);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, JSON.stringify(j));
}

test('the reader names file, field path and value; syntax errors name the file', () => {
  const S = v.object({ model: v.object({ dim: positiveInt }), files: v.array(v.object({ path: v.string() })) });
  const ok = parseJson('{"model":{"dim":768},"files":[{"path":"a"}]}', S, 'x.json');
  assert.equal(ok.model.dim, 768);
  assert.throws(
    () => parseJson('{"model":{"dim":"768"},"files":[]}', S, 'meta.json'),
    (e: unknown) =>
      e instanceof JsonError &&
      e.message === 'meta.json: model.dim: expected a positive integer, got "768"' &&
      e.field === 'model.dim',
  );
  assert.throws(() => parseJson('{"model":{"dim":1},"files":[{"path":3}]}', S, 'f.json'), {
    message: 'f.json: files[0].path: expected string, got 3',
  });
  assert.throws(() => parseJson('{"files":[]}', S, 'f.json'), { message: 'f.json: model: missing' });
  assert.throws(() => parseJson('"text"', S, 'f.json'), {
    message: 'f.json: (top level): expected Object, got "text"',
  });
  assert.throws(() => parseJson('{"model":', S, 'broken.json'), /^JsonError: broken\.json: not valid JSON \(/);
  assert.throws(() => checkJson({ model: { dim: 0 }, files: [] }, S, 'a message'), {
    message: 'a message: model.dim: expected a positive integer, got 0',
  });
  const file = path.join(dir, 'x.json');
  fs.writeFileSync(file, '{"model":{"dim":2.5},"files":[]}');
  assert.throws(() => readJson(file, S), { message: `${file}: model.dim: expected a positive integer, got 2.5` });
  assert.equal(readJsonIfExists(path.join(dir, 'absent.json'), S), undefined);
  assert.throws(() => readJson(path.join(dir, 'absent.json'), S), { code: 'ENOENT' });
});

test('manifest.json: a good one loads; a spoilt field is named with its value', () => {
  const m = readManifest(model);
  assert.equal(m.format, 1);
  assert.ok(m.dim > 0);
  const bad = path.join(dir, 'bad-model');
  fs.cpSync(model, bad, { recursive: true });
  const mf = path.join(bad, 'manifest.json');
  spoil(path.join(model, 'manifest.json'), mf, (j) => (j.dim = String(j.dim)));
  assert.throws(() => readManifest(bad), { message: `${mf}: dim: expected a positive integer, got "${m.dim}"` });
  spoil(path.join(model, 'manifest.json'), mf, (j) => delete j.outputs);
  assert.throws(() => readManifest(bad), { message: `${mf}: outputs: missing` });
  spoil(path.join(model, 'manifest.json'), mf, (j) => (j.format = 2));
  assert.throws(() => readManifest(bad), { message: `${mf}: format: expected manifest format 1, got 2` });
  spoil(path.join(model, 'manifest.json'), mf, (j) => (j.config.heads = -4));
  assert.throws(() => readManifest(bad), { message: `${mf}: config.heads: expected a positive integer, got -4` });
  assert.throws(() => modelIdentity(bad, false), /config\.heads: expected a positive integer, got -4/);
});

test('.verified.json: a damaged cache is not trusted, the files are hashed again and the cache rewritten', async () => {
  const m = readManifest(model);
  const files = supportFiles(m);
  await verifyModelFiles(model, files, m);
  const cache = path.join(model, VERIFY_CACHE_FILE);
  assert.ok(fs.existsSync(cache));
  spoil(cache, cache, (j) => {
    for (const e of Object.values(j.files) as Record<string, unknown>[]) e.checkedNs = 'soon';
  });
  const r = await verifyModelFiles(model, files, m);
  assert.deepEqual(r.hashed.sort(), [...files].sort(), 'every file hashed again');
  assert.equal(JSON.parse(fs.readFileSync(cache, 'utf8')).format, 1);
});

test("meta.json: a good one loads; a damaged one is named with the recovery, the extension's reader says none", async () => {
  const idx = path.join(dir, 'index');
  const identity = modelIdentity(model, true);
  const good = { format: 2, model: identity, createdAt: 'now', updatedAt: 'now', modelDir: model };
  fs.mkdirSync(idx, { recursive: true });
  fs.writeFileSync(path.join(idx, META_FILE), JSON.stringify(good));
  assert.deepEqual(readIndexMetaFile(idx)?.model, identity);
  assert.deepEqual((await readMeta(parseLocation(idx)))?.model, identity);
  assert.equal(readIndexMeta(idx)?.modelDir, model);

  const file = path.join(idx, META_FILE);
  fs.writeFileSync(file, JSON.stringify({ ...good, model: { ...identity, dim: String(identity.dim) } }));
  const want = `${file}: model.dim: expected a positive integer, got "${identity.dim}"`;
  assert.throws(() => readIndexMetaFile(idx), { message: want });
  await assert.rejects(readMeta(parseLocation(idx)), (e: Error & { exitCode?: number }) => {
    assert.ok(e.message.startsWith(want), e.message);
    assert.match(e.message, /restore it from a backup, or rebuild with `biohicl index add --rebuild --index /);
    assert.equal(e.exitCode, 4);
    return true;
  });
  assert.equal(readIndexMeta(idx), undefined, 'the extension does not use a damaged record');
  fs.writeFileSync(file, JSON.stringify({ ...good, ann: { articles: { type: 'IVF_XX' } } }));
  assert.throws(() => readIndexMetaFile(idx), /meta\.json: ann\.articles\.type: expected \("IVF_RQ" \| /);
});

test('release.json: every field checked, the bad one named with its value', () => {
  const meta = Buffer.from('{}');
  const identity = modelIdentity(model, true);
  const table = { version: 3, rows: 10, fragments: 1, indexes: [] };
  const rel = {
    format: 'biohicl-release/1',
    tag: 'r1',
    created: 'now',
    indexFormat: 2,
    model: identity,
    tables: { articles: table, sentences: { ...table } },
    counts: { articles: 10, sentences: 10 },
    pubmed: { count: 0, files: [] },
    files: [{ path: 'meta.json', size: meta.length, sha256: hashBytes(meta) }],
    totalBytes: meta.length,
  };
  assert.equal(parseRelease(JSON.stringify(rel), 'src').tag, 'r1');
  const bad = (edit: (j: any) => void): string => {
    const j = structuredClone(rel) as any;
    edit(j);
    try {
      parseRelease(JSON.stringify(j), 'https://host/r1/');
    } catch (e) {
      assert.equal((e as { exitCode?: number }).exitCode, 1);
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.equal(
    bad((j) => (j.files[0].sha256 = 'abc')),
    'https://host/r1/: release.json: files[0].sha256: expected a sha256 (64 hex digits), got "abc"',
  );
  assert.equal(
    bad((j) => (j.tables.sentences.rows = -1)),
    'https://host/r1/: release.json: tables.sentences.rows: expected a count (an integer ≥ 0), got -1',
  );
  assert.equal(
    bad((j) => (j.model.pooling = 'mean')),
    'https://host/r1/: release.json: model.pooling: expected "cls", got "mean"',
  );
  assert.equal(
    bad((j) => (j.totalBytes = 1)),
    `https://host/r1/: release.json is not a valid release: totalBytes 1 is not the sum of the file sizes (${meta.length})`,
  );
  assert.match(
    bad((j) => (j.format = 'biohicl-release/9')),
    /release\.json: format: expected "biohicl-release\/1" \(the format this version reads\), got "biohicl-release\/9"/,
  );
});

test('registry and pins.json: the shipped registry loads; a bad pin and a damaged pins.json are named', () => {
  assert.ok(defaultRegistry().models['bge-base']);
  assert.throws(
    () =>
      checkJson(
        { models: { m: { repo: 'r', revision: null, kind: 'merged', files: { 'model.safetensors': 'zz' } } } },
        RegistrySchema,
        'models/registry.json',
      ),
    {
      message: 'models/registry.json: models.m.files["model.safetensors"]: expected a sha256 (64 hex digits), got "zz"',
    },
  );
  const d = path.join(dir, 'fetched');
  fs.mkdirSync(d, { recursive: true });
  assert.equal(readPins(d), undefined);
  const pins = {
    id: 'bge-base',
    repo: 'BAAI/bge-base-en-v1.5',
    revision: 'main',
    commit: null,
    pinned: false,
    fetchedAt: 'now',
    kind: 'merged',
    files: { 'config.json': { sha256: 'a'.repeat(64), bytes: 10, verified: false } },
  };
  fs.writeFileSync(path.join(d, 'pins.json'), JSON.stringify(pins));
  assert.equal(readPins(d)?.repo, 'BAAI/bge-base-en-v1.5');
  fs.writeFileSync(path.join(d, 'pins.json'), JSON.stringify({ ...pins, kind: 'lora' }));
  assert.throws(() => readPins(d), {
    message: `${path.join(d, 'pins.json')}: kind: expected ("merged" | "adapter"), got "lora"`,
  });
});

test('a pubmed file whose .verified record is damaged counts as not verified', () => {
  const f = path.join(dir, 'pubmed26n0001.xml.gz');
  fs.writeFileSync(f, 'x');
  const st = fs.statSync(f);
  const rec = {
    name: path.basename(f),
    kind: 'baseline',
    md5: '0'.repeat(32),
    size: st.size,
    mtimeMs: st.mtimeMs,
    source: 'https://ftp.ncbi.nlm.nih.gov/',
    verifiedAt: 'now',
  };
  fs.writeFileSync(`${f}${VERIFIED_SUFFIX}`, JSON.stringify(rec));
  assert.equal(readVerified(f)?.md5, rec.md5);
  fs.writeFileSync(`${f}${VERIFIED_SUFFIX}`, JSON.stringify({ ...rec, md5: 'not-an-md5' }));
  assert.equal(readVerified(f), undefined);
});

test('a JSON object where one is expected: arrays and scalars are refused', () => {
  assert.deepEqual(parseJson('{"a":1}', jsonObject, 'h'), { a: 1 });
  assert.throws(() => parseJson('[1,2]', jsonObject, 'tokenizer.json'), {
    message: 'tokenizer.json: (top level): expected a JSON object, got [1,2]',
  });
  assert.throws(() => parseJson('7', jsonObject, 'config.json'), {
    message: 'config.json: (top level): expected a JSON object, got 7',
  });
});

test("the benchmarks' PubMedQA file: the shipped one loads, a damaged entry is named", () => {
  const qa = readPubmedQaFile(path.join(DEMO_PUBMED, 'pubmedqa-pqal-dev.json'));
  assert.ok(Object.keys(qa).length > 10);
  for (const e of Object.values(qa)) assert.ok(e.QUESTION && e.CONTEXTS.length);
  const bad = path.join(dir, 'qa.json');
  fs.writeFileSync(bad, JSON.stringify({ '123': { QUESTION: 'q?', CONTEXTS: 'not a list' } }));
  assert.throws(() => readPubmedQaFile(bad), {
    message: `${bad}: ["123"].CONTEXTS: expected Array, got "not a list"`,
  });
});

test('a missing field of a loose object (fields kept) is named too', () => {
  const S = v.looseObject({ r: positiveInt });
  assert.deepEqual(parseJson('{"r":2,"extra":true}', S, 'adapter_config.json'), { r: 2, extra: true });
  assert.throws(() => parseJson('{"lora_alpha":8}', S, 'adapter_config.json'), {
    message: 'adapter_config.json: r: missing',
  });
});

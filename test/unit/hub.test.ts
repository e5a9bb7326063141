import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  fetchModel,
  HashMismatchError,
  UnpinnedError,
  defaultRegistry,
  isPinned,
  type Registry,
} from '../../src/inference/hub';
import { HubServer, readDir, sha } from './hub-helpers';

const FIX = path.join(__dirname, '..', 'fixtures');
const BERT_FILES = [
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];
const bert = readDir(path.join(FIX, 'tiny-bert'), BERT_FILES);
const lora = readDir(path.join(FIX, 'tiny-lora'), ['adapter_config.json', 'adapter_model.safetensors']);
const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);

const server = new HubServer({
  'org/tiny-bert': { commit: COMMIT_A, revisions: [COMMIT_A, 'main'], files: bert },
  'org/tiny-adapter': { commit: COMMIT_B, revisions: [COMMIT_B, 'main'], files: lora },
});
let baseUrl = '';
let tmp = '';
before(async () => {
  baseUrl = await server.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-hub-'));
});
after(async () => {
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
let n = 0;
const dest = (): string => path.join(tmp, `m${n++}`);
const pinnedFiles = (files: Record<string, Buffer>): Record<string, string> =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha(v)]));

function registry(over: Partial<Registry['models'][string]> = {}): Registry {
  return {
    models: {
      tiny: { repo: 'org/tiny-bert', revision: COMMIT_A, kind: 'merged', files: pinnedFiles(bert), ...over },
      adapter: { repo: 'org/tiny-adapter', revision: null, kind: 'merged-or-adapter', base: 'tiny', files: {} },
    },
  };
}

test('the shipped registry: bge pinned with the published hashes, BioHiCL unpinned until a maintainer records it', () => {
  const r = defaultRegistry();
  assert.equal(
    r.models['bge-base'].files['model.safetensors'],
    'c7c1988aae201f80cf91a5dbbd5866409503b89dcaba877ca6dba7dd0a5167d7',
  );
  assert.equal(
    r.models['bge-large'].files['model.safetensors'],
    '45e1954914e29bd74080e6c1510165274ff5279421c89f76c418878732f64ae7',
  );
  assert.ok(isPinned(r.models['bge-base']) && isPinned(r.models['bge-large']));
  assert.ok(!isPinned(r.models['biohicl-base']) && !isPinned(r.models['biohicl-large']));
  assert.equal(r.models['biohicl-base'].base, 'bge-base');
  assert.equal(r.models['biohicl-large'].base, 'bge-large');
  // The bundled tokenizer is the pinned bge tokenizer.json.
  assert.equal(sha(bert['tokenizer.json']), r.models['bge-base'].files['tokenizer.json']);
});

test('pinned fetch: every file verified (weights through a redirect), pins.json written, nothing fetched twice', async () => {
  const d = dest();
  const progress: number[] = [];
  const res = await fetchModel({
    id: 'tiny',
    destDir: d,
    baseUrl,
    registry: registry(),
    onProgress: (p) => {
      if (p.file === 'tiny/model.safetensors') progress.push(p.bytes);
    },
  });
  assert.equal(res.pinned, true);
  assert.equal(res.kind, 'merged');
  assert.equal(res.commit, COMMIT_A);
  for (const f of BERT_FILES) {
    assert.deepEqual(fs.readFileSync(path.join(d, f)), bert[f], f);
    assert.equal(res.files[f].verified, true);
  }
  assert.ok(!fs.readdirSync(d).some((f) => f.endsWith('.partial')));
  assert.equal(progress.at(-1), bert['model.safetensors'].length);
  const pins = JSON.parse(fs.readFileSync(path.join(d, 'pins.json'), 'utf8'));
  assert.equal(pins.files['model.safetensors'].sha256, sha(bert['model.safetensors']));
  assert.ok(server.requests(`/cdn/${sha(bert['model.safetensors'])}/model.safetensors`).length >= 1);
  const before = server.log.length;
  await fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: registry() });
  assert.equal(server.log.length, before, 'a complete, verified folder is not downloaded again');
});

test('an interrupted transfer resumes with a Range request and yields the right file', async () => {
  const d = dest();
  const size = bert['model.safetensors'].length;
  server.cutAfter.set('model.safetensors', 700_000);
  await assert.rejects(
    fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: registry(), retries: 0 }),
    /connection lost at \d+ bytes.*run again to resume/,
  );
  const partial = path.join(d, 'model.safetensors.partial');
  const have = fs.statSync(partial).size;
  assert.ok(have > 0 && have < size, `partial ${have}`);
  const mark = server.log.length;
  await fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: registry(), retries: 0 });
  const resumed = server.log
    .slice(mark)
    .filter((l) => l.url.endsWith('/model.safetensors') && l.url.startsWith('/cdn/'));
  assert.equal(resumed.length, 1);
  assert.equal(resumed[0].range, `bytes=${have}-`);
  assert.equal(resumed[0].status, 206);
  assert.deepEqual(fs.readFileSync(path.join(d, 'model.safetensors')), bert['model.safetensors']);
  assert.ok(!fs.existsSync(partial));
});

test('a dropped connection is retried within one call, resuming where it stopped', async () => {
  const d = dest();
  server.cutAfter.set('model.safetensors', 300_000);
  const logs: string[] = [];
  await fetchModel({
    id: 'tiny',
    destDir: d,
    baseUrl,
    registry: registry(),
    retries: 2,
    retryDelayMs: 0,
    onLog: (l) => logs.push(l),
  });
  assert.ok(
    logs.some((l) => /connection lost at \d+ bytes; retrying/.test(l)),
    logs.join('\n'),
  );
  assert.ok(
    logs.some((l) => /resuming at \d+ bytes/.test(l)),
    logs.join('\n'),
  );
  assert.deepEqual(fs.readFileSync(path.join(d, 'model.safetensors')), bert['model.safetensors']);
});

test('a wrong hash deletes the partial and names the file, the expected and the actual hash', async () => {
  const d = dest();
  const wrong = 'f'.repeat(64);
  const reg = registry({ files: { ...pinnedFiles(bert), 'model.safetensors': wrong } });
  await assert.rejects(fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: reg }), (e: Error) => {
    assert.ok(e instanceof HashMismatchError);
    assert.match(e.message, /tiny\/model\.safetensors/);
    assert.ok(
      e.message.includes(`expected ${wrong}`) && e.message.includes(`got ${sha(bert['model.safetensors'])}`),
      e.message,
    );
    return true;
  });
  assert.ok(!fs.existsSync(path.join(d, 'model.safetensors.partial')));
  assert.ok(!fs.existsSync(path.join(d, 'model.safetensors')));
});

test('unpinned: refused without allowUnpinned; accepted with it, hashes and commit recorded', async () => {
  const d = dest();
  const reg = registry({ revision: null, files: {} });
  await assert.rejects(
    fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: reg }),
    (e: Error) => e instanceof UnpinnedError && /--allow-unpinned/.test(e.message),
  );
  // A revision other than the pin is unpinned too.
  await assert.rejects(
    fetchModel({ id: 'tiny', revision: 'main', destDir: d, baseUrl, registry: registry() }),
    /revision 'main' is not the pinned/,
  );
  assert.ok(!fs.existsSync(path.join(d, 'model.safetensors')));
  const res = await fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: reg, allowUnpinned: true });
  assert.equal(res.pinned, false);
  assert.equal(res.revision, 'main');
  const pins = JSON.parse(fs.readFileSync(path.join(d, 'pins.json'), 'utf8'));
  assert.equal(pins.commit, COMMIT_A);
  assert.equal(pins.pinned, false);
  for (const f of BERT_FILES)
    assert.deepEqual(pins.files[f], { sha256: sha(bert[f]), bytes: bert[f].length, verified: false });
});

test('an adapter repo: adapter files fetched, the base fetched at its pin into base/, its tokenizer reused', async () => {
  const d = dest();
  const res = await fetchModel({ id: 'adapter', destDir: d, baseUrl, registry: registry(), allowUnpinned: true });
  assert.equal(res.kind, 'adapter');
  assert.deepEqual(fs.readFileSync(path.join(d, 'adapter_model.safetensors')), lora['adapter_model.safetensors']);
  assert.ok(res.base && res.base.pinned && res.base.dir === path.join(d, 'base'));
  assert.deepEqual(fs.readFileSync(path.join(d, 'base', 'model.safetensors')), bert['model.safetensors']);
  assert.deepEqual(fs.readFileSync(path.join(d, 'tokenizer.json')), bert['tokenizer.json']);
  assert.ok(!fs.existsSync(path.join(d, 'model.safetensors')));
});

test('cancelling through the AbortSignal keeps the partial file for a later resume', async () => {
  const d = dest();
  const ac = new AbortController();
  await assert.rejects(
    fetchModel({
      id: 'tiny',
      destDir: d,
      baseUrl,
      registry: registry(),
      signal: ac.signal,
      onProgress: (p) => {
        if (p.file.endsWith('model.safetensors')) ac.abort();
      },
    }),
    /tiny\/model\.safetensors: download cancelled/,
  );
  assert.ok(fs.existsSync(path.join(d, 'model.safetensors.partial')));
  assert.ok(!fs.existsSync(path.join(d, 'model.safetensors')));
  await fetchModel({ id: 'tiny', destDir: d, baseUrl, registry: registry() });
  assert.deepEqual(fs.readFileSync(path.join(d, 'model.safetensors')), bert['model.safetensors']);
});

test('plain http is refused except on loopback', async () => {
  await assert.rejects(
    fetchModel({ id: 'tiny', destDir: dest(), baseUrl: 'http://example.org', registry: registry() }),
    /downloads must use HTTPS/,
  );
});

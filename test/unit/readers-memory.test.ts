// A 30,000-record PubmedArticleSet (.xml.gz, ~70 MB of XML) streams in bounded memory: the live heap plus
// Buffer memory, measured after forced GCs while reading, stays far below the size of the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { createGzip, constants } from 'node:zlib';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCitations } from '../../src/index/readers';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 30_000;

test(`${N.toLocaleString('en')}-record .xml.gz streams in bounded memory`, { timeout: 120_000 }, async () => {
  const sample = await readFile(join(__dirname, '../fixtures/readers/pubmed-sample.xml'), 'utf8');
  const m = /<PubmedArticle>[\s\S]*?<\/PubmedArticle>/.exec(sample);
  assert.ok(m);
  const record = m[0];
  const dir = await mkdtemp(join(tmpdir(), 'readers-mem-'));
  const file = join(dir, 'pubmed-big.xml.gz');
  let xmlBytes = 0;
  try {
    const gz = createGzip({ level: constants.Z_BEST_SPEED });
    const out = createWriteStream(file);
    gz.pipe(out);
    const write = async (s: string) => {
      xmlBytes += Buffer.byteLength(s);
      if (!gz.write(s)) await once(gz, 'drain');
    };
    await write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n');
    let batch = '';
    for (let i = 0; i < N; i++) {
      const pmid = String(40_000_000 + i);
      batch += record.replaceAll('39000001', pmid) + '\n';
      if (i === N / 2) batch += '<DeleteCitation><PMID Version="1">1</PMID></DeleteCitation>\n';
      if (batch.length > 1 << 20) {
        await write(batch);
        batch = '';
      }
    }
    await write(batch + '</PubmedArticleSet>\n');
    gz.end();
    await once(out, 'close');

    const live = () => {
      gc();
      const u = process.memoryUsage();
      return u.heapUsed + u.arrayBuffers;
    };
    const base = live();
    let peak = 0;
    let n = 0;
    let deletes = 0;
    let last = '';
    for await (const ev of readCitations(file)) {
      if (ev.type === 'citation') {
        n++;
        last = ev.citation.pmid;
        assert.equal(ev.citation.abstract.length, 3);
        if (n % 5000 === 0) peak = Math.max(peak, live() - base);
      } else if (ev.type === 'delete') deletes++;
      else assert.fail(`unexpected reject: ${ev.message}`);
    }
    assert.equal(n, N);
    assert.equal(deletes, 1);
    assert.equal(last, String(40_000_000 + N - 1));
    const mb = (x: number) => (x / 2 ** 20).toFixed(1);
    console.log(`streamed ${N} records, ${mb(xmlBytes)} MB of XML; live memory growth peak ${mb(peak)} MB`);
    assert.ok(xmlBytes > 50 * 2 ** 20, 'the file is big enough for the check to mean something');
    assert.ok(peak < 16 * 2 ** 20, `live memory grew by ${mb(peak)} MB while streaming ${mb(xmlBytes)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

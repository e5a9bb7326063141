// A build killed with SIGKILL at random moments, several times, then resumed: no duplicate, no lost committed row.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { IndexStore } from '../../src/index/store';
import { makeCitation, tmpDir, writeJsonl } from './index-helpers';
import { generateModel } from '../../src/inference/convert';
import type { ReaderEvent } from '../../src/index/citation';

const N = 120;

/**
 * Runs one build in a child process. With `kill`, the child is SIGKILLed `kill.jitterMs` after its
 * `kill.afterEvents`-th progress event: a random moment inside the build whatever the machine's speed.
 */
function runChild(
  index: string,
  file: string,
  modelDir: string,
  kill?: { afterEvents: number; jitterMs: number },
): Promise<{ code: number | null; signal: string | null; out: string; err: string; events: number }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'resume-child.ts'), index, file, modelDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '',
      err = '',
      events = 0;
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      events += (d.toString().match(/^progress /gm) ?? []).length;
      if (kill && !timer && events >= kill.afterEvents) timer = setTimeout(() => child.kill('SIGKILL'), kill.jitterMs);
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, err, events });
    });
  });
}

async function snapshot(index: string): Promise<{ pmids: string[]; sentenceKeys: string[]; nSentences: number }> {
  const s = await IndexStore.open(index, undefined, { create: true });
  const arts = await s.articles.query().select(['pmid', 'n_sentences']).toArray();
  const sents = await s.sentences.query().select(['pmid', 'idx']).toArray();
  s.close();
  return {
    pmids: arts.map((r: { pmid: string }) => r.pmid),
    sentenceKeys: sents.map((r: { pmid: string; idx: number }) => `${r.pmid}/${r.idx}`),
    nSentences: arts.reduce((a: number, r: { n_sentences: number }) => a + r.n_sentences, 0),
  };
}

function checkConsistent(snap: Awaited<ReturnType<typeof snapshot>>, label: string): void {
  assert.equal(new Set(snap.pmids).size, snap.pmids.length, `${label}: duplicate PMIDs`);
  assert.equal(new Set(snap.sentenceKeys).size, snap.sentenceKeys.length, `${label}: duplicate sentences`);
  // every committed article has all of its sentences (sentences are written before their article row)
  const present = new Set(snap.pmids);
  const perPmid = new Map<string, number>();
  for (const k of snap.sentenceKeys) {
    const p = k.split('/')[0];
    perPmid.set(p, (perPmid.get(p) ?? 0) + 1);
  }
  let committedSentences = 0;
  for (const [p, n] of perPmid) if (present.has(p)) committedSentences += n;
  assert.equal(committedSentences, snap.nSentences, `${label}: committed articles miss sentences`);
}

test(
  'SIGKILL at random moments, several times, then resume: no duplicate, no lost committed row',
  { timeout: 240_000 },
  async (t) => {
    const dir = tmpDir();
    const file = path.join(dir, 'in.jsonl');
    const events: ReaderEvent[] = [];
    for (let i = 0; i < N; i++) {
      events.push({ type: 'citation', citation: makeCitation(i) });
      if (i === 60) events.push({ type: 'delete', pmids: ['10005'] });
    }
    writeJsonl(file, events);
    const index = path.join(dir, 'idx');
    const modelDir = path.join(dir, 'model');
    await generateModel({ shape: 'tiny', outDir: modelDir, precisions: ['fp32'] });
    let committed = new Set<string>();
    let kills = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const kill = { afterEvents: 1 + Math.floor(Math.random() * 12), jitterMs: Math.floor(Math.random() * 60) };
      const delay = `${kill.afterEvents} progress events +${kill.jitterMs}`;
      const r = await runChild(index, file, modelDir, kill);
      if (r.signal === 'SIGKILL') kills++;
      else assert.equal(r.code, 0, r.err);
      const snap = await snapshot(index);
      checkConsistent(snap, `after attempt ${attempt} (killed at ${delay} ms: ${r.signal ?? 'finished'})`);
      t.diagnostic(
        `attempt ${attempt}: killed at ${delay} ms → ${r.signal ?? 'finished'}, ${snap.pmids.length} articles, ${snap.sentenceKeys.length} sentences`,
      );
      const now = new Set(snap.pmids);
      for (const p of committed) if (p !== '10005') assert.ok(now.has(p), `committed row ${p} lost after a kill`);
      committed = now;
      if (r.signal !== 'SIGKILL') break;
    }
    assert.ok(kills >= 1, 'at least one build was really killed mid-way');
    const final = await runChild(index, file, modelDir);
    assert.equal(final.code, 0, final.err);
    const snap = await snapshot(index);
    checkConsistent(snap, 'final');
    assert.equal(snap.pmids.length, N - 1);
    assert.ok(!snap.pmids.includes('10005'), 'the DeleteCitation was applied');
    const s = await IndexStore.open(index, undefined, {});
    assert.equal(await s.sentences.countRows(), snap.nSentences);
    s.close();
  },
);

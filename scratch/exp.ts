// scratch: ANN / search parameter exploration on a kept bench index
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { IndexStore, ARTICLES } from '../src/index/store';
const dir = process.argv[2];
const cmd = process.argv[3] ?? 'probe';
const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
(async () => {
  const st = JSON.parse(fs.readFileSync(path.join(dir, 'bench-state.json'), 'utf8'));
  const store = await IndexStore.open(dir, undefined);
  const t = store.articles;
  const qs = st.queries.map((q: any) => ({ text: q.text, vec: Float32Array.from(q.vec) }));
  if (cmd === 'rebuild') {
    const bits = Number(process.argv[4] ?? 1); const parts = Number(process.argv[5] ?? 1000);
    const t0 = Date.now();
    await t.createIndex('vector', { config: lancedb.Index.ivfRq({ numPartitions: parts, numBits: bits, distanceType: 'cosine' } as any), replace: true });
    console.log(`rebuild bits ${bits} parts ${parts}: ${(Date.now() - t0) / 1000} s`);
  }
  if (cmd === 'hnsw') {
    const parts = Number(process.argv[4] ?? 10);
    const t0 = Date.now();
    await t.createIndex('vector', { config: lancedb.Index.hnswSq({ numPartitions: parts, distanceType: 'cosine' }), replace: true });
    console.log(`hnsw sq parts ${parts}: ${(Date.now() - t0) / 1000} s`);
  }
  // exact top-50 for first 30 queries
  const exPath = path.join(dir, 'exact50.json');
  let ex50: string[][];
  if (fs.existsSync(exPath)) ex50 = JSON.parse(fs.readFileSync(exPath, 'utf8'));
  else {
    ex50 = [];
    for (const q of qs.slice(0, 30)) ex50.push((await t.query().nearestTo(q.vec).distanceType('cosine').bypassVectorIndex().select(['pmid', '_distance']).limit(50).toArray()).map((r: any) => String(r.pmid)));
    fs.writeFileSync(exPath, JSON.stringify(ex50));
  }
  const configs = (process.argv[6] ?? '50:40:10,50:40:50,50:10:50,50:4:50,50:2:50,30:4:50,20:4:50,50:1:50').split(',').map((c) => c.split(':').map(Number));
  for (const [np, rf, lim] of configs) {
    const ms: number[] = []; let h10 = 0, hl = 0;
    for (let i = 0; i < 30; i++) {
      const s = performance.now();
      let q = t.query().nearestTo(qs[i].vec).distanceType('cosine').select(['pmid', '_distance']).limit(lim).nprobes(np);
      if (rf > 1) q = q.refineFactor(rf);
      const r = (await q.toArray()).map((x: any) => String(x.pmid));
      ms.push(performance.now() - s);
      const got10 = new Set(r.slice(0, 10)); h10 += ex50[i].slice(0, 10).filter((x) => got10.has(x)).length;
      const gotl = new Set(r); hl += ex50[i].slice(0, lim).filter((x) => gotl.has(x)).length;
    }
    console.log(`nprobes ${np} refine ${rf} limit ${lim}: recall@10 ${(h10 / 300).toFixed(3)} recall@${lim} ${(hl / (30 * Math.min(lim, 50))).toFixed(3)} p50 ${pct(ms, 50).toFixed(1)} p95 ${pct(ms, 95).toFixed(1)}`);
  }
  // fts alone and metadata fetch
  for (const lim of [50, 20]) {
    const ms: number[] = [];
    for (const q of qs) { const s = performance.now(); await t.query().fullTextSearch(q.text.replace(/^q\d+ /, ''), { columns: ['text'] }).select(['pmid', '_score']).limit(lim).toArray(); ms.push(performance.now() - s); }
    console.log(`fts limit ${lim}: p50 ${pct(ms, 50).toFixed(1)} p95 ${pct(ms, 95).toFixed(1)}`);
  }
  const cols = ['pmid', 'title', 'abstract', 'authors', 'journal', 'year', 'doi', 'pmcid', 'publication_types', 'mesh', 'has_abstract'];
  { const ms: number[] = []; const ms2: number[] = [];
    for (let i = 0; i < 30; i++) {
      const ids = ex50[i].slice(0, 10);
      let s = performance.now(); await t.query().where(`pmid IN (${ids.map((x) => `'${x}'`).join(',')})`).select(cols).toArray(); ms.push(performance.now() - s);
      const rr = await t.query().nearestTo(qs[i].vec).distanceType('cosine').select(['pmid', '_distance']).withRowId().limit(10).nprobes(20).toArray();
      s = performance.now(); await t.takeRowIds(rr.map((x: any) => x._rowid)).select(cols).toArray(); ms2.push(performance.now() - s);
    }
    console.log(`metadata by pmid IN: p50 ${pct(ms, 50).toFixed(1)}; by takeRowIds: p50 ${pct(ms2, 50).toFixed(1)}`);
  }
  store.close();
})();

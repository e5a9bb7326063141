// The damaged-index fault classes of `npm run fuzz` (src/tools/fuzz/damage.ts), a sample: a small real index damaged
// in ways the read commands cannot see past (flipped bytes, a lost newest manifest, a lost sentences data file,
// meta.json overwritten), then verify, search and stats with the built CLI: exit 0 or 4 naming the index, no Rust
// path, no stack, nothing changed on disk, verify reports the damage. The full set: `npm run fuzz -- --only damage`.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DAMAGE_CLASSES, checkDamage } from '../../src/tools/fuzz/damage';
import { ROOT } from '../fixtures/paths';
import { tmpDir } from './index-helpers';
import { smallRealIndex } from './cli-helpers';

let dir: string;
let model: string;
let pristine: string;

before(async () => {
  dir = tmpDir('biohicl-damage-');
  ({ model, index: pristine } = await smallRealIndex(dir));
});

const SAMPLE = [
  'articles: 64 bytes flipped in a data file',
  'articles: newest manifest deleted',
  'sentences: data file deleted',
  'meta.json overwritten with garbage',
];

for (const name of SAMPLE) {
  test(`damaged index — ${name}: said, exit 0 or 4, nothing changed`, () => {
    const c = DAMAGE_CLASSES.find((x) => x.name === name);
    assert.ok(c, `class ${name} exists`);
    const r = checkDamage(
      c,
      {
        cli: [process.execPath, path.join(ROOT, 'dist', 'cli.js')],
        pristine,
        model,
        work: dir,
        home: path.join(dir, 'home'),
      },
      15,
    );
    assert.deepEqual(r.problems, [], `exit codes verify/search/stats ${r.codes.join('/')}`);
    assert.equal(r.codes[0], 4, 'verify reports it');
  });
}

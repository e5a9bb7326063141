// The cluster recipes a lab uses: the Kubernetes manifests validated offline against the Kubernetes API schema
// (kubernetes-models' generated JSON schemas), and the Slurm scripts parsed by bash and checked for what they must
// say. The Slurm jobs themselves run for real in slurm-build.test.ts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '..', '..');
const deploy = path.join(root, 'deploy');

test('Kubernetes: every manifest is valid against the Kubernetes schema; the array step is an Indexed Job', async () => {
  const { Job } = await import('kubernetes-models/batch/v1/Job');
  const { ConfigMap } = await import('kubernetes-models/v1/ConfigMap');
  const docs = parseAllDocuments(fs.readFileSync(path.join(deploy, 'k8s', 'pubmed-index.yaml'), 'utf8'));
  const kinds: string[] = [];
  for (const d of docs) {
    assert.equal(d.errors.length, 0, String(d.errors[0]));
    const o = d.toJSON() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> };
    const model =
      o.kind === 'Job' ? new Job(o as never) : o.kind === 'ConfigMap' ? new ConfigMap(o as never) : undefined;
    assert.ok(model, `unexpected kind ${o.kind}`);
    assert.doesNotThrow(() => (model as unknown as { validate(): void }).validate(), `${o.kind} ${o.metadata.name}`);
    kinds.push(`${o.kind}/${o.metadata.name}`);
    if (o.metadata.name === 'biohicl-array') {
      assert.equal(o.spec!.completionMode, 'Indexed');
      assert.match(JSON.stringify(o), /JOB_COMPLETION_INDEX/);
      assert.match(JSON.stringify(o), /--bulk/);
    }
  }
  assert.deepEqual(kinds, [
    'ConfigMap/biohicl-build',
    'Job/biohicl-setup',
    'Job/biohicl-array',
    'Job/biohicl-finalize',
  ]);
  // The validator does reject a wrong manifest (so the check above can fail).
  assert.throws(
    () =>
      (
        new Job({ metadata: { name: 'x' }, spec: { completions: 'many', template: {} } } as never) as unknown as {
          validate(): void;
        }
      ).validate(),
    /integer/,
  );
});

test('Slurm: the scripts parse, chain setup → array → finalize with afterok, and the array task resumes in bulk mode', () => {
  const dir = path.join(deploy, 'slurm');
  for (const f of ['submit.sh', 'setup.sbatch', 'array.sbatch', 'finalize.sbatch']) {
    const r = spawnSync('bash', ['-n', path.join(dir, f)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
  const submit = fs.readFileSync(path.join(dir, 'submit.sh'), 'utf8');
  assert.match(submit, /--dependency="afterok:\$setup"/);
  assert.match(submit, /--dependency="afterok:\$array"/);
  assert.match(submit, /--gres=gpu:1/);
  const array = fs.readFileSync(path.join(dir, 'array.sbatch'), 'utf8');
  assert.match(array, /#SBATCH --requeue/);
  assert.match(array, /index add --bulk/);
  const usage = spawnSync('bash', [path.join(dir, 'submit.sh'), '--index', 'x'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--model, and --inputs are required|are required/);
});

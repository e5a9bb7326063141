// `npm run package -- --target <t>`: one platform-specific VSIX per `vsce --target`, from scripts/targets.json.
//
// The extension is never packaged from the development folder. A clean staging folder (.cache/package/<target>/)
// gets: a production esbuild of dist/ (no source maps), package.json without scripts/devDependencies, media/,
// the model registry + tokenizer, the shipped data, and dist/node_modules holding only what the shipped bundles
// require at run time, for that one platform (other platforms' onnxruntime binaries pruned, the matching LanceDB
// native package added, fetched with `npm pack` when it is not installed here). Then `vsce package --target
// --no-dependencies` runs there with the allow-list .vscodeignore, and the size budget is printed.
//
//   node scripts/package.mjs --target linux-x64 [--reuse] [--json]   one target (--reuse: keep an identical VSIX)
//   node scripts/package.mjs --all                                    every target in the table
//   import { buildVsix } from './scripts/package.mjs'                 → { vsix, reused, sizes, ... }
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'targets.json'), 'utf8')).targets;
export const OUT_DIR = path.join(ROOT, 'dist-vsix');
const STAGE_ROOT = path.join(ROOT, '.cache', 'package');
const NATIVE_CACHE = path.join(ROOT, '.cache', 'npm-natives');

/** Bundles built by scripts/build.mjs that are development tools, not product (they may need dev dependencies). */
const DEV_BUNDLES = new Set(['bench.js', 'eval.js']);
/** Product files besides dist/ and node_modules/: [path relative to the root, required?]. */
const CONTENT = [
  ['package.json', true],
  ['package.nls.json', true],
  ['README.md', false],
  ['LICENSE', false],
  ['LICENSE.md', false],
  ['CHANGELOG.md', false],
  ['NOTICE.md', false],
  ['media', false],
  ['models/registry.json', false],
  ['models/tokenizer', false],
  ['data/demo', false],
  ['data/mesh', false],
];
/** Shipped whatever the bundles' text shows: the native packages the engine loads (external in scripts/build.mjs). */
const NATIVE_RUNTIME = ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow'];
/** Development files inside product folders (media/ keeps a tsconfig.json for type-checking the webview script). */
const DEV_ONLY_FILE = /\.map$|^tsconfig.*\.json$|^\.eslintrc|(?<!\.d)\.[cm]?ts$/;
/** Dependencies that a runtime package declares but that only its install script or its CLI uses. */
const NOT_AT_RUNTIME = {
  'onnxruntime-node': ['adm-zip', 'global-agent'], // script/install.js (CUDA download), never required by dist/
  'apache-arrow': ['command-line-args', 'command-line-usage', '@swc/helpers'], // bin/arrow2csv; no file uses @swc
};
/**
 * ESM and browser copies that require() never reaches (the bundles are CJS; each package's "require"/main entry is
 * named in the comment). Path relative to the package, '/'-separated.
 */
const NOT_REQUIRED = {
  'apache-arrow': (r) =>
    r.endsWith('.mjs') || /^Arrow\.(es2015|esnext|externs)\b.*\.js$/.test(r) || r === 'bin' || r.startsWith('bin/'), // require → Arrow.node.js
  'onnxruntime-common': (r) => r === 'dist/esm' || r.startsWith('dist/esm/'), // require → dist/cjs/index.js
  flatbuffers: (r) => r === 'mjs' || r.startsWith('mjs/') || r === 'ts' || r.startsWith('ts/'), // main → js/flatbuffers.js
};
/** Files never shipped from node_modules: sources, types, maps, docs. Licences and notices are kept. */
const DROP_FILE = /(\.map|\.d\.[cm]?ts|(?<!\.d)\.[cm]?ts|\.tsbuildinfo|\.md|\.markdown)$/i;
const KEEP_FILE = /^(licen[sc]e|notice|copying)|third_party/i;
const DROP_DIR = new Set(['node_modules', 'test', 'tests', '__tests__', '.github']);
const NATIVE_FILE = /\.(node|so(\.\d+)*|dll|dylib)$/i;

export class PackagingError extends Error {}

const rel = (p) => path.relative(ROOT, p).split(path.sep).join('/');
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
const mb = (n) => (n / 1024 / 1024).toFixed(1);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    throw new PackagingError(
      `${path.basename(cmd)} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${out || r.error}`,
    );
  }
  return r.stdout;
}

/** Hard-link (fast, no extra disk) or copy one file. */
function place(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

function placeTree(src, dst, { filter = () => true } = {}) {
  const st = fs.statSync(src);
  if (st.isFile()) return place(src, dst);
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    if (!filter(s, e)) continue;
    if (e.isDirectory()) placeTree(s, path.join(dst, e.name), { filter });
    else if (e.isFile()) place(s, path.join(dst, e.name));
  }
}

/**
 * `require("…")` texts that are not loads: the AWS SDK (s3:// index locations) names its optional signers inside
 * error messages ("register the package by calling [require('@aws-sdk/signature-v4a');]"); they are never required.
 */
const NAMED_IN_MESSAGES_ONLY = new Set(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);

/** Package names that the shipped bundles load with require()/import() (Node builtins and `vscode` excluded). */
export function runtimeRoots(distDir) {
  const roots = new Map(); // name → bundle that requires it
  for (const name of NATIVE_RUNTIME) roots.set(name, '(native runtime, external in scripts/build.mjs)');
  for (const f of fs.readdirSync(distDir).filter((x) => x.endsWith('.js'))) {
    const code = fs.readFileSync(path.join(distDir, f), 'utf8');
    for (const m of code.matchAll(/\b(?:require|import)\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) {
      const spec = m[1];
      if (
        spec.startsWith('.') ||
        spec.startsWith('/') ||
        isBuiltin(spec) ||
        spec === 'vscode' ||
        NAMED_IN_MESSAGES_ONLY.has(spec)
      )
        continue;
      const parts = spec.split('/');
      const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (!roots.has(name)) roots.set(name, f);
    }
  }
  return roots;
}

/** Node's lookup of `name` from a package folder: ./node_modules/name, then each parent's, up to the root. */
function resolvePackageDir(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const c = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(c, 'package.json'))) return c;
    if (d === ROOT || path.dirname(d) === d) return undefined;
  }
}

/**
 * The production closure of `roots`: each package folder with the dependencies it needs at run time
 * (dependencies + installed peerDependencies; optional dependencies, @types/* and NOT_AT_RUNTIME left out).
 */
export function runtimeClosure(roots) {
  const rootPkg = readJson(path.join(ROOT, 'package.json'));
  const dev = new Set(Object.keys(rootPkg.devDependencies ?? {}));
  const errors = [];
  const seen = new Map(); // package dir → name
  const queue = [];
  for (const [name, bundle] of roots) {
    if (dev.has(name))
      errors.push(
        `${bundle.startsWith('(') ? bundle : `dist/${bundle}`} requires the devDependency "${name}"; dev dependencies never ship. Move it to dependencies or stop requiring it from a shipped bundle.`,
      );
    const dir = resolvePackageDir(name, ROOT);
    if (!dir)
      errors.push(`dist/${bundle} requires "${name}", which is not installed in node_modules (run npm install).`);
    else queue.push(dir);
  }
  while (queue.length) {
    const dir = queue.shift();
    if (seen.has(dir)) continue;
    const pkg = readJson(path.join(dir, 'package.json'));
    seen.set(dir, pkg.name);
    const skip = new Set(NOT_AT_RUNTIME[pkg.name] ?? []);
    const peerOptional = pkg.peerDependenciesMeta ?? {};
    const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
    for (const dep of deps) {
      if (skip.has(dep) || dep.startsWith('@types/')) continue;
      const d = resolvePackageDir(dep, dir);
      if (d) queue.push(d);
      else if (pkg.dependencies?.[dep] || !peerOptional[dep]?.optional) {
        if (!(pkg.peerDependencies?.[dep] && !pkg.dependencies?.[dep] && dev.has(dep))) {
          errors.push(`${pkg.name} needs "${dep}", which is not installed.`);
        }
      }
    }
  }
  if (errors.length) throw new PackagingError(errors.join('\n'));
  return seen;
}

/** The LanceDB native package for a target: installed here, cached under .cache/npm-natives, or `npm pack`ed. */
export function lancedbNative(target, { fetch = true } = {}) {
  const spec = TARGETS[target].lancedb;
  const version = readJson(path.join(ROOT, 'node_modules', '@lancedb', 'lancedb', 'package.json')).version;
  const installed = path.join(ROOT, 'node_modules', ...spec.package.split('/'));
  if (
    fs.existsSync(path.join(installed, spec.file)) &&
    readJson(path.join(installed, 'package.json')).version === version
  ) {
    return { dir: installed, source: 'node_modules' };
  }
  const cached = path.join(NATIVE_CACHE, `${spec.package.replace('/', '+')}-${version}`, 'package');
  if (fs.existsSync(path.join(cached, spec.file))) return { dir: cached, source: '.cache (npm pack)' };
  if (!fetch) return undefined;
  const work = path.dirname(cached);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  console.error(`fetching ${spec.package}@${version} with npm pack (not installed here; can be ~50-60 MB)…`);
  const t0 = Date.now();
  let tgz;
  try {
    // npm checks the tarball against the registry's integrity hash.
    const out = run('npm', ['pack', `${spec.package}@${version}`, '--pack-destination', work, '--json', '--silent'], {
      cwd: work,
      shell: process.platform === 'win32',
    });
    tgz = path.join(work, JSON.parse(out)[0].filename);
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw new PackagingError(
      `${target}: the LanceDB native package ${spec.package}@${version} is not installed and could not be fetched from the npm registry, so no ${target} VSIX was built (it would fail to load LanceDB).\n${e.message}`,
    );
  }
  run('tar', ['xzf', tgz, '-C', work]);
  fs.rmSync(tgz);
  if (!fs.existsSync(path.join(cached, spec.file))) {
    throw new PackagingError(`${target}: ${spec.package}@${version} was fetched but holds no ${spec.file}.`);
  }
  console.error(`  fetched in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { dir: cached, source: 'npm pack (now cached in .cache/npm-natives)' };
}

/**
 * The closure into <stage>/dist/node_modules, pruned for the target. Not <stage>/node_modules: with
 * --no-dependencies vsce never packs a top-level node_modules (its glob ignores it); Node finds dist/node_modules
 * first from dist/*.js anyway (Continue ships out/node_modules the same way).
 */
function stageNodeModules(stage, target, closure, fetch) {
  const t = TARGETS[target];
  const nm = path.join(stage, 'dist');
  const ortBin = `bin/napi-v6/${t.ort.dir}`;
  for (const [dir, name] of closure) {
    const dst = path.join(nm, path.relative(ROOT, dir));
    placeTree(dir, dst, {
      filter: (p, e) => {
        const r = path.relative(dir, p).split(path.sep).join('/');
        if (NOT_REQUIRED[name]?.(r)) return false;
        if (e.isDirectory()) {
          if (DROP_DIR.has(e.name)) return false;
          if (name === 'onnxruntime-node') return ['dist', 'bin', 'bin/napi-v6', ...prefixes(ortBin)].includes(r);
          return true;
        }
        if (name === 'onnxruntime-node' && r.startsWith('bin/')) return t.ort.files.some((f) => r === `${ortBin}/${f}`);
        if (KEEP_FILE.test(e.name)) return true;
        return !DROP_FILE.test(e.name);
      },
    });
  }
  const ortDir = path.join(nm, 'node_modules', 'onnxruntime-node', ...ortBin.split('/'));
  for (const f of t.ort.files) {
    if (!fs.existsSync(path.join(ortDir, f))) {
      throw new PackagingError(
        `${target}: onnxruntime-node has no ${ortBin}/${f} in node_modules; the table (scripts/targets.json) and the installed onnxruntime-node disagree.`,
      );
    }
  }
  const native = lancedbNative(target, { fetch });
  if (!native) {
    throw new PackagingError(
      `${target}: ${t.lancedb.package} is not available locally (not installed, not in .cache/npm-natives) and --offline forbids npm pack; no VSIX built.`,
    );
  }
  const nativeDst = path.join(nm, 'node_modules', ...t.lancedb.package.split('/'));
  placeTree(native.dir, nativeDst, { filter: (_p, e) => e.isDirectory() || !/\.md$/i.test(e.name) });
  if (t.lancedb.strip) {
    // The published linux-x64 .node carries its static symbol table (.symtab/.strtab, 20 MB, ~5 MB zipped), which
    // only symbolises native backtraces; the dynamic symbols Node needs (.dynsym) stay. Written to a new file: the
    // staged one is a hard link into node_modules.
    const dst = path.join(nativeDst, t.lancedb.file);
    fs.rmSync(dst);
    const r = spawnSync('strip', ['--strip-unneeded', '-o', dst, path.join(native.dir, t.lancedb.file)], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      console.error(
        `warning: strip failed (${r.error?.message ?? r.stderr.trim()}); shipping ${t.lancedb.file} unstripped`,
      );
      fs.copyFileSync(path.join(native.dir, t.lancedb.file), dst);
    }
  }
  return native;
}

function prefixes(p) {
  const parts = p.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** package.json as shipped: no scripts (vsce would run vscode:prepublish), no devDependencies, runtime deps only. */
function stagePackageJson(stage, target, closureRoots) {
  const pkg = readJson(path.join(ROOT, 'package.json'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  const deps = {};
  for (const name of [...closureRoots.keys()].sort()) deps[name] = pkg.dependencies?.[name] ?? '*';
  const t = TARGETS[target];
  deps[t.lancedb.package] = readJson(path.join(ROOT, 'node_modules', '@lancedb', 'lancedb', 'package.json')).version;
  pkg.dependencies = deps;
  // VS Code ≥ 1.74 infers activation from `contributes`; vsce still wants the key when `main` is set.
  pkg.activationEvents ??= [];
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  return pkg;
}

/** sha256 over every staged file's path and content: identical inputs ⇒ identical VSIX. */
function treeHash(dir, target) {
  const h = createHash('sha256').update(`target:${target}\n`);
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        h.update(`${path.relative(dir, p)}\0`);
        h.update(fs.readFileSync(p));
      }
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Entries of a VSIX (a zip) with their compressed and uncompressed sizes, without inflating anything. */
export function listVsix(vsixPath) {
  const entries = [];
  unzipSync(fs.readFileSync(vsixPath), {
    filter: (f) => {
      entries.push({ name: f.name, size: f.size, originalSize: f.originalSize });
      return false;
    },
  });
  return entries;
}

/** Natives (.node/.so/.dll/.dylib) vs everything else, zipped sizes, against the target's budget. */
export function sizeBudget(vsixPath, target) {
  const entries = listVsix(vsixPath);
  const total = fs.statSync(vsixPath).size;
  let natives = 0;
  let nativesRaw = 0;
  let rest = 0;
  const biggest = [];
  for (const e of entries) {
    if (NATIVE_FILE.test(e.name)) {
      natives += e.size;
      nativesRaw += e.originalSize;
    } else rest += e.size;
    biggest.push(e);
  }
  biggest.sort((a, b) => b.size - a.size);
  const budget = TARGETS[target].budgetMB;
  const withinBudget = total <= budget.total * 1024 * 1024 && rest <= budget.nonNative * 1024 * 1024;
  return {
    total,
    natives,
    nativesRaw,
    nonNative: rest,
    files: entries.length,
    budget,
    withinBudget,
    biggest: biggest.slice(0, 8),
  };
}

function printBudget(target, vsix, s) {
  console.log(`\nsize budget ${target}: ${rel(vsix)}`);
  console.log(`  natives     ${mb(s.natives).padStart(7)} MB zipped (${mb(s.nativesRaw)} MB unpacked)`);
  console.log(`  non-native  ${mb(s.nonNative).padStart(7)} MB zipped   (budget ≤ ${s.budget.nonNative} MB)`);
  console.log(
    `  VSIX total  ${mb(s.total).padStart(7)} MB, ${s.files} files (budget ≤ ${s.budget.total} MB)  ${s.withinBudget ? 'OK' : 'OVER BUDGET'}`,
  );
  for (const e of s.biggest.slice(0, 5)) console.log(`    ${mb(e.size).padStart(7)} MB  ${e.name}`);
}

/** The VSIX file name for a target: dist-vsix/<name>-<target>-<version>.vsix (a stable path for the e2e suite). */
export function vsixPath(target) {
  const pkg = readJson(path.join(ROOT, 'package.json'));
  return path.join(OUT_DIR, `${pkg.name}-${target}-${pkg.version}.vsix`);
}

/**
 * Build (or, with reuse, keep an identical earlier) VSIX for one target.
 * @returns {Promise<{target: string, vsix: string, reused: boolean, hash: string, seconds: number, lancedbSource: string, sizes: ReturnType<typeof sizeBudget>}>}
 */
export async function buildVsix(target, { reuse = false, quiet = false, fetch = true, listOnly = false } = {}) {
  const t = TARGETS[target];
  if (!t) throw new PackagingError(`Unknown target "${target}". Targets: ${Object.keys(TARGETS).join(', ')}.`);
  if (t.unsupported) throw new PackagingError(`${target}: no VSIX built. ${t.unsupported}`);
  const t0 = Date.now();
  const stage = path.join(STAGE_ROOT, target);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });

  // 1. dist/: a production build straight into the stage (never touches the developer's dist/).
  run(
    process.execPath,
    [path.join(ROOT, 'scripts', 'build.mjs'), '--production', `--outdir=${path.join(stage, 'dist')}`],
    { cwd: ROOT },
  );
  for (const f of fs.readdirSync(path.join(stage, 'dist'))) {
    if (DEV_BUNDLES.has(f) || !f.endsWith('.js')) fs.rmSync(path.join(stage, 'dist', f), { recursive: true });
  }
  // 2. node_modules: what the shipped bundles require, for this platform only.
  const roots = runtimeRoots(path.join(stage, 'dist'));
  const closure = runtimeClosure(roots);
  const native = stageNodeModules(stage, target, closure, fetch);
  // 3. the rest of the product.
  stagePackageJson(stage, target, roots);
  for (const [p, required] of CONTENT) {
    if (p === 'package.json') continue;
    const src = path.join(ROOT, p);
    if (fs.existsSync(src)) placeTree(src, path.join(stage, p), { filter: (_s, e) => !DEV_ONLY_FILE.test(e.name) });
    else if (required) throw new PackagingError(`${p} is missing.`);
  }
  fs.copyFileSync(path.join(ROOT, '.vscodeignore'), path.join(stage, '.vscodeignore'));
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (listOnly) {
    // `vsce ls`: the files the VSIX would hold (same .vscodeignore, same --no-dependencies), without zipping.
    const files = run(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: stage })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const seconds = (Date.now() - t0) / 1000;
    if (!quiet) {
      console.log(
        `vsce ls ${target} (${files.length} files, staged in ${rel(stage)}, ${seconds.toFixed(1)} s; LanceDB native from ${native.source}):`,
      );
      for (const f of files) console.log(`  ${f}`);
    }
    return { target, files, seconds, lancedbSource: native.source };
  }

  // 4. vsce, unless an identical VSIX already exists.
  const out = vsixPath(target);
  const hash = treeHash(stage, target);
  const hashFile = `${out}.inputs-sha256`;
  const reused =
    reuse && fs.existsSync(out) && fs.existsSync(hashFile) && fs.readFileSync(hashFile, 'utf8').trim() === hash;
  if (!reused) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.rmSync(out, { force: true });
    fs.rmSync(hashFile, { force: true });
    const args = [
      'package',
      '--target',
      target,
      '--no-dependencies',
      '--out',
      out,
      '--allow-missing-repository',
      '--no-rewrite-relative-links',
    ];
    if (!['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => fs.existsSync(path.join(stage, f))))
      args.push('--skip-license');
    const log = run(process.execPath, [vsce, ...args], { cwd: stage });
    if (!quiet)
      process.stdout.write(
        log
          .split('\n')
          .filter((l) => /WARNING|DONE/.test(l))
          .map((l) => `  vsce: ${l}\n`)
          .join(''),
      );
    fs.writeFileSync(hashFile, hash + '\n');
  }
  const sizes = sizeBudget(out, target);
  const seconds = (Date.now() - t0) / 1000;
  if (!quiet) {
    console.log(
      `${reused ? 'reused' : 'built'} ${rel(out)} in ${seconds.toFixed(1)} s (LanceDB native from ${native.source})`,
    );
    printBudget(target, out, sizes);
  }
  return { target, vsix: out, reused, hash, seconds, lancedbSource: native.source, sizes };
}

async function main(argv) {
  const flag = (n) => argv.includes(n);
  const value = (n) => {
    const i = argv.findIndex((a) => a === n || a.startsWith(`${n}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].slice(n.length + 1) : argv[i + 1];
  };
  if (flag('--help') || flag('-h')) {
    console.log(
      [
        'usage: npm run package -- --target <t> [--reuse] [--offline] [--json]   (or --all instead of --target)',
        '  --reuse    keep dist-vsix/<name>-<t>-<version>.vsix when its staged inputs are byte-identical',
        '  --offline  never npm pack a missing LanceDB native package (fail instead)',
        '  --ls       stage and print `vsce ls` (the files the VSIX would hold) without zipping',
        '  --json     print only a JSON result line (for tests and scripts)',
        `  targets: ${Object.keys(TARGETS).join(', ')}`,
      ].join('\n'),
    );
    return 0;
  }
  const targets = flag('--all') ? Object.keys(TARGETS) : [value('--target') ?? `${process.platform}-${process.arch}`];
  const results = [];
  let failed = 0;
  for (const target of targets) {
    try {
      results.push(
        await buildVsix(target, {
          reuse: flag('--reuse'),
          quiet: flag('--json'),
          fetch: !flag('--offline'),
          listOnly: flag('--ls'),
        }),
      );
    } catch (e) {
      if (!(e instanceof PackagingError)) throw e;
      failed++;
      console.error(`\nERROR ${e.message}`);
      results.push({ target, error: e.message });
    }
  }
  if (flag('--json')) console.log(JSON.stringify(targets.length === 1 ? results[0] : results));
  if (targets.length > 1) {
    console.log('\nsummary');
    for (const r of results) {
      const what = r.error
        ? `NOT BUILT: ${r.error.split('\n')[0]}`
        : r.files
          ? `${r.files.length} files (vsce ls)`
          : `${mb(r.sizes.total)} MB ${r.sizes.withinBudget ? 'OK' : 'OVER BUDGET'}  ${rel(r.vsix)}`;
      console.log(`  ${r.target.padEnd(13)} ${what}`);
    }
  }
  return failed ? 2 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

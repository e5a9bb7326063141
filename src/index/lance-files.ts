// Which files one version of a Lance table needs. LanceDB's Node SDK has no API for that (no manifest or
// fragment-file listing; `optimize({cleanupOlderThan})` compacts as well as prunes, refuses when a tagged version is
// older, and could only ever keep the *latest* version), so the version's manifest is read here. The manifest is
// Lance's own file format: a protobuf `Manifest` message (lance/protos/table.proto) located by a 16-byte footer, and
// an `IndexSection` message it points to. Only the fields that name files are read:
//
//   Manifest      2 fragments (DataFragment), 3 version, 6 index_section (file offset), 12 transaction_file
//   DataFragment  1 id, 2 files (DataFile), 3 deletion_file (DeletionFile), 6 external_row_ids (ExternalFile)
//   DataFile      1 path (under data/), 7 base_id (another base path: refused)
//   DeletionFile  1 file_type (0 arrow, 1 bitmap), 2 read_version, 3 id, 7 base_id (refused)
//                 → _deletions/<fragment id>-<read_version>-<id>.<arrow|bin>
//   ExternalFile  1 path (relative to the table folder)
//   IndexSection  1 indices (IndexMetadata: 1 uuid (UUID: 1 bytes), 3 name, 10 files (IndexFile: 1 path, 2 size))
//                 → _indices/<uuid>/<path> for each listed file; an index that lists none (older Lance): its whole folder
//
// publish.ts proves the list complete for every release it makes: it opens the copy made of exactly these files and
// reads every row of every table, so a field this reader does not know about fails the publish instead of a pull.
import * as fs from 'node:fs';
import * as path from 'node:path';

const U64_MAX = (1n << 64n) - 1n;

/** The manifest of `version` in a table folder: Lance's V2 naming (`u64::MAX - v`, newest first) or V1 (`v`). */
export function manifestPath(tableDir: string, version: number): { rel: string; abs: string } {
  for (const name of [`${U64_MAX - BigInt(version)}.manifest`, `${version}.manifest`]) {
    const rel = `_versions/${name}`;
    const abs = path.join(tableDir, rel);
    if (fs.existsSync(abs)) return { rel, abs };
  }
  throw new Error(`${tableDir}: no manifest for version ${version} in _versions/ (cleaned up, or not a Lance table)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Protobuf wire format (varint, fixed64, length-delimited, fixed32), enough to walk messages.

interface PbField {
  field: number;
  wire: number;
  int?: bigint;
  bytes?: Buffer;
}

function* fields(buf: Buffer): Generator<PbField> {
  let p = 0;
  const varint = (): bigint => {
    let r = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (p >= buf.length) throw new Error('truncated varint');
      const b = buf[p++]!;
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, int: varint() };
    else if (wire === 1) {
      if (p + 8 > buf.length) throw new Error('truncated fixed64');
      yield { field, wire, int: buf.readBigUInt64LE(p) };
      p += 8;
    } else if (wire === 2) {
      const n = Number(varint());
      if (p + n > buf.length) throw new Error('truncated length-delimited field');
      yield { field, wire, bytes: buf.subarray(p, p + n) };
      p += n;
    } else if (wire === 5) {
      if (p + 4 > buf.length) throw new Error('truncated fixed32');
      yield { field, wire, int: BigInt(buf.readUInt32LE(p)) };
      p += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

/** A length-prefixed (u32 LE) protobuf message at `pos`. */
function messageAt(buf: Buffer, pos: number, what: string): Buffer {
  if (pos < 0 || pos + 4 > buf.length) throw new Error(`${what} position ${pos} is outside the file`);
  const len = buf.readUInt32LE(pos);
  if (pos + 4 + len > buf.length) throw new Error(`${what} (${len} bytes at ${pos}) runs past the end of the file`);
  return buf.subarray(pos + 4, pos + 4 + len);
}

export interface VersionFiles {
  version: number;
  /** Paths relative to the table folder, the manifest first. */
  files: string[];
  /** Index folders (relative) that list no files (older Lance): every file in them belongs to the version. */
  indexDirs: string[];
  fragments: number;
  indexes: string[];
  /** Index folder uuid → index name (pmid_idx, text_idx, vector_idx). */
  indexUuids: Record<string, string>;
}

/** Parse one manifest file: the files the version reads (relative to its table folder). */
export function parseManifest(file: string, manifestRel: string): VersionFiles {
  const buf = fs.readFileSync(file);
  if (buf.length < 16 || buf.subarray(buf.length - 4).toString('latin1') !== 'LANC')
    throw new Error(`${file}: not a Lance manifest (no LANC footer)`);
  const pos = Number(buf.readBigUInt64LE(buf.length - 16));
  const manifest = messageAt(buf, pos, `${file}: manifest`);
  const files = [manifestRel];
  const indexDirs: string[] = [];
  const indexes: string[] = [];
  const indexUuids: Record<string, string> = {};
  let version = -1;
  let fragments = 0;
  let indexSection: number | undefined;
  const refuseBase = (what: string): never => {
    throw new Error(
      `${file}: ${what} lives in another base path (a shallow clone); publish from a full copy of the table`,
    );
  };
  for (const f of fields(manifest)) {
    if (f.field === 3 && f.wire === 0) version = Number(f.int);
    else if (f.field === 6 && f.wire === 0) indexSection = Number(f.int);
    else if (f.field === 12 && f.wire === 2 && f.bytes!.length)
      files.push(`_transactions/${f.bytes!.toString('utf8')}`);
    else if (f.field === 2 && f.wire === 2) {
      fragments++;
      let id = 0n;
      let deletion: Buffer | undefined;
      for (const g of fields(f.bytes!)) {
        if (g.field === 1 && g.wire === 0) id = g.int!;
        else if (g.field === 2 && g.wire === 2) {
          for (const h of fields(g.bytes!)) {
            if (h.field === 1 && h.wire === 2) files.push(`data/${h.bytes!.toString('utf8')}`);
            else if (h.field === 7) refuseBase('a data file');
          }
        } else if (g.field === 3 && g.wire === 2) deletion = g.bytes!;
        else if (g.field === 6 && g.wire === 2) {
          for (const h of fields(g.bytes!)) if (h.field === 1 && h.wire === 2) files.push(h.bytes!.toString('utf8'));
        }
      }
      if (deletion) {
        let type = 0n;
        let readVersion = 0n;
        let did = 0n;
        for (const h of fields(deletion)) {
          if (h.field === 1 && h.wire === 0) type = h.int!;
          else if (h.field === 2 && h.wire === 0) readVersion = h.int!;
          else if (h.field === 3 && h.wire === 0) did = h.int!;
          else if (h.field === 7) refuseBase('a deletion file');
        }
        files.push(`_deletions/${id}-${readVersion}-${did}.${type === 1n ? 'bin' : 'arrow'}`);
      }
    }
  }
  if (indexSection !== undefined) {
    const section = messageAt(buf, indexSection, `${file}: index section`);
    for (const f of fields(section)) {
      if (f.field !== 1 || f.wire !== 2) continue;
      let uuid: string | undefined;
      let name = '';
      const listed: string[] = [];
      for (const g of fields(f.bytes!)) {
        if (g.field === 1 && g.wire === 2) {
          for (const h of fields(g.bytes!)) {
            if (h.field === 1 && h.wire === 2 && h.bytes!.length === 16) {
              const x = h.bytes!.toString('hex');
              uuid = `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
            }
          }
        } else if (g.field === 3 && g.wire === 2) name = g.bytes!.toString('utf8');
        else if (g.field === 10 && g.wire === 2) {
          for (const h of fields(g.bytes!)) if (h.field === 1 && h.wire === 2) listed.push(h.bytes!.toString('utf8'));
        }
      }
      if (!uuid) throw new Error(`${file}: an index (${name || 'unnamed'}) without a uuid`);
      if (listed.length) for (const l of listed) files.push(`_indices/${uuid}/${l}`);
      else indexDirs.push(`_indices/${uuid}`);
      indexes.push(name);
      indexUuids[uuid] = name;
    }
  }
  return { version, files, indexDirs, fragments, indexes, indexUuids };
}

/** Every file (relative to the table folder) that `version` of the table at `tableDir` needs; each must exist. */
export function versionFiles(tableDir: string, version: number): VersionFiles {
  const m = manifestPath(tableDir, version);
  const v = parseManifest(m.abs, m.rel);
  if (v.version !== version) throw new Error(`${m.abs}: the manifest says version ${v.version}, expected ${version}`);
  const out = new Set<string>();
  for (const f of v.files) {
    if (!fs.existsSync(path.join(tableDir, f))) {
      // A transaction file is not needed to read the version (Lance uses it only to rebase concurrent commits).
      if (f.startsWith('_transactions/')) continue;
      throw new Error(`${tableDir}: version ${version} needs ${f}, which is missing`);
    }
    out.add(f);
  }
  for (const d of v.indexDirs) {
    const abs = path.join(tableDir, d);
    if (!fs.existsSync(abs))
      throw new Error(`${tableDir}: version ${version} needs the index folder ${d}, which is missing`);
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(tableDir, rel), { withFileTypes: true })) {
        const r = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(r);
        else if (e.isFile()) out.add(r);
      }
    };
    walk(d);
  }
  return { ...v, files: [...out] };
}

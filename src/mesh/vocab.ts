// The MeSH vocabulary: descriptors, tree positions, entry terms, scope notes.
// Sources: the shipped MeSH 2024 TSV pair (data/mesh), NLM's descriptor XML (descYYYY.xml[.gz], streamed with saxes)
// for newer years, or a compact gz JSON cache written by `biohicl mesh import`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { SaxesParser } from 'saxes';
import { biohiclHome, projectRoot } from '../inference/paths';
import * as v from 'valibot';
import { errorText } from '../util/errors';
import { parseJson } from '../util/json';

export interface Descriptor {
  ui: string; // e.g. 'D003920'
  name: string; // preferred name (record preferred term)
  treeNumbers: string[]; // e.g. ['C18.452.394.750', 'C19.246']
  terms: string[]; // entry terms (synonyms), the name excluded, permuted forms excluded
  scopeNote?: string;
}

export interface VocabData {
  version: string; // 'MeSH 2024'
  source: string; // where it was read from
  descriptors: Descriptor[];
}

/** Names of the 16 top-level tree categories (the letter of a tree number). */
export const CATEGORY_NAMES: Record<string, string> = {
  A: 'Anatomy',
  B: 'Organisms',
  C: 'Diseases',
  D: 'Chemicals and Drugs',
  E: 'Analytical, Diagnostic and Therapeutic Techniques, and Equipment',
  F: 'Psychiatry and Psychology',
  G: 'Phenomena and Processes',
  H: 'Disciplines and Occupations',
  I: 'Anthropology, Education, Sociology, and Social Phenomena',
  J: 'Technology, Industry, and Agriculture',
  K: 'Humanities',
  L: 'Information Science',
  M: 'Named Groups',
  N: 'Health Care',
  V: 'Publication Characteristics',
  Z: 'Geographicals',
};

export const BREADCRUMB_SEP = ' › ';

/** Top-level tree positions (MeSH 2024). The reformatted TSVs drop these positions from the descriptors that head
 *  them (Infections = C01 has no tree number there), so they are restored by name when missing. */
export const TOP_LEVEL: Record<string, string> = {
  A01: 'Body Regions',
  A02: 'Musculoskeletal System',
  A03: 'Digestive System',
  A04: 'Respiratory System',
  A05: 'Urogenital System',
  A06: 'Endocrine System',
  A07: 'Cardiovascular System',
  A08: 'Nervous System',
  A09: 'Sense Organs',
  A10: 'Tissues',
  A11: 'Cells',
  A12: 'Fluids and Secretions',
  A13: 'Animal Structures',
  A14: 'Stomatognathic System',
  A15: 'Hemic and Immune Systems',
  A16: 'Embryonic Structures',
  A17: 'Integumentary System',
  A18: 'Plant Structures',
  A19: 'Fungal Structures',
  A20: 'Bacterial Structures',
  A21: 'Viral Structures',
  B01: 'Eukaryota',
  B02: 'Archaea',
  B03: 'Bacteria',
  B04: 'Viruses',
  B05: 'Organism Forms',
  C01: 'Infections',
  C04: 'Neoplasms',
  C05: 'Musculoskeletal Diseases',
  C06: 'Digestive System Diseases',
  C07: 'Stomatognathic Diseases',
  C08: 'Respiratory Tract Diseases',
  C09: 'Otorhinolaryngologic Diseases',
  C10: 'Nervous System Diseases',
  C11: 'Eye Diseases',
  C12: 'Urogenital Diseases',
  C14: 'Cardiovascular Diseases',
  C15: 'Hemic and Lymphatic Diseases',
  C16: 'Congenital, Hereditary, and Neonatal Diseases and Abnormalities',
  C17: 'Skin and Connective Tissue Diseases',
  C18: 'Nutritional and Metabolic Diseases',
  C19: 'Endocrine System Diseases',
  C20: 'Immune System Diseases',
  C21: 'Disorders of Environmental Origin',
  C22: 'Animal Diseases',
  C23: 'Pathological Conditions, Signs and Symptoms',
  C24: 'Occupational Diseases',
  C25: 'Chemically-Induced Disorders',
  C26: 'Wounds and Injuries',
  D01: 'Inorganic Chemicals',
  D02: 'Organic Chemicals',
  D03: 'Heterocyclic Compounds',
  D04: 'Polycyclic Compounds',
  D05: 'Macromolecular Substances',
  D06: 'Hormones, Hormone Substitutes, and Hormone Antagonists',
  D08: 'Enzymes and Coenzymes',
  D09: 'Carbohydrates',
  D10: 'Lipids',
  D12: 'Amino Acids, Peptides, and Proteins',
  D13: 'Nucleic Acids, Nucleotides, and Nucleosides',
  D20: 'Complex Mixtures',
  D23: 'Biological Factors',
  D25: 'Biomedical and Dental Materials',
  D26: 'Pharmaceutical Preparations',
  D27: 'Chemical Actions and Uses',
  E01: 'Diagnosis',
  E02: 'Therapeutics',
  E03: 'Anesthesia and Analgesia',
  E04: 'Surgical Procedures, Operative',
  E05: 'Investigative Techniques',
  E06: 'Dentistry',
  E07: 'Equipment and Supplies',
  F01: 'Behavior and Behavior Mechanisms',
  F02: 'Psychological Phenomena',
  F03: 'Mental Disorders',
  F04: 'Behavioral Disciplines and Activities',
  G01: 'Physical Phenomena',
  G02: 'Chemical Phenomena',
  G03: 'Metabolism',
  G04: 'Cell Physiological Phenomena',
  G05: 'Genetic Phenomena',
  G06: 'Microbiological Phenomena',
  G07: 'Physiological Phenomena',
  G08: 'Reproductive and Urinary Physiological Phenomena',
  G09: 'Circulatory and Respiratory Physiological Phenomena',
  G10: 'Digestive System and Oral Physiological Phenomena',
  G11: 'Musculoskeletal and Neural Physiological Phenomena',
  G12: 'Immune System Phenomena',
  G13: 'Integumentary System Physiological Phenomena',
  G14: 'Ocular Physiological Phenomena',
  G15: 'Plant Physiological Phenomena',
  G16: 'Biological Phenomena',
  G17: 'Mathematical Concepts',
  H01: 'Natural Science Disciplines',
  H02: 'Health Occupations',
  I01: 'Social Sciences',
  I02: 'Education',
  I03: 'Human Activities',
  J01: 'Technology, Industry, and Agriculture',
  J02: 'Food and Beverages',
  J03: 'Non-Medical Public and Private Facilities',
  K01: 'Humanities',
  L01: 'Information Science',
  M01: 'Persons',
  N01: 'Population Characteristics',
  N02: 'Health Care Facilities, Manpower, and Services',
  N03: 'Health Care Economics and Organizations',
  N04: 'Health Services Administration',
  N05: 'Health Care Quality, Access, and Evaluation',
  N06: 'Environment and Public Health',
  V01: 'Publication Components',
  V02: 'Publication Formats',
  V03: 'Study Characteristics',
  V04: 'Support of Research',
  Z01: 'Geographic Locations',
};

export class MeshVocab {
  readonly version: string;
  readonly source: string;
  readonly descriptors: Descriptor[];
  private readonly byUi = new Map<string, Descriptor>();
  private readonly byName = new Map<string, Descriptor>(); // lower-cased names
  private byTerm?: Map<string, Descriptor>; // lower-cased entry terms (built on first use)
  private readonly byTree = new Map<string, Descriptor>();
  private childMap?: Map<string, string[]>; // tree number → child tree numbers

  constructor(data: VocabData) {
    this.version = data.version;
    this.source = data.source;
    this.descriptors = data.descriptors;
    for (const d of data.descriptors) {
      this.byUi.set(d.ui, d);
      this.byName.set(d.name.toLowerCase(), d);
      for (const t of d.treeNumbers) this.byTree.set(t, d);
    }
    const usedTops = new Set<string>();
    for (const tn of this.byTree.keys()) usedTops.add(tn.split('.')[0]!);
    for (const top of usedTops) {
      if (this.byTree.has(top)) continue;
      const d = TOP_LEVEL[top] ? this.byName.get(TOP_LEVEL[top]!.toLowerCase()) : undefined;
      if (d && !d.treeNumbers.some((t) => !t.includes('.'))) {
        d.treeNumbers.push(top);
        this.byTree.set(top, d);
      }
    }
  }

  private termMap(): Map<string, Descriptor> {
    if (!this.byTerm) {
      const m = new Map<string, Descriptor>();
      for (const d of this.descriptors) {
        for (const t of d.terms) {
          const k = t.toLowerCase();
          if (!this.byName.has(k) && !m.has(k)) m.set(k, d);
        }
      }
      this.byTerm = m;
    }
    return this.byTerm;
  }

  get size(): number {
    return this.descriptors.length;
  }

  get(ui: string): Descriptor | undefined {
    return this.byUi.get(ui);
  }

  /** Case-insensitive lookup by descriptor name, then by entry term (old names of renamed descriptors are entry terms). */
  findByName(name: string): Descriptor | undefined {
    const k = name.trim().toLowerCase();
    return this.byName.get(k) ?? this.termMap().get(k);
  }

  /** Descriptor for a heading: its UI when given and known, else its name. */
  resolve(h: { ui?: string; name: string }): Descriptor | undefined {
    return (h.ui ? this.byUi.get(h.ui) : undefined) ?? this.findByName(h.name);
  }

  byTreeNumber(tn: string): Descriptor | undefined {
    return this.byTree.get(tn);
  }

  /** One breadcrumb (list of names, category first) per tree position. */
  breadcrumbs(ui: string): string[][] {
    const d = this.byUi.get(ui);
    if (!d) return [];
    return d.treeNumbers.map((tn) => {
      const out: string[] = [CATEGORY_NAMES[tn[0]!] ?? tn[0]!];
      const parts = tn.split('.');
      for (let i = 1; i <= parts.length; i++) {
        const code = parts.slice(0, i).join('.');
        const anc = this.byTree.get(code);
        out.push(anc ? anc.name : (i === 1 && TOP_LEVEL[code]) || code);
      }
      return out;
    });
  }

  /** Breadcrumbs as display strings: 'Diseases › Infections › … › COVID-19'. */
  breadcrumbStrings(ui: string): string[] {
    return this.breadcrumbs(ui).map((b) => b.join(BREADCRUMB_SEP));
  }

  /** Distinct parent descriptors over all tree positions (top-level positions have none). */
  parents(ui: string): Descriptor[] {
    const d = this.byUi.get(ui);
    if (!d) return [];
    const out = new Map<string, Descriptor>();
    for (const tn of d.treeNumbers) {
      const i = tn.lastIndexOf('.');
      if (i < 0) continue;
      const p = this.byTree.get(tn.slice(0, i));
      if (p) out.set(p.ui, p);
    }
    return [...out.values()];
  }

  /** Distinct child descriptors over all tree positions. */
  children(ui: string): Descriptor[] {
    const d = this.byUi.get(ui);
    if (!d) return [];
    if (!this.childMap) {
      this.childMap = new Map();
      for (const tn of this.byTree.keys()) {
        const i = tn.lastIndexOf('.');
        if (i < 0) continue;
        const p = tn.slice(0, i);
        let l = this.childMap.get(p);
        if (!l) this.childMap.set(p, (l = []));
        l.push(tn);
      }
    }
    const out = new Map<string, Descriptor>();
    for (const tn of d.treeNumbers) {
      for (const c of this.childMap.get(tn) ?? []) {
        const cd = this.byTree.get(c)!;
        out.set(cd.ui, cd);
      }
    }
    return [...out.values()];
  }

  /** Depth of the shallowest tree position (C01 → 1, C01.748 → 2); 0 when the descriptor has no tree number. */
  depth(ui: string): number {
    const d = this.byUi.get(ui);
    if (!d || d.treeNumbers.length === 0) return 0;
    return Math.min(...d.treeNumbers.map((t) => t.split('.').length));
  }

  toData(): VocabData {
    return { version: this.version, source: this.source, descriptors: this.descriptors };
  }
}

export function meshBrowserUrl(ui: string): string {
  return `https://meshb.nlm.nih.gov/record/ui?ui=${encodeURIComponent(ui)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** The shipped vocabulary folder (data/mesh in the project or the installed extension). */
export function shippedVocabDir(): string {
  return path.join(projectRoot(), 'data', 'mesh');
}

/** Where `biohicl mesh import` writes its cache; used by default when present. */
export function importedVocabFile(): string {
  return path.join(biohiclHome(), 'mesh', 'vocab.json.gz');
}

function readMaybeGz(file: string): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read MeSH file ${file}: ${errorText(e)}`);
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: not a valid gzip file (${errorText(e)})`);
    }
  }
  return buf.toString('utf8');
}

/** readMaybeGz off the main thread (file read and inflate in libuv's pool). */
async function readMaybeGzAsync(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    throw new Error(`cannot read MeSH file ${file}: ${(e as Error).message}`);
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = await new Promise<Buffer>((resolve, reject) => zlib.gunzip(buf, (e, b) => (e ? reject(e) : resolve(b))));
    } catch (e) {
      throw new Error(`${file}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return buf.toString('utf8');
}

/** Read the TSV pair (descriptor_ui, name, tree_numbers) + (descriptor_ui, term, preferred). */
export function loadTsvVocab(descriptorsFile: string, termsFile: string, version?: string): MeshVocab {
  const parse = parseTsvVocab(
    descriptorsFile,
    readMaybeGz(descriptorsFile),
    termsFile,
    readMaybeGz(termsFile),
    version,
  );
  for (let r = parse.next(); ; r = parse.next()) if (r.done) return r.value;
}

/** loadTsvVocab in slices of lines, letting the event loop run in between (the same vocabulary). */
export async function loadTsvVocabAsync(
  descriptorsFile: string,
  termsFile: string,
  version?: string,
): Promise<MeshVocab> {
  const [dText, tText] = await Promise.all([readMaybeGzAsync(descriptorsFile), readMaybeGzAsync(termsFile)]);
  const parse = parseTsvVocab(descriptorsFile, dText, termsFile, tText, version);
  for (let r = parse.next(); ; r = parse.next()) {
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The TSV pair's parser: yields every `slice` lines (a caller may let other work run there). */
function* parseTsvVocab(
  descriptorsFile: string,
  dText: string,
  termsFile: string,
  tText: string,
  version?: string,
  slice = 15_000,
): Generator<void, MeshVocab> {
  const descriptors: Descriptor[] = [];
  const byUi = new Map<string, Descriptor>();
  let lineNo = 0;
  for (const line of dText.split('\n')) {
    lineNo++;
    if (lineNo % slice === 0) yield;
    if (lineNo === 1 || line === '') continue;
    const f = line.replace(/\r$/, '').split('\t');
    if (f.length < 2 || !/^[A-Z]\d+$/.test(f[0]!)) {
      throw new Error(
        `${descriptorsFile}: line ${lineNo}: expected 'descriptor_ui<TAB>name<TAB>tree_numbers', got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const d: Descriptor = {
      ui: f[0]!,
      name: f[1]!,
      treeNumbers: f[2] ? f[2].split('|').filter(Boolean) : [],
      terms: [],
    };
    descriptors.push(d);
    byUi.set(d.ui, d);
  }
  lineNo = 0;
  let last: Descriptor | undefined;
  // ~130k lines: tabs found with indexOf, and the previous line's descriptor reused (terms come grouped)
  for (let pos = 0; pos < tText.length;) {
    let nl = tText.indexOf('\n', pos);
    if (nl < 0) nl = tText.length;
    lineNo++;
    if (lineNo % slice === 0) yield;
    const end = nl > pos && tText.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (lineNo > 1 && end > pos) {
      const t1 = tText.indexOf('\t', pos);
      if (t1 < 0 || t1 > end)
        throw new Error(
          `${termsFile}: line ${lineNo}: expected 'descriptor_ui<TAB>term<TAB>preferred', got ${JSON.stringify(tText.slice(pos, Math.min(end, pos + 80)))}`,
        );
      let t2 = tText.indexOf('\t', t1 + 1);
      if (t2 < 0 || t2 > end) t2 = end;
      const ui = tText.slice(pos, t1);
      const d = last && last.ui === ui ? last : byUi.get(ui);
      if (d) {
        last = d;
        const term = tText.slice(t1 + 1, t2);
        if (term !== d.name) d.terms.push(term);
      }
    }
    pos = nl + 1;
  }
  const m = /mesh(\d{4})/i.exec(path.basename(descriptorsFile));
  yield;
  return new MeshVocab({ version: version ?? (m ? `MeSH ${m[1]}` : 'MeSH'), source: descriptorsFile, descriptors });
}

/** Stream NLM's descriptor XML (DescriptorRecordSet; .xml or .xml.gz). Permuted terms are skipped; the preferred
 *  concept's scope note is kept. */
export async function loadDescriptorXml(file: string): Promise<MeshVocab> {
  const descriptors: Descriptor[] = [];
  const parser = new SaxesParser({ position: true });
  const stack: string[] = [];
  let text = '';
  let cur: Descriptor | undefined;
  let conceptPreferred = false;
  let termSkip = false;
  let sawRoot = false;
  let error: Error | undefined;
  const where = () => `line ${parser.line}, column ${parser.column}`;

  parser.on('opentag', (tag) => {
    const name = tag.name;
    if (stack.length === 0) {
      sawRoot = true;
      if (name !== 'DescriptorRecordSet')
        error ??= new Error(
          `${file}: ${where()}: expected <DescriptorRecordSet>, found <${name}> (is this NLM's descYYYY.xml?)`,
        );
    }
    stack.push(name);
    text = '';
    if (name === 'DescriptorRecord') cur = { ui: '', name: '', treeNumbers: [], terms: [] };
    else if (name === 'Concept') conceptPreferred = String(tag.attributes['PreferredConceptYN'] ?? '') === 'Y';
    else if (name === 'Term') termSkip = String(tag.attributes['IsPermutedTermYN'] ?? 'N') === 'Y';
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('cdata', (t) => {
    text += t;
  });
  parser.on('closetag', () => {
    const name = stack.pop()!;
    const parent = stack[stack.length - 1];
    const grand = stack[stack.length - 2];
    if (cur) {
      if (name === 'DescriptorUI' && parent === 'DescriptorRecord') cur.ui = text.trim();
      else if (name === 'String' && parent === 'DescriptorName' && grand === 'DescriptorRecord') cur.name = text.trim();
      else if (name === 'TreeNumber' && parent === 'TreeNumberList') cur.treeNumbers.push(text.trim());
      else if (name === 'ScopeNote' && (parent === 'DescriptorRecord' || (parent === 'Concept' && conceptPreferred))) {
        const s = text.replace(/\s+/g, ' ').trim();
        if (s && !cur.scopeNote) cur.scopeNote = s;
      } else if (name === 'String' && parent === 'Term' && !termSkip) {
        const s = text.trim();
        if (s) cur.terms.push(s);
      } else if (name === 'DescriptorRecord') {
        if (!cur.ui || !cur.name) {
          error ??= new Error(
            `${file}: ${where()}: descriptor record #${descriptors.length + 1} has no DescriptorUI or name`,
          );
        } else {
          const seen = new Set<string>([cur.name]);
          cur.terms = cur.terms.filter((t) => (seen.has(t) ? false : (seen.add(t), true)));
          descriptors.push(cur);
        }
        cur = undefined;
      }
    }
    text = '';
  });
  parser.on('error', (e) => {
    error ??= new Error(
      `${file}: ${where()}: ${e.message.replace(/^[^:]*:\d+:\d+: /, '').replace(/^\d+:\d+: /, '')} (descriptor record #${descriptors.length + 1})`,
    );
  });

  const input = fs.createReadStream(file);
  const gz = /\.gz$/i.test(file) ? input.pipe(zlib.createGunzip()) : undefined;
  const stream: NodeJS.ReadableStream = gz ?? input;
  // a decoding stream: a multi-byte character split across two chunks stays whole
  stream.setEncoding('utf8');
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      parser.write(chunk);
      if (error) break;
    }
    if (!error) parser.close();
  } catch (e) {
    error ??= new Error(`${file}: ${errorText(e)}`);
  } finally {
    input.destroy();
  }
  if (error) throw error;
  if (!sawRoot) throw new Error(`${file}: no XML content`);
  const m = /desc(\d{4})/i.exec(path.basename(file));
  return new MeshVocab({ version: m ? `MeSH ${m[1]}` : 'MeSH (descriptor XML)', source: file, descriptors });
}

/** Write a compact cache (gz JSON) of a vocabulary; written to a temp file then renamed (never a half file). */
export function saveVocabCache(vocab: MeshVocab, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const rows = vocab.descriptors.map((d) =>
    d.scopeNote
      ? [d.ui, d.name, d.treeNumbers.join('|'), d.terms, d.scopeNote]
      : [d.ui, d.name, d.treeNumbers.join('|'), d.terms],
  );
  const json = JSON.stringify({ format: 'biohicl-mesh-vocab/1', version: vocab.version, source: vocab.source, rows });
  fs.writeFileSync(tmp, zlib.gzipSync(Buffer.from(json, 'utf8'), { level: 9 }));
  fs.renameSync(tmp, file);
}

/** A cache written by saveVocabCache: one row per descriptor, [ui, name, tree numbers joined by |, terms, scope note]. */
const VocabCacheSchema = v.object({
  format: v.literal(
    'biohicl-mesh-vocab/1',
    'expected "biohicl-mesh-vocab/1" (a cache written by `biohicl mesh import`)',
  ),
  version: v.optional(v.string()),
  source: v.optional(v.string()),
  rows: v.array(v.tuple([v.string(), v.string(), v.string(), v.array(v.string()), v.optional(v.string())])),
});

export function loadVocabCache(file: string): MeshVocab {
  let text: string;
  try {
    text = readMaybeGz(file);
  } catch (e) {
    throw new Error(`${file}: not a MeSH vocabulary cache (${errorText(e)})`);
  }
  const j = parseJson(text, VocabCacheSchema, file);
  const descriptors = j.rows.map(([ui, name, trees, terms, scopeNote]) => {
    const d: Descriptor = { ui, name, treeNumbers: trees ? trees.split('|') : [], terms };
    if (scopeNote) d.scopeNote = scopeNote;
    return d;
  });
  return new MeshVocab({ version: j.version ?? 'MeSH', source: file, descriptors });
}

const cache = new Map<string, Promise<MeshVocab>>();

/**
 * Load a vocabulary (cached in memory per source). `source` may be a folder holding the TSV pair, a descriptor XML
 * (`descYYYY.xml[.gz]`), or a cache written by saveVocabCache (`*.json.gz`). Default: the imported cache when
 * present (see importedVocabFile), else the shipped MeSH 2024 files.
 */
export function loadVocab(source?: string): Promise<MeshVocab> {
  const src = path.resolve(source ?? (fs.existsSync(importedVocabFile()) ? importedVocabFile() : shippedVocabDir()));
  let p = cache.get(src);
  if (!p) {
    p = loadVocabUncached(src);
    cache.set(src, p);
    p.catch(() => cache.delete(src));
  }
  return p;
}

async function loadVocabUncached(src: string): Promise<MeshVocab> {
  let st: fs.Stats;
  try {
    st = fs.statSync(src);
  } catch {
    throw new Error(`MeSH vocabulary not found: ${src}`);
  }
  if (st.isDirectory()) {
    const files = fs.readdirSync(src);
    const desc = files.find((f) => /descriptors\.tsv(\.gz)?$/i.test(f));
    const terms = files.find((f) => /terms\.tsv(\.gz)?$/i.test(f));
    if (!desc || !terms) throw new Error(`${src}: expected *descriptors.tsv[.gz] and *terms.tsv[.gz]`);
    return loadTsvVocabAsync(path.join(src, desc), path.join(src, terms));
  }
  if (/\.xml(\.gz)?$/i.test(src)) return loadDescriptorXml(src);
  return loadVocabCache(src);
}

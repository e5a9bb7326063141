// Lexical matching of MeSH names and entry terms in free text.
// Terms and text go through the same token normaliser (lower case, diacritics folded, British→American spelling,
// plural → singular, hyphens split), so "Tumours", "tumor" and "tumour" meet; a hash of whole normalised terms plus a
// set of their proper prefixes gives a greedy longest-match scan that is linear in the text (≤ 12 probes per token).
import type { Descriptor, MeshVocab } from './vocab';

export interface Token {
  norm: string; // normalised form
  raw: string; // as written
  start: number; // character offsets in the text
  end: number;
}

export interface TermEntry {
  ui: string;
  term: string; // the MeSH string it came from
  preferred: boolean; // the descriptor name (or its uninverted form)
  caseSensitive: boolean; // an acronym ('AIDS', 'CT'): the text must have it in capitals
  cue?: boolean; // a cue phrase (CUES), not one of the descriptor's own names
}

export interface LexicalMatch {
  ui: string;
  term: string;
  preferred: boolean;
  tokens: number; // length of the match in tokens
  cue: boolean; // matched by a cue phrase
  start: number;
  end: number;
  text: string; // the span as written
}

const IRREGULAR: Record<string, string> = {
  women: 'woman',
  men: 'man',
  children: 'child',
  feet: 'foot',
  teeth: 'tooth',
  mice: 'mouse',
  lice: 'louse',
  geese: 'goose',
  criteria: 'criterion',
  phenomena: 'phenomenon',
  bacteria: 'bacterium',
  data: 'datum',
  diagnoses: 'diagnosis',
  prognoses: 'prognosis',
  analyses: 'analysis',
  metastases: 'metastasis',
  theses: 'thesis',
  hypotheses: 'hypothesis',
  syntheses: 'synthesis',
  stenoses: 'stenosis',
  thromboses: 'thrombosis',
  fungi: 'fungus',
  nuclei: 'nucleus',
  bacilli: 'bacillus',
  stimuli: 'stimulus',
  foci: 'focus',
  emboli: 'embolus',
  vertebrae: 'vertebra',
  larvae: 'larva',
  algae: 'alga',
  indices: 'index',
  appendices: 'appendix',
  matrices: 'matrix',
  apices: 'apex',
  cortices: 'cortex',
  media: 'medium',
  strata: 'stratum',
  ova: 'ovum',
  people: 'person',
  persons: 'person',
  leaves: 'leaf',
  wives: 'wife',
  lives: 'life',
  knives: 'knife',
};

const KEEP_S = /(ss|us|is|ous|sis|xis|ics|ies)$/;

const normCache = new Map<string, string>();

/** Normalise one token (see file comment). Exported for tests. */
export function normToken(raw: string): string {
  let w = normCache.get(raw);
  if (w === undefined) {
    w = normTokenUncached(raw);
    if (normCache.size > 500_000) normCache.clear();
    normCache.set(raw, w);
  }
  return w;
}

function normTokenUncached(raw: string): string {
  let w = raw.toLowerCase();
  if (/[^\x00-\x7f]/.test(w))
    w = w
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/ß/g, 'ss');
  const irr = IRREGULAR[w];
  if (irr) w = irr;
  else if (w.length > 3 && /[a-z]$/.test(w) && !/\d/.test(w)) {
    if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
    else if (/(sses|xes|ches|shes|uses)$/.test(w)) w = w.slice(0, -2);
    else if (w.endsWith('s') && !KEEP_S.test(w)) w = w.slice(0, -1);
  }
  if (w.length > 3 && !/\d/.test(w)) {
    // British → American spelling; applied to both terms and text, so over-normalising only merges forms.
    w = w.replace(/ae/g, 'e').replace(/oe/g, 'e');
    w = w.replace(/our$/, 'or');
    w = w.replace(/([a-z]{2})is(e|ed|ing|ation|ational|er)$/, '$1iz$2');
    w = w.replace(/([a-z])tre$/, '$1ter');
    w = w.replace(/([aeiou])ll(ed|ing|er)$/, '$1l$2');
    w = w.replace(/ogue$/, 'og');
  }
  return w;
}

const TOKEN_RE = /[\p{L}\p{N}]+/gu;

/** Tokenise text into normalised tokens with offsets. A possessive "'s" is dropped; hyphens and slashes split. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m; m = TOKEN_RE.exec(text)) {
    const raw = m[0];
    const start = m.index;
    if ((raw === 's' || raw === 'S') && start > 0 && /['’]/.test(text[start - 1]!)) continue;
    out.push({ norm: normToken(raw), raw, start, end: start + raw.length });
  }
  return out;
}

/** Common English words and vague words: single-token entry terms equal to these are not matched. */
const STOP = new Set(
  `a an and are as at be been but by can could did do does for from had has have he her his how i if in
into is it its may me might more most much must my no nor not of on once one only or our out over own same she should so
some such than that the their them then there these they this those through to too under up very was we were what when
where which while who whom why will with would you your all any both each few other also after before between during
about above against again further here just now off once until use used using well via per within without whether
however yet among across upon either neither rather thus ago already always never often sometimes
man role time rest light play cold set lead iron sex risk form forms type types case cases group groups level levels
change changes effect effects factor factors result results study studies method methods model models method report
reports area areas rate rates test tests control controls function functions process processes program programs
patient patients person people human subject subjects individual population populations family families
life death health care service services system systems support research work needs need value values
practice quality record records review evaluation design science information communication education
age aged old young adult new small large high low long short early late first second third total
male female sexes man woman child boy girl mother father parents infant newborn
size weight height volume length mass area number numbers order base bases
head neck arm arms leg legs hand hands foot back face eye eyes skin heart brain blood bone bones liver lung lungs
cell cells tissue tissues body organ organs
`
    .split(/\s+/)
    .filter(Boolean)
    .map(normToken),
);

/** Terms whose first token is one of these are not matched on their own when they are one token long. */
function isAcronym(term: string): boolean {
  return /^[A-Z0-9][A-Z0-9-]{1,6}$/.test(term) && /[A-Z]/.test(term) && !/^[A-Z][a-z]/.test(term);
}

function termTokens(term: string): string[] {
  const raw = (term.includes("'") || term.includes('’') ? term.replace(/['’]s\b/g, '') : term).match(TOKEN_RE) ?? [];
  return raw.map(normToken);
}

/** "Carcinoma, Non-Small-Cell Lung" → "Non-Small-Cell Lung Carcinoma" (MeSH inverts many names). */
export function uninvert(term: string): string | undefined {
  if (!term.includes(', ')) return undefined;
  const parts = term.split(', ');
  if (parts.length !== 2 || /[()]/.test(term)) return undefined;
  return `${parts[1]} ${parts[0]}`;
}

/** Cue phrases that indexers turn into headings though the text does not use the heading's own words
 *  ("retrospectively" → Retrospective Studies). Their reliability is learned like any term's (see prior.ts). */
export const CUES: [string, string][] = [
  ['retrospective', 'Retrospective Studies'],
  ['retrospectively', 'Retrospective Studies'],
  ['retrospective review', 'Retrospective Studies'],
  ['retrospective analysis', 'Retrospective Studies'],
  ['retrospective study', 'Retrospective Studies'],
  ['medical records', 'Retrospective Studies'],
  ['prospective', 'Prospective Studies'],
  ['prospectively', 'Prospective Studies'],
  ['prospective study', 'Prospective Studies'],
  ['follow-up', 'Follow-Up Studies'],
  ['followed up', 'Follow-Up Studies'],
  ['followed for', 'Follow-Up Studies'],
  ['risk factor', 'Risk Factors'],
  ['risk factors', 'Risk Factors'],
  ['predictors', 'Risk Factors'],
  ['outcome', 'Treatment Outcome'],
  ['outcomes', 'Treatment Outcome'],
  ['efficacy', 'Treatment Outcome'],
  ['effectiveness', 'Treatment Outcome'],
  ['sensitivity', 'Sensitivity and Specificity'],
  ['specificity', 'Sensitivity and Specificity'],
  ['predictive value', 'Predictive Value of Tests'],
  ['positive predictive value', 'Predictive Value of Tests'],
  ['negative predictive value', 'Predictive Value of Tests'],
  ['reproducibility', 'Reproducibility of Results'],
  ['reliability', 'Reproducibility of Results'],
  ['interobserver', 'Observer Variation'],
  ['inter-observer', 'Observer Variation'],
  ['intraobserver', 'Observer Variation'],
  ['agreement', 'Reproducibility of Results'],
  ['cross-sectional', 'Cross-Sectional Studies'],
  ['case-control', 'Case-Control Studies'],
  ['cohort', 'Cohort Studies'],
  ['questionnaire', 'Surveys and Questionnaires'],
  ['questionnaires', 'Surveys and Questionnaires'],
  ['survey', 'Surveys and Questionnaires'],
  ['CT', 'Tomography, X-Ray Computed'],
  ['computed tomography', 'Tomography, X-Ray Computed'],
  ['CT scan', 'Tomography, X-Ray Computed'],
  ['MRI', 'Magnetic Resonance Imaging'],
  ['magnetic resonance', 'Magnetic Resonance Imaging'],
  ['severity', 'Severity of Illness Index'],
  ['severe', 'Severity of Illness Index'],
  ['prognostic', 'Prognosis'],
  ['prognosis', 'Prognosis'],
  ['time', 'Time Factors'],
  ['duration', 'Time Factors'],
  ['timing', 'Time Factors'],
  ['age', 'Age Factors'],
  ['older age', 'Age Factors'],
  ['sex', 'Sex Factors'],
  ['gender', 'Sex Factors'],
  ['complications', 'Postoperative Complications'],
  ['postoperative complications', 'Postoperative Complications'],
  ['postoperative', 'Postoperative Complications'],
  ['risk assessment', 'Risk Assessment'],
  ['risk', 'Risk Assessment'],
  ['logistic regression', 'Logistic Models'],
  ['multivariate', 'Multivariate Analysis'],
  ['multivariable', 'Multivariate Analysis'],
  ['odds ratio', 'Odds Ratio'],
  ['odds ratios', 'Odds Ratio'],
  ['acute', 'Acute Disease'],
  ['chronic', 'Chronic Disease'],
  ['differential diagnosis', 'Diagnosis, Differential'],
  ['combined', 'Combined Modality Therapy'],
  ['combination', 'Combined Modality Therapy'],
  ['knowledge', 'Health Knowledge, Attitudes, Practice'],
  ['attitudes', 'Health Knowledge, Attitudes, Practice'],
  ['US', 'United States'],
  ['USA', 'United States'],
  ['American', 'United States'],
  ['incidence', 'Incidence'],
  ['prevalence', 'Prevalence'],
  ['survival', 'Survival Rate'],
  ['survival rate', 'Survival Rate'],
  ['length of stay', 'Length of Stay'],
  ['hospital stay', 'Length of Stay'],
  ['recurrence', 'Recurrence'],
  ['recurrent', 'Recurrence'],
  ['randomized', 'Randomized Controlled Trials as Topic'],
  ['randomised', 'Randomized Controlled Trials as Topic'],
  ['double-blind', 'Double-Blind Method'],
  ['placebo', 'Double-Blind Method'],
  ['pilot', 'Pilot Projects'],
  ['staging', 'Neoplasm Staging'],
  ['stage', 'Neoplasm Staging'],
  ['tumor stage', 'Neoplasm Staging'],
  ['invasion', 'Neoplasm Invasiveness'],
  ['metastasis', 'Neoplasm Metastasis'],
  ['metastases', 'Neoplasm Metastasis'],
  ['metastatic', 'Neoplasm Metastasis'],
  ['disease progression', 'Disease Progression'],
  ['progression', 'Disease Progression'],
  ['biomarker', 'Biomarkers'],
  ['biomarkers', 'Biomarkers'],
  ['marker', 'Biomarkers'],
  ['statistical', 'Statistics, Nonparametric'],
  ['mann-whitney', 'Statistics, Nonparametric'],
  ['wilcoxon', 'Statistics, Nonparametric'],
  ['ROC curve', 'ROC Curve'],
  ['receiver operating characteristic', 'ROC Curve'],
  ['area under the curve', 'Area Under Curve'],
  ['AUC', 'Area Under Curve'],
  ['quality of life', 'Quality of Life'],
  ['cost', 'Cost-Benefit Analysis'],
  ['cost-effectiveness', 'Cost-Benefit Analysis'],
  ['mortality', 'Hospital Mortality'],
  ['in-hospital mortality', 'Hospital Mortality'],
  ['hospital mortality', 'Hospital Mortality'],
  ['referral', 'Referral and Consultation'],
  ['guidelines', 'Practice Guidelines as Topic'],
  ['guideline', 'Practice Guidelines as Topic'],
  ['dose', 'Dose-Response Relationship, Drug'],
  ['doses', 'Dose-Response Relationship, Drug'],
  ['rats', 'Rats'],
  ['rat', 'Rats'],
  ['mice', 'Mice'],
  ['mouse', 'Mice'],
];

export interface MatcherOptions {
  /** Skip entry terms of one token shorter than this (after normalisation); acronyms are kept (case-sensitive). */
  minSingleTokenLength?: number;
  /** Also match the non-preferred entry terms (default true). */
  entryTerms?: boolean;
  /** Also match the cue phrases of CUES (default true). */
  cues?: boolean;
}

export class LexicalMatcher {
  // A token trie over interned token ids (small integers): a node's children are a flat [token, child, …] array,
  // turned into a Map once it has many, so building and matching never hash freshly joined strings.
  private readonly tokenIds = new Map<string, number>();
  private readonly kids: (number[] | Map<number, number> | undefined)[] = [undefined];
  private readonly entries: (TermEntry[] | undefined)[] = [undefined]; // per node; node 0 is the root
  private maxTokens = 1;
  private n = 0;

  constructor(
    readonly vocab: MeshVocab,
    private readonly opts: MatcherOptions = {},
    /** internal (LexicalMatcher.build): leave the trie empty, to be filled in slices */
    empty = false,
  ) {
    if (!empty) {
      this.addDescriptors(0, vocab.descriptors.length);
      this.addCues();
    }
  }

  /** Names, entry terms and cues in the trie. */
  get termCount(): number {
    return this.n;
  }

  /**
   * The same matcher as the constructor makes, built in slices of `slice` descriptors with the event loop let run in
   * between (an editor's extension host stays responsive while the ~160k names and entry terms go in).
   */
  static async build(vocab: MeshVocab, opts: MatcherOptions = {}, slice = 1500): Promise<LexicalMatcher> {
    const m = new LexicalMatcher(vocab, opts, true);
    const all = vocab.descriptors.length;
    for (let i = 0; i < all; i += slice) {
      m.addDescriptors(i, Math.min(all, i + slice));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    m.addCues();
    return m;
  }

  private addDescriptors(from: number, to: number): void {
    const minLen = this.opts.minSingleTokenLength ?? 3;
    const ds = this.vocab.descriptors;
    for (let i = from; i < to; i++) this.n += this.addDescriptor(ds[i]!, minLen, this.opts.entryTerms ?? true);
  }

  private addCues(): void {
    if (this.opts.cues === false) return;
    for (const [phrase, name] of CUES) {
      const d = this.vocab.findByName(name);
      if (!d) continue;
      const toks = termTokens(phrase);
      const caseSensitive = isAcronym(phrase);
      // a cue never displaces a real name or entry term with the same words
      if (this.lookup(toks)?.some((e) => !e.caseSensitive || caseSensitive)) continue;
      this.add(toks, { ui: d.ui, term: phrase, preferred: false, caseSensitive, cue: true });
      this.n++;
    }
  }

  private addDescriptor(d: Descriptor, minLen: number, entryTerms: boolean): number {
    let n = 0;
    const forms: [string, boolean][] = [[d.name, true]];
    const un = uninvert(d.name);
    if (un) forms.push([un, true]);
    if (entryTerms) {
      for (const t of d.terms) {
        forms.push([t, false]);
        const u = uninvert(t);
        if (u) forms.push([u, false]);
      }
    }
    for (const [term, preferred] of forms) {
      if (term.length > 120) continue; // chemical systematic names: never written in prose that way
      const caseSensitive = isAcronym(term);
      const toks = termTokens(term);
      if (toks.length === 0) continue;
      if (toks.length === 1 && !caseSensitive && (STOP.has(toks[0]!) || (toks[0]!.length < minLen && !preferred)))
        continue;
      this.add(toks, { ui: d.ui, term, preferred, caseSensitive });
      n++;
      // hyphenated compounds also match written as one word: "Anti-Bacterial Agents" ~ "antibacterial agents"
      if (/[a-z]-[a-z]/i.test(term)) {
        const joined = termTokens(term.replace(/([a-z])-([a-z])/gi, '$1$2'));
        if (joined.join(' ') !== toks.join(' ')) this.add(joined, { ui: d.ui, term, preferred, caseSensitive });
      }
    }
    return n;
  }

  private lookup(toks: string[]): TermEntry[] | undefined {
    let node = 0;
    for (const t of toks) {
      const id = this.tokenIds.get(t);
      const next = id === undefined ? undefined : this.child(node, id);
      if (next === undefined) return undefined;
      node = next;
    }
    return this.entries[node];
  }

  private child(node: number, id: number): number | undefined {
    const k = this.kids[node];
    if (k === undefined) return undefined;
    if (k instanceof Map) return k.get(id);
    for (let i = 0; i < k.length; i += 2) if (k[i] === id) return k[i + 1];
    return undefined;
  }

  private add(toks: string[], e: TermEntry): void {
    let node = 0;
    for (const t of toks) {
      let id = this.tokenIds.get(t);
      if (id === undefined) {
        this.tokenIds.set(t, (id = this.tokenIds.size));
      }
      let next = this.child(node, id);
      if (next === undefined) {
        next = this.entries.length;
        this.entries.push(undefined);
        this.kids.push(undefined);
        const k = this.kids[node];
        if (k === undefined) this.kids[node] = [id, next];
        else if (k instanceof Map) k.set(id, next);
        else if (k.length < 16) k.push(id, next);
        else {
          const m = new Map<number, number>();
          for (let i = 0; i < k.length; i += 2) m.set(k[i]!, k[i + 1]!);
          m.set(id, next);
          this.kids[node] = m;
        }
      }
      node = next;
    }
    let l = this.entries[node];
    if (!l) this.entries[node] = l = [];
    else if (l.some((x) => x.ui === e.ui && x.caseSensitive === e.caseSensitive)) return;
    l.push(e);
    if (toks.length > this.maxTokens) this.maxTokens = toks.length;
  }

  /** Greedy left-to-right longest match over the text's tokens. */
  match(text: string, tokens: Token[] = tokenize(text)): LexicalMatch[] {
    const out: LexicalMatch[] = [];
    const ids = tokens.map((t) => this.tokenIds.get(t.norm));
    let i = 0;
    while (i < tokens.length) {
      let best: { j: number; entries: TermEntry[] } | undefined;
      let node = 0;
      for (let j = i; j < tokens.length && j - i < this.maxTokens; j++) {
        const id = ids[j];
        const next = id === undefined ? undefined : this.child(node, id);
        if (next === undefined) break;
        node = next;
        const entries = this.entries[node];
        if (entries) {
          const ok = entries.filter((e) => !e.caseSensitive || caseOk(e.term, tokens, i, j));
          if (ok.length) best = { j, entries: ok };
        }
      }
      if (best) {
        const start = tokens[i]!.start;
        const end = tokens[best.j]!.end;
        for (const e of best.entries) {
          out.push({
            ui: e.ui,
            term: e.term,
            preferred: e.preferred,
            tokens: best.j - i + 1,
            cue: !!e.cue,
            start,
            end,
            text: text.slice(start, end),
          });
        }
        i = best.j + 1;
      } else {
        i++;
      }
    }
    return out;
  }
}

function caseOk(term: string, tokens: Token[], i: number, j: number): boolean {
  // written exactly as the acronym is (capitals, no plural folding: 'AIDS' is not 'AID')
  const raw = term.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (raw.length !== j - i + 1) return false;
  for (let k = i; k <= j; k++) if (tokens[k]!.raw !== raw[k - i]) return false;
  return true;
}

const matcherCache = new WeakMap<MeshVocab, LexicalMatcher>();
const building = new WeakMap<MeshVocab, Promise<LexicalMatcher>>();

/** The default matcher of a vocabulary (built once, ~1 s for MeSH's ~160k names and entry terms). */
export function matcherFor(vocab: MeshVocab): LexicalMatcher {
  let m = matcherCache.get(vocab);
  if (!m) matcherCache.set(vocab, (m = new LexicalMatcher(vocab)));
  return m;
}

/** matcherFor, built in slices that let the event loop run (LexicalMatcher.build); the same cached matcher. */
export function matcherForAsync(vocab: MeshVocab): Promise<LexicalMatcher> {
  const have = matcherCache.get(vocab);
  if (have) return Promise.resolve(have);
  let p = building.get(vocab);
  if (!p) {
    p = LexicalMatcher.build(vocab).then((m) => {
      const won = matcherCache.get(vocab) ?? m; // a synchronous matcherFor in between made one: keep that one
      matcherCache.set(vocab, won);
      building.delete(vocab);
      return won;
    });
    building.set(vocab, p);
  }
  return p;
}

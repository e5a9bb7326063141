// Sentence splitting for biomedical prose, with character offsets into the original text.
//
// The boundary decisions come from `sbd` (rule-based sentence boundary detection, MIT) given an abbreviation list
// extended with the abbreviations of scientific writing (approx., ca., cf., sp., nov., Suppl., …). `sbd` returns
// whitespace-normalised strings, so each sentence is aligned back onto the input by walking non-whitespace
// characters; `text === input.slice(start, end)` always holds. On top of sbd: a genus/initial rule ("E. coli"),
// token-internal splits undone, and structured-abstract labels ("RESULTS:") reported as `label` and kept out of the sentence span.
import * as sbd from 'sbd';

export interface Sentence {
  /** The sentence exactly as in the input: `input.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  /** A structured-abstract label that preceded the sentence ("BACKGROUND", "Methods"), not part of `text`. */
  label?: string;
}

// sbd's own English list (it replaces, not extends, its list when one is passed) plus scientific abbreviations that
// practically never end a sentence ('etc', 'min', 'spp', 'No' often do, so they are left out).
const ABBREVIATIONS = [
  'al',
  'adj',
  'assn',
  'Ave',
  'BSc',
  'MSc',
  'Cell',
  'Ch',
  'Co',
  'cc',
  'Corp',
  'Dem',
  'Dept',
  'ed',
  'eg',
  'Eq',
  'Eqs',
  'est',
  'Ex',
  'ext',
  'Fig',
  'fig',
  'Figs',
  'figs',
  'i.e',
  'ie',
  'Inc',
  'inc',
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Sept',
  'Oct',
  'Nov',
  'Dec',
  'jr',
  'mi',
  'Miss',
  'Mrs',
  'Mr',
  'Ms',
  'Mol',
  'mt',
  'mts',
  'no',
  'Nos',
  'PhD',
  'MD',
  'BA',
  'MA',
  'MM',
  'pl',
  'pop',
  'pp',
  'Prof',
  'Dr',
  'pt',
  'Ref',
  'Refs',
  'Rep',
  'repr',
  'rev',
  'Sec',
  'Secs',
  'Sgt',
  'Col',
  'Gen',
  'Sen',
  'Gov',
  'Lt',
  'Maj',
  'Capt',
  'St',
  'Sr',
  'sr',
  'Jr',
  'Rev',
  'trans',
  'Univ',
  'Viz',
  'viz',
  'Vol',
  'vol',
  'vs',
  'v',
  // scientific writing
  'approx',
  'Approx',
  'ca',
  'cf',
  'Cf',
  'sp',
  'subsp',
  'nov',
  'var',
  'cv',
  'Suppl',
  'suppl',
  'Tab',
  'Tabs',
  'Eqn',
  'Eqns',
  'Ch',
  'Chap',
  'ibid',
  'Ibid',
  'resp',
  'Nr',
  'nr',
  'Inst',
  'Res',
  'Dis',
  'J',
  'Proc',
  'Natl',
  'Acad',
  'Sci',
  'Biol',
  'Med',
  'Chem',
  'Exp',
  'et',
];

const LABEL = /^([A-Z][A-Za-z]*(?:[ &/,-]+[A-Za-z]+){0,5}):\s+/;
const LABEL_WORDS =
  /^(?:[A-Z][A-Z &/,-]+|Background|Objectives?|Aims?|Purpose|Introduction|Methods?|Materials and Methods|Design|Setting|Participants|Patients|Interventions?|Measurements?|Main Outcome Measures?|Results?|Findings|Conclusions?|Interpretation|Significance|Context|Importance|Limitations|Discussion|Summary|Trial Registration|Funding|Evidence Acquisition|Evidence Synthesis|Data Sources|Study Selection|Data Extraction|Case Presentation|Case Report)$/;

const isSpace = (c: string): boolean => /\s/.test(c);

/**
 * Blocks that no sentence crosses: paragraphs (blank lines), list items and structured-abstract labels or markdown
 * headings that start a line. A single line break inside a paragraph (hard-wrapped manuscripts) is plain whitespace.
 */
function blocks(input: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const lines: Array<[number, number]> = [];
  for (let i = 0, s0 = 0; i <= input.length; i++) {
    if (i === input.length || input[i] === '\n') {
      lines.push([s0, i]);
      s0 = i + 1;
    }
  }
  const startsBlock = (l: string): boolean =>
    /^\s*(?:\d{1,3}[.)]|\(\w{1,3}\)|[-*•–]|#{1,6})\s/.test(l) || /^\s*[A-Z][A-Z &/-]{2,40}:/.test(l);
  let cur: [number, number] | null = null;
  let prevLine = '';
  for (const [a, b] of lines) {
    const line = input.slice(a, b);
    const blank = !line.trim();
    if (blank) {
      if (cur) out.push(cur);
      cur = null;
    } else if (!cur || startsBlock(line) || /^\s*#/.test(prevLine)) {
      if (cur) out.push(cur);
      cur = [a, b];
    } else {
      cur[1] = b;
    }
    prevLine = blank ? '' : line;
  }
  if (cur) out.push(cur);
  return out;
}

/** Split `input` into sentences with exact character offsets. Empty or whitespace-only input gives []. */
export function splitSentences(input: string): Sentence[] {
  if (!input.trim()) return [];
  const spans: Array<[number, number]> = [];
  for (const [b0, b1] of blocks(input)) spans.push(...sbdSpans(input, b0, b1));
  return finish(input, spans);
}

/** sbd on input[from, to), each sentence aligned back onto the input (non-whitespace characters walked in order). */
function sbdSpans(input: string, from: number, to: number): Array<[number, number]> {
  const raw = sbd.sentences(input.slice(from, to), {
    newline_boundaries: false,
    abbreviations: ABBREVIATIONS,
    sanitize: false,
  });
  const spans: Array<[number, number]> = [];
  let pos = from;
  for (const s of raw) {
    const chars = [...s].filter((c) => !isSpace(c));
    if (chars.length === 0) continue;
    let start = -1;
    let i = pos;
    let k = 0;
    while (i < to && k < chars.length) {
      const ch = String.fromCodePoint(input.codePointAt(i)!);
      if (isSpace(ch)) {
        i += ch.length;
        continue;
      }
      if (ch !== chars[k]) {
        // sbd drops the '.' where it splits a token like "BALB.B" (its "concatenated sentence" rule); skip input
        // characters it did not return. The token-internal split itself is undone in finish().
        i += ch.length;
        continue;
      }
      if (start < 0) start = i;
      i += ch.length;
      k++;
    }
    if (start < 0) break;
    spans.push([start, i]);
    pos = i;
  }
  if (spans.length && pos < to && input.slice(pos, to).trim()) spans[spans.length - 1]![1] = to; // nothing dropped at the end
  return spans;
}

function finish(input: string, spans: Array<[number, number]>): Sentence[] {
  // Genus abbreviations and initials: "E. coli", "S. aureus" — a sentence ending in a lone capital + '.' followed
  // by one starting in lower case is one sentence.
  const merged: Array<[number, number]> = [];
  for (const sp of spans) {
    const prev = merged[merged.length - 1];
    if (prev) {
      const prevText = input.slice(prev[0], prev[1]);
      const next = input.slice(sp[0], sp[1]);
      const gap = input.slice(prev[1], sp[0]);
      const genus = !gap.includes('\n') && /(?:^|[\s(])[A-Z]\.$/.test(prevText) && /^[a-z]/.test(next);
      // sbd splits "word.Word" inside one token ("BALB.B", "S.aureus"); a boundary with no whitespace is no boundary.
      const inToken = !/\s/.test(gap);
      if (genus || inToken) {
        prev[1] = sp[1];
        continue;
      }
    }
    merged.push([sp[0], sp[1]]);
  }

  const out: Sentence[] = [];
  for (const [s0, end] of merged) {
    let start = s0;
    let label: string | undefined;
    const m = LABEL.exec(input.slice(start, end));
    if (m && LABEL_WORDS.test(m[1]!) && m[0].length < end - start) {
      label = m[1]!;
      start += m[0].length;
    }
    // Trim trailing whitespace (sbd never includes it, but a merged span may end on it).
    let e = end;
    while (e > start && isSpace(input[e - 1]!)) e--;
    if (e <= start) continue;
    const sent: Sentence = { text: input.slice(start, e), start, end: e };
    if (label) sent.label = label;
    out.push(sent);
  }
  return out;
}

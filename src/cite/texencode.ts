// Text → BibTeX field values, in the encoding the document's toolchain reads. The character tables are Better BibTeX's
// own (`unicode2latex`), not a hand-made list:
// - 'latex': everything outside ASCII as LaTeX (`\"u`, `{$\beta$}`, `\textmu`) — classic BibTeX with pdflatex;
// - 'utf8': Unicode kept, only LaTeX's specials escaped (`\&`, `\%`, `\_`, …) — xelatex/lualatex, and pandoc;
// - 'utf8-latin': for biber with pdflatex. biber reads UTF-8, but it writes it on into the .bbl that pdflatex reads,
//   and pdflatex has no glyphs for β (`! LaTeX Error: Unicode character β (U+03B2) not set up`, seen with biber 2.18):
//   Latin letters stay UTF-8, the rest (Greek, math, symbols) is written as LaTeX.
// unicode2latex ships a broken CommonJS build, so its ES module is loaded with import() (once; `loadTexEncoder`).

export type TexEncoding = 'latex' | 'utf8' | 'utf8-latin';

interface Transform {
  tolatex(text: string, options?: { bracemath?: boolean; packages?: Set<string> }): string;
}
interface U2L {
  Transform: new (
    mode: 'minimal' | 'biblatex' | 'bibtex' | 'bibtex-creator',
    options?: Record<string, unknown>,
  ) => Transform;
}

let loaded: Promise<TexEncoder> | undefined;

export interface Encoded {
  text: string;
  /** characters left as they were because no LaTeX form is known (e.g. CJK) */ unencodable: string[];
}

/** Consecutive characters grouped by a predicate. */
function runsBy(s: string, keep: (ch: string) => boolean): { text: string; keep: boolean }[] {
  const out: { text: string; keep: boolean }[] = [];
  for (const ch of s) {
    const k = keep(ch);
    const last = out[out.length - 1];
    if (last && last.keep === k) last.text += ch;
    else out.push({ text: ch, keep: k });
  }
  return out;
}

/** An accent over a letter, or one of LaTeX's own letters (\l, \oe, \ng, …): what LaTeX's UTF-8 input defines. */
const COMPOSED =
  /^\{?\\(?:[`'^"~=.uvHckbdrt]\s*\{?(?:[A-Za-z]|\\[ij])\}?|l|L|i|j|oe|OE|ng|NG|dj|DJ|DH|dh|ij|IJ|o|O|ss|ae|AE|aa|AA|th|TH)\b\s*\}?$/;

export class TexEncoder {
  private readonly keep = new Map<string, boolean>();
  private readonly ascii: Transform;
  private readonly creator: Transform;
  private readonly minimal: Transform;
  constructor(u2l: U2L) {
    this.ascii = new u2l.Transform('bibtex');
    // names: accented letters braced ({\'E}mile), so BibTeX abbreviates and sorts them as one letter
    this.creator = new u2l.Transform('bibtex-creator');
    this.minimal = new u2l.Transform('minimal');
  }

  /**
   * Whether pdflatex (LaTeX's default UTF-8 input, no extra packages) typesets this character as it is: ASCII and
   * Latin-1, and the Latin Extended-A letters LaTeX composes from an accent and a letter (ğ, ł, ő, ž; not ħ or ŀ).
   * Measured on TeX Live 2022 by typesetting U+00A1–U+024F and U+1E00–U+1EFF one by one; beyond U+017F most such
   * letters are not defined, so they are encoded.
   */
  private keepForPdflatex(ch: string): boolean {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 0xff) return true;
    if (c > 0x17f) return false;
    let k = this.keep.get(ch);
    if (k === undefined) {
      k = COMPOSED.test(this.ascii.tolatex(`${ch}x`).slice(0, -1).trim());
      this.keep.set(ch, k);
    }
    return k;
  }

  /** `name`: a person's name part (the BibTeX name flavour of the tables). */
  encode(text: string, encoding: TexEncoding, kind: 'text' | 'name' = 'text'): Encoded {
    const s = text.normalize('NFC').replace(/\s+/g, ' ').trim();
    const full = kind === 'name' ? this.creator : this.ascii;
    let out: string;
    if (encoding === 'latex') out = full.tolatex(s, { bracemath: true });
    else if (encoding === 'utf8') out = this.minimal.tolatex(s, { bracemath: true });
    else {
      // runs of characters pdflatex reads as UTF-8 through the minimal table, runs of the others through the full one
      out = '';
      for (const run of runsBy(s, (ch) => this.keepForPdflatex(ch))) {
        const t = run.keep
          ? this.minimal.tolatex(run.text, { bracemath: true })
          : full.tolatex(run.text, { bracemath: true });
        // a control word at the end of a run must not swallow the letters of the next one (\textmu + m)
        out += !run.keep && /\\[A-Za-z]+$/.test(t) ? `${t}{}` : t;
      }
    }
    const unencodable =
      encoding === 'utf8'
        ? []
        : [
            ...new Set(
              [...out].filter((ch) => ch.charCodeAt(0) > 0x7f && (encoding === 'latex' || !this.keepForPdflatex(ch))),
            ),
          ];
    return { text: out, unencodable };
  }
}

/** The encoder (loads unicode2latex on first use). */
export function loadTexEncoder(): Promise<TexEncoder> {
  if (!loaded) {
    loaded = import('unicode2latex').then((m) => new TexEncoder(m as unknown as U2L));
    loaded.catch(() => {
      loaded = undefined;
    });
  }
  return loaded;
}

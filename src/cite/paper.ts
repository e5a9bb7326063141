// The paper metadata a citation needs. Pure module (no `vscode`): unit-tested in Node.

export interface PaperMeta {
  pmid: string;
  title: string;
  /** 'Lastname Initials' as PubMed gives them (e.g. 'Smith JA'); collective names as given. */
  authors: string[];
  journal: string;
  year?: number;
  doi?: string;
  abstract?: string;
}

export interface PersonName { family: string; given?: string; literal?: string }

/** 'Smith JA' → {family:'Smith', given:'J. A.'}; 'van der Berg AB' keeps the particle; a group name stays literal. */
export function splitAuthor(a: string): PersonName {
  const s = a.trim();
  const m = /^(.+?)\s+([A-Z\u00C0-\u024F]{1,4})$/u.exec(s);
  if (m && m[1] && m[2]) return { family: m[1], given: m[2].split('').map((c) => `${c}.`).join(' ') };
  if (/\s/.test(s)) return { family: s, literal: s };   // no initials: a collective name
  return { family: s };
}

/** Canonical DOI for comparisons: lower case, no resolver prefix. */
export function normDoi(doi: string | undefined): string | undefined {
  if (!doi) return undefined;
  const d = doi.trim().replace(/^https?:\/\/(dx\.)?doi\.org\//i, '').replace(/^doi:\s*/i, '').toLowerCase();
  return d || undefined;
}

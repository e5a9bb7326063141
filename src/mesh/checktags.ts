// MeSH check tags (Humans, Animals, sex, age groups, Pregnancy): indexers add them to nearly every citation, but
// the text rarely names them ("72 women aged 50 to 69" → Humans, Female, Middle Aged, Aged). This module reads the
// cues a paragraph gives (population words, sex words, ages in years and their ranges) into per-tag text scores.

export const CHECK_TAGS = [
  'Humans',
  'Animals',
  'Male',
  'Female',
  'Pregnancy',
  'Infant, Newborn',
  'Infant',
  'Child, Preschool',
  'Child',
  'Adolescent',
  'Young Adult',
  'Adult',
  'Middle Aged',
  'Aged',
  'Aged, 80 and over',
] as const;
export type CheckTag = (typeof CHECK_TAGS)[number];

const CHECK_SET = new Set<string>(CHECK_TAGS.map((t) => t.toLowerCase()));
export function isCheckTag(name: string): boolean {
  return CHECK_SET.has(name.toLowerCase());
}

export interface TagCue {
  score: number;
  spans: { start: number; end: number; text: string }[];
}

/** Age bands of MeSH's age check tags, in years (upper bound exclusive). */
const AGE_BANDS: [CheckTag, number, number][] = [
  ['Infant, Newborn', 0, 1 / 12],
  ['Infant', 1 / 12, 2],
  ['Child, Preschool', 2, 6],
  ['Child', 6, 13],
  ['Adolescent', 13, 19],
  ['Young Adult', 19, 25],
  ['Adult', 19, 45],
  ['Middle Aged', 45, 65],
  ['Aged', 65, 80],
  ['Aged, 80 and over', 80, 130],
];

const WORDS: [RegExp, Partial<Record<CheckTag, number>>][] = [
  [
    /\b(wom[ae]n|m[ae]n|girls?|boys?|child(ren)?|infants?|adolescents?|mothers?|fathers?|patients?|participants?|volunteers?|subjects?|individuals?|persons?|people|respondents?|outpatients?|inpatients?|cases|adults?|twins?|nurses?|physicians?|surgeons?|students?|residents?|clinicians?|doctors?|survivors?|smokers?|veterans?|athletes?|employees?|workers?|caregivers?|population-based|cohort|questionnaires?|interviews?|surveys?|clinical|hospital|human)\b/gi,
    { Humans: 0.9 },
  ],
  [
    /\b(wom[ae]n|females?|girls?|mothers?|maternal|wives|pregnan(t|cy|cies)|gravid|postpartum|obstetric\w*|ovar(y|ian)|uter(us|ine)|cervical cancer|breast cancer|mammogra\w+|endometri\w+|menopaus\w+|gynecolog\w+|gynaecolog\w+|preeclampsia|cesarean|caesarean)\b/gi,
    { Female: 0.85 },
  ],
  [
    /\b(m[ae]n|males?|boys?|fathers?|paternal|husbands?|prostat\w+|testi(s|cular|cle)|erectile|penile|scrot\w+)\b/gi,
    { Male: 0.85 },
  ],
  [/\b(sex|gender|both sexes|M\s*\/\s*F|F\s*\/\s*M)\b/g, { Male: 0.6, Female: 0.6 }],
  [
    /\b(pregnan(t|cy|cies)|gestation(al)?|trimester|antenatal|prenatal|parturition|labou?r induction|deliver(y|ies)|preterm birth|fetus|fetal|foetal)\b/gi,
    { Pregnancy: 0.8, Female: 0.85 },
  ],
  [/\b(newborns?|neonat\w+|preterm infants?|birth weight|NICU)\b/gi, { 'Infant, Newborn': 0.8, Humans: 0.9 }],
  [/\b(infants?|infancy|toddlers?)\b/gi, { Infant: 0.75, Humans: 0.9 }],
  [/\b(preschool\w*|pre-school\w*|kindergarten)\b/gi, { 'Child, Preschool': 0.75, Humans: 0.9 }],
  [/\b(child(ren|hood)?|pediatric|paediatric|school-?age\w*|kids?)\b/gi, { Child: 0.75, Humans: 0.9 }],
  [/\b(adolescen\w+|teenage\w*|teens?|youths?|juvenile|high school)\b/gi, { Adolescent: 0.75, Humans: 0.9 }],
  [/\b(young adults?|college students?|university students?)\b/gi, { 'Young Adult': 0.7, Adult: 0.6 }],
  [/\b(adults?)\b/gi, { Adult: 0.6 }],
  [/\b(middle-aged)\b/gi, { 'Middle Aged': 0.75 }],
  [
    /\b(elderly|older (adults?|patients?|people|persons?|women|men)|geriatric|aged (patients?|people|persons?)|nursing homes?|octogenarians?|nonagenarians?|centenarians?)\b/gi,
    { Aged: 0.75 },
  ],
  [/\b(octogenarians?|nonagenarians?|centenarians?|oldest old|very old)\b/gi, { 'Aged, 80 and over': 0.75 }],
  [
    /\b(rats?|mice|mouse|murine|rodents?|dogs?|canine|cats?|feline|pigs?|porcine|swine|piglets?|rabbits?|sheep|ovine|cattle|bovine|cows?|calves|horses?|equine|monkeys?|primates?|macaques?|hamsters?|guinea pigs?|zebrafish|animals?|in vivo|chickens?|poultry|broilers?|goats?)\b/gi,
    { Animals: 0.85 },
  ],
];

function add(out: Map<CheckTag, TagCue>, tag: CheckTag, score: number, start: number, end: number, text: string): void {
  let c = out.get(tag);
  if (!c) out.set(tag, (c = { score: 0, spans: [] }));
  c.score = 1 - (1 - c.score) * (1 - score * (c.spans.length ? 0.5 : 1)); // repeated cues add less
  if (c.spans.length < 5) c.spans.push({ start, end, text: text.slice(start, end) });
}

const NUM = String.raw`(\d{1,3}(?:\.\d+)?)`;
// "aged 50 to 69", "age range 18-65 years", "between 20 and 40 years", "18–65 years old"
const RANGE_RE = new RegExp(
  String.raw`\b(?:(aged?|ages|age range|age(?:d)? between)|between|from)?\s*(?:of\s+)?${NUM}\s*(?:-|–|—|to|and)\s*${NUM}\s*(years?|yrs?|y|months?|mo|weeks?|wk|days?)?\b`,
  'gi',
);
// "mean age 54.3 ± 9.1 years", "mean age of 63 (SD 8) years", "median age, 47 years (range 21-80)"
const MEAN_RE = new RegExp(
  String.raw`\b(?:mean|median|average)\s+(?:\(\s*(?:±\s*)?SD\s*\)\s+)?age(?:\s+(?:was|of|at \w+|\(\w+\)))?[\s,:=]*${NUM}\s*(?:(?:±|\+/-|\+-|SD|\(SD)\s*:?\s*${NUM})?\s*\)?\s*(years?|yrs?|y|months?|mo|weeks?|days?)?`,
  'gi',
);
// "aged 50 and older", "over 65 years", "≥ 80 years", "older than 70", "younger than 18 years"
const OPEN_RE = new RegExp(
  String.raw`\b(?:aged\s+)?(?:(over|above|older than|more than|greater than|≥|>=|>|at least|under|below|younger than|less than|≤|<=|<)\s*${NUM}\s*(?:years?|yrs?|y)?(?:\s+(?:of age|old))?|${NUM}\s*(?:years?|yrs?)?\s*(?:of age\s+)?(?:and|or)\s+(older|over|above|younger|under))`,
  'gi',
);
// "a 45-year-old man", "aged 70 years"
const POINT_RE = new RegExp(
  String.raw`\b${NUM}[- ](?:year|yr|month|week|day)s?[- ]old\b|\baged\s+${NUM}\s*(years?|yrs?|months?)\b`,
  'gi',
);

function toYears(v: number, unit: string | undefined): number {
  const u = (unit ?? 'y').toLowerCase();
  if (u.startsWith('mo')) return v / 12;
  if (u.startsWith('w')) return v / 52;
  if (u.startsWith('d')) return v / 365;
  return v;
}

function bandsFor(
  out: Map<CheckTag, TagCue>,
  lo: number,
  hi: number,
  score: number,
  s: number,
  e: number,
  text: string,
): void {
  if (!(hi >= lo) || hi > 130 || lo < 0) return;
  for (const [tag, a, b] of AGE_BANDS) {
    if (lo < b && hi >= a) add(out, tag, score, s, e, text);
  }
  add(out, 'Humans', 0.5, s, e, text);
}

/** Check-tag cues in a text: score in [0,1] per tag with the spans that gave it. */
export function checkTagCues(text: string): Map<CheckTag, TagCue> {
  const out = new Map<CheckTag, TagCue>();
  for (const [re, tags] of WORDS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      for (const [tag, sc] of Object.entries(tags) as [CheckTag, number][])
        add(out, tag, sc, m.index, m.index + m[0].length, text);
    }
  }
  const ageSpans: [number, number][] = [];
  const taken = (s: number, e: number) => ageSpans.some(([a, b]) => s < b && e > a);
  MEAN_RE.lastIndex = 0;
  for (let m = MEAN_RE.exec(text); m; m = MEAN_RE.exec(text)) {
    const mean = toYears(Number(m[1]), m[3]);
    const sd = m[2] ? toYears(Number(m[2]), m[3]) : mean * 0.2;
    if (mean > 120) continue;
    bandsFor(out, Math.max(0, mean - 1.5 * sd), mean + 1.5 * sd, 0.7, m.index, m.index + m[0].length, text);
    ageSpans.push([m.index, m.index + m[0].length]);
  }
  RANGE_RE.lastIndex = 0;
  for (let m = RANGE_RE.exec(text); m; m = RANGE_RE.exec(text)) {
    if (taken(m.index, m.index + m[0].length)) continue;
    if (!m[1] && !m[4]) continue; // a bare 'x to y' is not an age
    const lo = toYears(Number(m[2]), m[4]);
    const hi = toYears(Number(m[3]), m[4]);
    const ageish =
      /age|old|year|yr/i.test(m[0]) &&
      !/(follow|period|duration|interval|after|later|since)\s*$/i.test(text.slice(Math.max(0, m.index - 30), m.index));
    if (!ageish || hi - lo > 110) continue;
    // years of follow-up look the same as ages; demand an age word nearby
    const ctx = text.slice(Math.max(0, m.index - 40), m.index + m[0].length + 15);
    if (!/\bage|aged|old\b/i.test(ctx)) continue;
    bandsFor(out, lo, hi, 0.65, m.index, m.index + m[0].length, text);
    ageSpans.push([m.index, m.index + m[0].length]);
  }
  OPEN_RE.lastIndex = 0;
  for (let m = OPEN_RE.exec(text); m; m = OPEN_RE.exec(text)) {
    if (taken(m.index, m.index + m[0].length)) continue;
    const op = (m[1] ?? m[4] ?? '').toLowerCase();
    const v = Number(m[2] ?? m[3]);
    const ctx = text.slice(Math.max(0, m.index - 40), m.index + m[0].length + 15);
    if (!/\b(age|aged|old)\b/i.test(ctx) || !Number.isFinite(v) || v > 110) continue;
    const up = /over|above|older|more|greater|≥|>|least/.test(op);
    if (up) bandsFor(out, v, Math.max(v + 1, 85), 0.6, m.index, m.index + m[0].length, text);
    else bandsFor(out, 0, v - 0.01, 0.45, m.index, m.index + m[0].length, text);
    ageSpans.push([m.index, m.index + m[0].length]);
  }
  POINT_RE.lastIndex = 0;
  for (let m = POINT_RE.exec(text); m; m = POINT_RE.exec(text)) {
    if (taken(m.index, m.index + m[0].length)) continue;
    const v = Number(m[1] ?? m[2]);
    const unit = /month/i.test(m[0]) ? 'mo' : /week/i.test(m[0]) ? 'w' : /day/i.test(m[0]) ? 'd' : 'y';
    const y = toYears(v, unit);
    bandsFor(out, y, y, 0.7, m.index, m.index + m[0].length, text);
  }
  return out;
}

const CHILD_AGES: CheckTag[] = ['Infant, Newborn', 'Infant', 'Child, Preschool', 'Child', 'Adolescent'];
const ADULT_AGES: CheckTag[] = ['Young Adult', 'Adult', 'Middle Aged', 'Aged', 'Aged, 80 and over'];

/**
 * How much to trust neighbours' votes for each check tag given the text's own cues: a paragraph about children
 * makes the adult age tags of its neighbours unlikely (and the reverse), one that names only women makes Male
 * unlikely, and one about rats makes Humans unlikely. 1 = no change.
 */
export function voteFactors(cues: Map<CheckTag, TagCue>): Map<CheckTag, number> {
  const f = new Map<CheckTag, number>();
  const has = (t: CheckTag) => (cues.get(t)?.score ?? 0) > 0;
  const child = CHILD_AGES.some(has);
  const adult = ADULT_AGES.some(has);
  if (child && !adult) for (const t of ADULT_AGES) f.set(t, 0.4);
  if (adult && !child) for (const t of CHILD_AGES) f.set(t, 0.4);
  if (has('Female') && !has('Male')) f.set('Male', 0.5);
  if (has('Male') && !has('Female')) f.set('Female', 0.5);
  if (has('Animals') && !has('Humans')) f.set('Humans', 0.5);
  if (has('Humans') && !has('Animals')) f.set('Animals', 0.5);
  return f;
}

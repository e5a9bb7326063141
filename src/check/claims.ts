// Does a sentence state a finding (something a reader would want a source for)? A transparent rule set: cues of
// reported findings, effects, associations and established knowledge count for it; the writer's own procedure
// ("we used", "we performed"), pointers to the writer's own figures, questions and very short sentences count against
// it. Measured by `npm run eval -- uncited` (precision/recall of the whole check against real manuscripts). Pure.

export interface ClaimVerdict {
  claim: boolean;
  /** cues found for (+) and against (−), for the diagnostic and the eval */
  cues: string[];
  score: number;
}

const FOR: [RegExp, string][] = [
  [
    /\b(?:show(?:s|ed|n)?|demonstrat\w*|reveal\w*|report\w*|found|observ\w*|identif(?:y|ied|ies)|establish\w*|confirm\w*)\b/i,
    'reported finding',
  ],
  [/\b(?:suggest\w*|indicat\w*|propos\w*|hypothes\w*|known|thought|believed|recogni[sz]ed|described)\b/i, 'knowledge'],
  [
    /\b(?:associat\w*|correlat\w*|link(?:ed|s)? (?:to|with)|relat(?:ed|ionship) (?:to|with|between)|predict\w*|risk)\b/i,
    'association',
  ],
  [
    /\b(?:increas\w*|decreas\w*|reduc\w*|improv\w*|enhanc\w*|inhibit\w*|promot\w*|induc\w*|caus\w*|lead(?:s)? to|led to|result(?:s|ed)? in|contribut\w*|prevent\w*|suppress\w*|activat\w*|regulat\w*|mediat\w*|affect\w*|alter\w*|impair\w*|protect\w*|driv(?:e|es|en|ing))\b/i,
    'effect',
  ],
  [
    /\b(?:prevalen\w*|incidence|mortality|survival|common(?:ly)?|frequent(?:ly)?|leading|major|most|majority|rare|widely|often|typically|usually)\b/i,
    'prevalence',
  ],
  [
    /\b(?:previous(?:ly)?|prior|recent(?:ly)?|studies|study|work|literature|evidence|trials?|meta-analys\w*)\b/i,
    'prior work',
  ],
  [/\b(?:has|have) been\b|\bis (?:a|an|the) (?:key|major|common|well|known|critical|central)\b/i, 'established'],
  [
    /\b(?:effective|efficacy|efficient|accurate|sensitive|specific|robust|superior|outperform\w*|better|worse)\b/i,
    'performance',
  ],
];

const AGAINST: [RegExp, string][] = [
  [
    /\b[Ww]e (?:used|use|performed|perform|applied|apply|ran|run|downloaded|computed|calculated|defined|define|selected|select|filtered|generated|trained|obtained|collected|implemented|chose|set|added|removed|excluded|included|tested|then)\b/,
    'own method',
  ],
  [/\((?:see )?(?:Figure|Fig\.|Table|Supplementary|Additional file|Panel|S\d)/i, 'own figure'],
  [/\b(?:Figure|Fig\.|Table)\s+S?\d+[A-Za-z]?\b/, 'own figure'],
  [/\?\s*$/, 'question'],
  [/^\s*(?:Here|In this (?:study|paper|work|manuscript|article)),? we\b/i, 'own aim'],
];

/** Whether a sentence (its query text: markup and citations removed) states a finding. */
export function claimVerdict(sentence: string): ClaimVerdict {
  const words = sentence.match(/[\p{L}\p{N}]+/gu) ?? [];
  const cues: string[] = [];
  let score = 0;
  if (words.length < 6) return { claim: false, cues: ['− short'], score: -1 };
  for (const [re, name] of FOR)
    if (re.test(sentence)) {
      cues.push(`+ ${name}`);
      score++;
    }
  for (const [re, name] of AGAINST)
    if (re.test(sentence)) {
      cues.push(`− ${name}`);
      score -= 2;
    }
  return { claim: score >= 1, cues, score };
}

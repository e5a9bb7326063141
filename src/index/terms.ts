// The words of a text for lexical matching (best sentence of a hit, citation completion): lower case, stop words and
// one-letter tokens out, plural endings folded. Pure.

const STOP = new Set(
  (
    'a an and are as at be by for from has have in is it its of on or that the this to was were with we our ' +
    'these those than then there their which who whom what when where while not no can may might also been being into ' +
    'between both each more most other some such only over under after before during about against'
  ).split(' '),
);

export function terms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((t) => t.length > 1 && !STOP.has(t))
    .map((t) => (t.length > 4 ? t.replace(/(ies|es|s)$/, (m) => (m === 'ies' ? 'y' : '')) : t));
}

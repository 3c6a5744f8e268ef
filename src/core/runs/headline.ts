// The one or two metrics worth showing next to a run's name: validation loss
// and accuracy-like metrics first, then training loss, then whatever exists.

const PREFERENCE: RegExp[] = [
  /^(val|valid|validation|eval|test)[_/.-]?loss$/i,
  /^(val|valid|validation|eval|test)[_/.-]?(acc|accuracy|f1|auc|map|bleu|iou)/i,
  /(^|[_/])loss$/i,
  /(^|[_/])(acc|accuracy)$/i,
  /loss/i,
  /(acc|accuracy|f1|auc|map|bleu|iou)/i,
];

/** Metrics that count steps or time, never a headline. */
const BOOKKEEPING = /^(epoch|step|global_step|lr|learning_rate|time|timestamp)$/i;

export function pickHeadlineKeys(keys: readonly string[], count = 2): string[] {
  const candidates = keys.filter((k) => !BOOKKEEPING.test(k.split('/').pop() ?? k));
  const picked: string[] = [];
  for (const pattern of PREFERENCE) {
    for (const key of candidates) {
      if (picked.length >= count) return picked;
      if (!picked.includes(key) && pattern.test(key)) picked.push(key);
    }
  }
  for (const key of candidates) {
    if (picked.length >= count) break;
    if (!picked.includes(key)) picked.push(key);
  }
  return picked;
}

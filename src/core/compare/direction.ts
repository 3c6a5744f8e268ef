// Which way is "better" for a metric, guessed from its name. The guess only
// sets the default: the panel lets the user flip it per metric.
export type Direction = 'min' | 'max';

export interface DirectionGuess {
  direction: Direction;
  /** False when the name said nothing either way (then 'min' is assumed). */
  known: boolean;
}

// Matched against whole tokens of the key (split on separators and case
// changes), so that `val_acc` is accuracy but `accumulate_steps` is not.
const LOWER_IS_BETTER = /^(loss|losses|nll|error|err|errors|mse|mae|rmse|mape|smape|perplexity|ppl|wer|cer|ter|fid|kid|lpips|bpd|bpc|regret|latency|distortion|cost|divergence|kl)$/;
const HIGHER_IS_BETTER =
  /^(acc|accuracy|top\d+|f1|fscore|ap|ap\d+|map|map\d+|auc|auroc|auprc|precision|prec|recall|rec|iou|miou|dice|bleu|rouge\w*|meteor|chrf|reward|rew|return|returns|score|r2|ndcg|mrr|psnr|ssim|hit|hits|success|sharpe|likelihood|elbo)$/;

/** Splits `val/mAP@0.5`, `trainLoss`, `top5_acc` into lower-case tokens. */
export function keyTokens(key: string): string[] {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((t) => t.toLowerCase());
}

export function guessDirection(key: string): DirectionGuess {
  // `mAP` survives the camel-case split as `m`, `AP`; rejoin single-letter prefixes.
  const tokens = keyTokens(key);
  const joined = tokens.flatMap((t, i) => (t.length === 1 && i + 1 < tokens.length ? [t + tokens[i + 1]] : []));
  const all = [...tokens, ...joined];
  // Loss wins over a "higher" word in the same key (`reward_loss` is still a loss).
  if (all.some((t) => LOWER_IS_BETTER.test(t))) return { direction: 'min', known: true };
  if (all.some((t) => HIGHER_IS_BETTER.test(t))) return { direction: 'max', known: true };
  return { direction: 'min', known: false };
}

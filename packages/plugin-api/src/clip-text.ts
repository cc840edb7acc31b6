// Chat services refuse a message over their limits rather than shorten it:
// a notifier shortens first, so an unusually long error still arrives.
// Lengths are UTF-16 code units, what JavaScript and Telegram count; never
// fewer than the characters a service counts.

/** `text` cut to at most `max` code units, ending in `…` when it was cut. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let kept = text.slice(0, max - 1);
  // Half an emoji is no character: JSON would send a lone surrogate.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}…`;
}

/**
 * Shortens the longest of `texts` (never the short ones) until together they
 * hold at most `budget` code units: one long error gives way, a size stays whole.
 */
export function fitTexts(texts: readonly string[], budget: number): string[] {
  if (texts.reduce((sum, text) => sum + text.length, 0) <= budget) return [...texts];
  // The largest cap such that every text cut to it fits: lengths below it stay as they are.
  const sorted = texts.map((text) => text.length).sort((a, b) => a - b);
  let remaining = Math.max(budget, 0);
  let cap = 0;
  for (const [index, length] of sorted.entries()) {
    const share = Math.floor(remaining / (sorted.length - index));
    if (length > share) {
      cap = share;
      break;
    }
    remaining -= length;
  }
  return texts.map((text) => clipText(text, cap));
}

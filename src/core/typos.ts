/**
 * Typo suggestions shared by the pose, lighting and chat-request parsers, so "did you mean" behaves the same
 * everywhere.
 */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ('lfet' is one typo from 'left'). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The nearest candidate within `maxDistance` edits, or undefined. The default reach is a third of the word (at
 * least 1, at most 3): close enough to be a typo, far enough that unrelated words are not "corrected".
 */
export function closest(
  word: string,
  candidates: Iterable<string>,
  maxDistance = Math.min(3, Math.max(1, Math.floor(word.length / 3))),
): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";

/**
 * Manual order: every task and list has a position, a fractional-indexing key (base-62 ASCII,
 * compared byte by byte), so that a move writes one key between its new neighbours' and no other
 * row. Keys grow by about one character per six moves into the same gap; past MAX_KEY_LENGTH the
 * siblings are given fresh, evenly spread keys once (a rebalance), and moves are short again.
 */
export const MAX_KEY_LENGTH = 50;

/**
 * A key between two neighbours' (null: the start or the end), or null when there is none to give
 * a short one: the neighbours share a key (two writers placed at one spot at once), a key is not a
 * valid one (written by hand), or the new key would be too long. The caller then rebalances.
 */
export function keyBetween(before: string | null, after: string | null): string | null {
  try {
    const key = generateKeyBetween(before, after);
    return key.length <= MAX_KEY_LENGTH ? key : null;
  } catch {
    return null;
  }
}

/** Fresh keys for `count` siblings in order, as short as their number allows. */
export const evenKeys = (count: number): string[] => generateNKeysBetween(null, null, count);

/**
 * A rebalance: fresh keys for a sibling group (`ids`, in order, without the one being placed) and
 * the key of the one placed right after `afterId` (null: first; undefined: last).
 */
export function spread(
  ids: string[],
  afterId: string | null | undefined,
): { keys: string[]; placed: string } {
  const at = afterId === undefined ? ids.length : afterId === null ? 0 : ids.indexOf(afterId) + 1;
  const keys = evenKeys(ids.length + 1);
  const [placed] = keys.splice(at, 1);
  return { keys, placed: placed as string };
}

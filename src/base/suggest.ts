/**
 * "Did you mean" for names a user mistyped: variables, functions and flags share it.
 * @module
 */

/** The most suggestions a message offers; more would be a list, which `--help` is for. */
const MAX_SUGGESTIONS = 3;

/** Optimal string alignment distance: edits, counting a swap of neighbours as one. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(best);
    }
  }
  return rows[a.length][b.length];
}

/**
 * The candidates `name` is most likely a typo or a shortening of, at most three, in their order,
 * ignoring case: the nearest within a third of the name's length in edits (never all of it: "c"
 * is no typo of "a"), else those that begin with it (`memory_pressure` →
 * `memory_pressure_some_avg10`, ...), else those that contain it.
 */
export function suggestions(name: string, candidates: readonly string[]): string[] {
  const wanted = name.toLowerCase();
  const limit = Math.min(Math.max(1, Math.floor(wanted.length / 3)), wanted.length - 1);
  const close = candidates
    .map((candidate, index) => ({
      candidate,
      index,
      distance: editDistance(wanted, candidate.toLowerCase()),
    }))
    .filter((c) => c.distance <= limit);
  const best = Math.min(...close.map((c) => c.distance));
  if (close.length > 0) {
    return close.filter((c) => c.distance === best).map((c) => c.candidate).slice(
      0,
      MAX_SUGGESTIONS,
    );
  }
  if (wanted.length < 2) return [];
  const starting = candidates.filter((c) => c.toLowerCase().startsWith(wanted));
  if (starting.length > 0) return starting.slice(0, MAX_SUGGESTIONS);
  if (wanted.length < 3) return [];
  return candidates.filter((c) => c.toLowerCase().includes(wanted)).slice(0, MAX_SUGGESTIONS);
}

/**
 * `did you mean a, b or c?` for {@link suggestions}, each shown by `show` (e.g. with `--`), or
 * undefined when there is none.
 */
export function didYouMean(
  name: string,
  candidates: readonly string[],
  show: (candidate: string) => string = (c) => c,
): string | undefined {
  const found = suggestions(name, candidates).map(show);
  if (found.length === 0) return undefined;
  const list = found.length === 1
    ? found[0]
    : `${found.slice(0, -1).join(", ")} or ${found[found.length - 1]}`;
  return `did you mean ${list}?`;
}

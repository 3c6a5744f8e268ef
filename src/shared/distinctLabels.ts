// Labels that tell apart things with the same name (two runs called
// "baseline" in one MLflow experiment, the `train` and `validation` runs of
// several TF2 Keras fits, two `training.log` files) by the folders they live
// in. A name shown once stays as it is; names shown more than once get the
// fewest trailing folders of their paths that differ: "training.log (a)",
// "training.log (b)". Pure: the agent labels the tree's runs and
// experiments with it, the comparison panel its columns.

export interface Named {
  name: string;
  /** Where it lives (a run's folder or file, an experiment's root). */
  path: string;
}

/** A folder named by an id (an MLflow run id, a hash, a UUID; a letter, so not a timestamp): its first 8 characters tell it apart. */
const ID_SEGMENT = /^(?=[0-9-]*[a-f])[0-9a-f-]{16,}$/i;
/** Past this many characters another folder name is cut in a label. */
const SEGMENT_CHARS = 32;

function segmentsOf(p: string): string[] {
  return p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
}

function shortSegment(segment: string): string {
  if (ID_SEGMENT.test(segment)) return `${segment.slice(0, 8)}…`;
  const points = Array.from(segment); // whole code points: an emoji is never cut in half
  return points.length > SEGMENT_CHARS ? `${points.slice(0, SEGMENT_CHARS - 8).join('')}…` : segment;
}

/**
 * One label per item, in order. Items of one name are told apart by the
 * shortest run of folders (counted back from the end of their paths, the
 * name's own segment left out when the path ends in it) that differs between
 * all of them; items whose paths cannot tell them apart keep their position
 * in the group as "#2", "#3".
 */
export function distinctLabels(items: readonly Named[]): string[] {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const group = groups.get(item.name);
    if (group) group.push(index);
    else groups.set(item.name, [index]);
  });
  const labels = items.map((item) => item.name);
  for (const [name, members] of groups) {
    if (members.length < 2) continue;
    const folders = members.map((index) => {
      const segments = segmentsOf(items[index].path);
      if (segments[segments.length - 1] === name) segments.pop();
      return segments;
    });
    // The folders the paths share at their start say nothing: drop them.
    let common = 0;
    while (folders.every((f) => f.length > common && f[common] === folders[0][common])) common++;
    const rest = folders.map((f) => f.slice(common));
    // A path that ends where the shared folders end (/logs/train beside /logs/foo/train) is named by the last of them.
    const shared = common > 0 ? folders[0][common - 1] : '.';
    const longest = rest.reduce((n, r) => Math.max(n, r.length), 0);
    let chosen: string[] | undefined;
    for (let depth = 1; depth <= longest && !chosen; depth++) {
      for (const shorten of [true, false]) {
        const tails = rest.map((r) => (r.length === 0 ? shared : r.slice(Math.max(0, r.length - depth)).map(shorten ? shortSegment : (x) => x).join('/')));
        if (new Set(tails).size === tails.length) {
          chosen = tails;
          break;
        }
      }
    }
    members.forEach((index, position) => {
      labels[index] = chosen ? `${name} (${chosen[position]})` : position === 0 ? name : `${name} #${position + 1}`;
    });
  }
  // A label made here may still equal another item's own name ("a (b)" beside a run named "a (b)"): number the later ones.
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} #${count}`;
  });
}

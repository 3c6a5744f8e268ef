// Path containment, written once: used to attribute files to sources and runs.
import * as path from 'node:path';

/** True when `child` is `parent` or lies below it (no string-prefix traps like /a/bc vs /a/b). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

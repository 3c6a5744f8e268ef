// Which folders to re-ingest for a batch of changed paths: the known source
// that holds a path (cheap: only that source is walked and read), else the
// workspace folder that holds it (a new source may have appeared there).
import { isInside } from '../util/paths';


export function scopesForChanges(changedPaths: readonly string[], knownSourceRoots: readonly string[], workspaceRoots: readonly string[]): string[] {
  // Deepest source root first, so a path is attributed to its own source.
  const sources = [...knownSourceRoots].sort((a, b) => b.length - a.length);
  const scopes = new Set<string>();
  for (const changed of changedPaths) {
    const source = sources.find((root) => isInside(changed, root));
    if (source) {
      scopes.add(source);
      continue;
    }
    const workspace = workspaceRoots.find((root) => isInside(changed, root));
    if (workspace) scopes.add(workspace);
  }
  // A scope inside another scope adds nothing.
  const all = [...scopes];
  return all.filter((scope) => !all.some((other) => other !== scope && isInside(scope, other)));
}

// Lists the files under a folder that log readers may care about, skipping
// the folders that never hold experiment logs and can be huge.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ALWAYS_SKIPPED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '.runlens',
  '__pycache__',
  '.venv',
  'venv',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
  '.ipynb_checkpoints',
  '.dvc',
]);

export interface WalkOptions {
  /** Extra directory names to skip anywhere in the tree. */
  skipDirNames?: ReadonlySet<string>;
  /** Stop after this many files and report it: a runaway tree must not stall the agent. */
  maxFiles?: number;
  signal?: AbortSignal;
}

export interface WalkResult {
  files: string[];
  truncated: boolean;
  unreadable: { path: string; message: string }[];
}

/** Paths are absolute and use '/' separators, sorted for reproducible discovery. */
export async function walkFiles(root: string, options: WalkOptions = {}): Promise<WalkResult> {
  const maxFiles = options.maxFiles ?? 500_000;
  const files: string[] = [];
  const unreadable: WalkResult['unreadable'] = [];
  let truncated = false;
  const pending: string[] = [path.resolve(root)];
  while (pending.length && !truncated) {
    if (options.signal?.aborted) break;
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        files.push(dir.split(path.sep).join('/'));
      } else if (code !== 'ENOENT') {
        unreadable.push({ path: dir, message: (e as Error).message });
      }
      continue;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED_DIRS.has(entry.name) || options.skipDirNames?.has(entry.name)) continue;
        pending.push(full);
      } else if (entry.isFile()) {
        files.push(full.split(path.sep).join('/'));
        if (files.length >= maxFiles) {
          truncated = true;
          break;
        }
      }
      // Symlinks are not followed: they loop, and point outside the workspace.
    }
  }
  files.sort();
  return { files, truncated, unreadable };
}

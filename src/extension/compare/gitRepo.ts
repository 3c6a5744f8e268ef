// Plain git plumbing for "Compare Code" (no vscode here, so it is tested
// against a real repository). Commits come from run tags, i.e. from files on
// disk: only hex object names are ever passed to git, never an argument.
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';

const COMMIT = /^[0-9a-f]{7,64}$/i;

export function isCommitId(value: string | undefined): value is string {
  return value !== undefined && COMMIT.test(value.trim());
}

export function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', cwd, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve(stdout);
    });
  });
}

export async function repositoryRoot(dir: string): Promise<string | undefined> {
  try {
    return path.resolve((await git(dir, ['rev-parse', '--show-toplevel'])).trim());
  } catch {
    return undefined;
  }
}

export async function hasCommit(repo: string, commit: string): Promise<boolean> {
  if (!isCommitId(commit)) return false;
  try {
    await git(repo, ['cat-file', '-e', `${commit.trim()}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** Files that differ between two commits, with git's status letter (A, M, D, R...). */
export async function changedFiles(repo: string, from: string, to: string): Promise<{ status: string; path: string }[]> {
  if (!isCommitId(from) || !isCommitId(to)) throw new Error('not a commit id');
  const out = await git(repo, ['diff', '--name-status', '--no-renames', '-z', from.trim(), to.trim()]);
  const parts = out.split('\0').filter(Boolean);
  const files: { status: string; path: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) files.push({ status: parts[i], path: parts[i + 1] });
  return files;
}

/** A file's content at a commit; empty when the file does not exist there (added or deleted). */
export async function fileAtCommit(repo: string, commit: string, file: string): Promise<string> {
  if (!isCommitId(commit)) throw new Error('not a commit id');
  try {
    return await git(repo, ['show', `${commit.trim()}:${file}`]);
  } catch {
    return '';
  }
}

export type RepositoryLookup =
  | { kind: 'found'; repo: string }
  /** Repositories were found, and `commit` is in none of them. */
  | { kind: 'missing'; commit: string; searched: string[] }
  /** No candidate folder is inside a git repository. */
  | { kind: 'none'; searched: string[] };

/**
 * The first repository among the candidate folders (the workspace folders,
 * the runs' folders) that holds every commit; else the first commit that no
 * repository holds and the repositories looked in; else (no repository at
 * all) the folders looked in, each once.
 */
export async function findRepositoryWith(commits: string[], candidates: string[]): Promise<RepositoryLookup> {
  const roots: string[] = [];
  for (const dir of candidates) {
    const root = await repositoryRoot(dir);
    if (root && !roots.includes(root)) roots.push(root);
  }
  let missing = commits[0];
  for (const repo of roots) {
    let all = true;
    for (const c of commits) {
      if (!(await hasCommit(repo, c))) {
        all = false;
        missing = c;
        break;
      }
    }
    if (all) return { kind: 'found', repo };
  }
  if (roots.length === 0) return { kind: 'none', searched: [...new Set(candidates)] };
  return { kind: 'missing', commit: missing, searched: roots };
}

/** Why Compare Code cannot open a diff, for a lookup that found no repository holding both commits. */
export function lookupFailureText(lookup: Exclude<RepositoryLookup, { kind: 'found' }>): string {
  if (lookup.kind === 'none') {
    return `none of these folders is in a git repository: ${lookup.searched.join(', ')}. Open the repository the runs were trained from as a workspace folder.`;
  }
  return `commit ${lookup.commit.trim().slice(0, 8)} is not in ${lookup.searched.length === 1 ? 'the repository' : 'any of the repositories'} ${lookup.searched.join(', ')}. Fetch it, or open the repository the run was trained from.`;
}

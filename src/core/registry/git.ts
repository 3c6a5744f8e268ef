// The workspace's git state at registration time, read by running `git`.
// Read-only: `--no-optional-locks` keeps `git status` from refreshing the
// index (a write, and a lock that could collide with the user's own git).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

export type GitState =
  | {
      present: true;
      /** The repository's top-level folder. */
      root: string;
      /** null in a repository without commits. */
      commit: string | null;
      /** null on a detached HEAD. */
      branch: string | null;
      /** Tracked files changed, or untracked files present (a new training script counts). */
      dirty: boolean;
      changedFiles: number;
      untrackedFiles: number;
    }
  | { present: false; reason: string };

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitMissingError extends Error {}

const GIT_TIMEOUT_MS = 10_000;

/** Runs git in `cwd`; rejects with GitMissingError when there is no git to run. */
export function runGit(cwd: string, args: string[], gitBinary = 'git'): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      gitBinary,
      ['--no-optional-locks', ...args],
      // LC_ALL=C: messages we match on stay in English; GIT_TERMINAL_PROMPT=0: never wait for a password.
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 16 << 20, env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' }, windowsHide: true },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new GitMissingError(`${gitBinary} is not installed or not on PATH`));
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export async function readGitState(cwd: string, gitBinary = 'git'): Promise<GitState> {
  // A missing cwd makes spawn fail with ENOENT too, which would read as "git is not installed".
  if (!fs.existsSync(cwd)) return { present: false, reason: `the workspace folder ${cwd} does not exist` };
  try {
    const top = await runGit(cwd, ['rev-parse', '--show-toplevel'], gitBinary);
    if (top.code !== 0) return { present: false, reason: firstLine(top.stderr) || 'not a git repository' };
    const root = top.stdout.trim();
    const head = await runGit(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD'], gitBinary);
    const commit = head.code === 0 ? head.stdout.trim() : null;
    const branchResult = await runGit(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'], gitBinary);
    const branch = branchResult.code === 0 ? branchResult.stdout.trim() : null;
    const status = await runGit(cwd, ['status', '--porcelain=v1', '-z', '--untracked-files=normal'], gitBinary);
    if (status.code !== 0) return { present: false, reason: `git status failed: ${firstLine(status.stderr)}` };
    let changedFiles = 0;
    let untrackedFiles = 0;
    const records = status.stdout.split('\0');
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record.length < 3) continue;
      if (record.startsWith('??')) untrackedFiles++;
      else if (!record.startsWith('!!')) changedFiles++;
      // A rename or copy is followed by its source path as a separate record.
      if (record[0] === 'R' || record[0] === 'C') i++;
    }
    return { present: true, root, commit, branch, dirty: changedFiles + untrackedFiles > 0, changedFiles, untrackedFiles };
  } catch (e) {
    if (e instanceof GitMissingError) return { present: false, reason: e.message };
    throw e;
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

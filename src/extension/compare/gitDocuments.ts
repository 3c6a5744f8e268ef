// "Compare Code": VS Code's diff editor between two runs' git commits, for
// the files the user picks. File contents at a commit are served as
// read-only virtual documents (`git show COMMIT:path`).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WireRunDetail } from '../../shared/protocol';
import { changedFiles, fileAtCommit, findRepositoryWith, GIT_COMMIT_TAG, isCommitId, lookupFailureText } from './gitRepo';

export const GIT_SCHEME = 'runlens-git';

export class GitDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(GIT_SCHEME, this);

  static uri(repo: string, commit: string, file: string): vscode.Uri {
    // The file's path stays in the URI path so the editor picks its language and shows its name.
    return vscode.Uri.from({ scheme: GIT_SCHEME, path: `/${file}`, query: JSON.stringify({ repo, commit }) });
  }

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { repo, commit } = JSON.parse(uri.query) as { repo: string; commit: string };
    return fileAtCommit(repo, commit, uri.path.slice(1));
  }

  dispose(): void {
    this.registration.dispose();
  }
}

const short = (c: string) => c.trim().slice(0, 8);
const runName = (r: WireRunDetail) => r.label ?? r.displayName;

/** Opens diffs between the commits of two runs; returns a sentence when it cannot (also shown to the user). */
export async function compareRunCode(base: WireRunDetail, other: WireRunDetail): Promise<string | undefined> {
  const a = base.tags[GIT_COMMIT_TAG]?.trim();
  const b = other.tags[GIT_COMMIT_TAG]?.trim();
  const say = (message: string) => {
    void vscode.window.showWarningMessage(`RunLens: ${message}`);
    return message;
  };
  const noCommit = [base, other].filter((r) => !isCommitId(r.tags[GIT_COMMIT_TAG]));
  if (noCommit.length) return say(`${noCommit.map(runName).join(' and ')} carr${noCommit.length > 1 ? 'y' : 'ies'} no git commit (tag ${GIT_COMMIT_TAG}), so there is no code to compare.`);
  if (a === b) {
    const message = `${runName(base)} and ${runName(other)} ran the same commit ${short(a!)}; committed code is identical (uncommitted changes are not recorded).`;
    void vscode.window.showInformationMessage(`RunLens: ${message}`);
    return message;
  }
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const runDirs = [base, other].map((r) => path.dirname(r.path));
  const found = await findRepositoryWith([a!, b!], [...folders, ...runDirs]);
  if (found.kind !== 'found') return say(lookupFailureText(found));
  const files = await changedFiles(found.repo, a!, b!);
  if (files.length === 0) {
    const message = `commits ${short(a!)} and ${short(b!)} have the same files.`;
    void vscode.window.showInformationMessage(`RunLens: ${message}`);
    return message;
  }
  const picked = await vscode.window.showQuickPick(
    files.map((f) => ({ label: f.path, description: f.status, picked: files.length <= 3, file: f.path })),
    { canPickMany: true, title: `Compare Code: ${short(a!)} (${runName(base)}) ↔ ${short(b!)} (${runName(other)})`, placeHolder: 'Pick the files to compare' },
  );
  for (const p of picked ?? []) {
    await vscode.commands.executeCommand(
      'vscode.diff',
      GitDocuments.uri(found.repo, a!, p.file),
      GitDocuments.uri(found.repo, b!, p.file),
      `${path.basename(p.file)} (${short(a!)} ↔ ${short(b!)})`,
      { preview: false },
    );
  }
  return undefined;
}

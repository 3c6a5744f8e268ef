// "Compare Code" plumbing against a real git repository made here.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { changedFiles, fileAtCommit, findRepositoryWith, isCommitId, lookupFailureText } from '../../../src/extension/compare/gitRepo';
import { makeTempDir } from '../../support/fixtures';

let hasGit = true;
try {
  execFileSync('git', ['--version'], { stdio: 'ignore' });
} catch {
  hasGit = false;
}

function repo(): { dir: string; first: string; second: string } {
  const dir = makeTempDir('runlens-git-');
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'train.py'), 'lr = 0.1\n');
  fs.writeFileSync(path.join(dir, 'keep.txt'), 'same\n');
  git('add', '.');
  git('commit', '-q', '-m', 'one');
  const first = git('rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'train.py'), 'lr = 0.2\n');
  fs.mkdirSync(path.join(dir, 'mlruns'));
  fs.writeFileSync(path.join(dir, 'new file.py'), 'x = 1\n');
  git('add', '.');
  git('commit', '-q', '-m', 'two');
  return { dir, first, second: git('rev-parse', 'HEAD') };
}

test('finds the repository holding both commits, lists changed files, shows them at each commit', { skip: !hasGit && 'git is not installed' }, async () => {
  const { dir, first, second } = repo();
  const found = await findRepositoryWith([first, second], ['/nonexistent/folder', path.join(dir, 'mlruns')]);
  assert.deepEqual(found, { kind: 'found', repo: fs.realpathSync(dir) });
  const files = await changedFiles(dir, first, second);
  assert.deepEqual(files, [
    { status: 'A', path: 'new file.py' },
    { status: 'M', path: 'train.py' },
  ]);
  assert.equal(await fileAtCommit(dir, first, 'train.py'), 'lr = 0.1\n');
  assert.equal(await fileAtCommit(dir, second, 'train.py'), 'lr = 0.2\n');
  assert.equal(await fileAtCommit(dir, first, 'new file.py'), '', 'not there yet: empty');
});

test('a commit this repository does not have is named, with where we looked', { skip: !hasGit && 'git is not installed' }, async () => {
  const { dir, first } = repo();
  const absent = '8a8186b8467dc5d9b6c8cf5bebba2aa9d870cc64';
  const found = await findRepositoryWith([first, absent], [dir]);
  assert.equal(found.kind, 'missing');
  assert.equal(found.kind === 'missing' && found.commit, absent);
  assert.deepEqual(found.kind === 'missing' && found.searched, [fs.realpathSync(dir)]);
  assert.equal(found.kind === 'missing' && lookupFailureText(found), `commit 8a8186b8 is not in the repository ${fs.realpathSync(dir)}. Fetch it, or open the repository the run was trained from.`);
});

test('with no git repository at all, that is what is said, and each folder looked in is listed once', { skip: !hasGit && 'git is not installed' }, async () => {
  const workspace = makeTempDir('runlens-nogit-');
  const runs = path.join(workspace, 'mlruns', '1');
  fs.mkdirSync(runs, { recursive: true });
  // The workspace folder, then both runs' folders (the same one).
  const found = await findRepositoryWith(['8a8186b8467dc5d9b6c8cf5bebba2aa9d870cc64', 'f8b0899d2d2c42c6a73b7ca8c256e3d6'], [workspace, runs, runs]);
  assert.deepEqual(found, { kind: 'none', searched: [workspace, runs] });
  const text = lookupFailureText(found as Extract<typeof found, { kind: 'none' }>);
  assert.equal(text, `none of these folders is in a git repository: ${workspace}, ${runs}. Open the repository the runs were trained from as a workspace folder.`);
  assert.doesNotMatch(text, /commit/);
});

test('only hex object names reach git', async () => {
  assert.ok(isCommitId('8a8186b8467dc5d9b6c8cf5bebba2aa9d870cc64'));
  assert.ok(isCommitId('8a8186b'));
  for (const bad of ['--output=/tmp/x', 'HEAD', 'main', '8a81', 'abc def1234', '', undefined]) assert.equal(isCommitId(bad), false, String(bad));
  await assert.rejects(changedFiles('/tmp', '--output=/tmp/pwned', 'abcdef1'));
});

// The workspace's git state and the acting identity, read by running the real
// `git` in temp folders (never in the checkout), and the fallbacks when there
// is no repository, no git identity, or no git at all.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { osActor, resolveActor } from '../../../src/core/registry/identity';
import { readGitState } from '../../../src/core/registry/git';
import { makeTempDir } from '../../support/fixtures';

const tmp = makeTempDir('runlens-git-');
const home = path.join(tmp, 'home');
fs.mkdirSync(home);

// Tests must not see the machine's own git identity: a global config of our own, no system config.
const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM, HOME: process.env.HOME };
const globalConfig = path.join(home, '.gitconfig');
process.env.GIT_CONFIG_GLOBAL = globalConfig;
process.env.GIT_CONFIG_NOSYSTEM = '1';
process.env.HOME = home;
after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Fixture', '-c', 'user.email=fixture@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
}

test('outside a repository: git recorded as absent, with why', async () => {
  const dir = path.join(tmp, 'plain');
  fs.mkdirSync(dir);
  const state = await readGitState(dir);
  assert.equal(state.present, false);
  assert.match((state as { reason: string }).reason, /not a git repository/);
});

test('a repository: its HEAD commit and branch; clean, then dirty with changed and untracked files counted', async () => {
  const repo = path.join(tmp, 'repo');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  const empty = await readGitState(repo);
  assert.deepEqual(empty, { present: true, root: fs.realpathSync(repo), commit: null, branch: 'main', dirty: false, changedFiles: 0, untrackedFiles: 0 });

  fs.writeFileSync(path.join(repo, 'train.py'), 'print(1)\n');
  fs.writeFileSync(path.join(repo, '.gitignore'), '*.onnx\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  const head = git(repo, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(repo, 'model.onnx'), 'ignored');
  const clean = await readGitState(path.join(repo));
  assert.deepEqual(clean, { present: true, root: fs.realpathSync(repo), commit: head, branch: 'main', dirty: false, changedFiles: 0, untrackedFiles: 0 });

  fs.appendFileSync(path.join(repo, 'train.py'), 'print(2)\n');
  fs.writeFileSync(path.join(repo, 'new.py'), '');
  fs.mkdirSync(path.join(repo, 'sub'));
  const dirty = await readGitState(path.join(repo, 'sub'));
  assert.equal(dirty.present && dirty.dirty, true);
  assert.equal(dirty.present && dirty.changedFiles, 1);
  assert.equal(dirty.present && dirty.untrackedFiles, 1);
  assert.equal(dirty.present && dirty.commit, head, 'read from a subfolder of the repository');

  git(repo, 'checkout', '-q', '--detach');
  const detached = await readGitState(repo);
  assert.equal(detached.present && detached.branch, null);
});

test('no git installed: absent, saying so', async () => {
  const state = await readGitState(tmp, path.join(tmp, 'no-such-git'));
  assert.equal(state.present, false);
  assert.match((state as { reason: string }).reason, /not installed/);
});

test('identity: git user.name and user.email, else the OS user', async () => {
  const dir = path.join(tmp, 'who');
  fs.mkdirSync(dir);
  fs.rmSync(globalConfig, { force: true });
  const nobody = await resolveActor(dir);
  assert.equal(nobody.source, 'os');
  assert.equal(nobody.name, os.userInfo().username);
  assert.deepEqual(nobody, osActor());

  fs.writeFileSync(globalConfig, '[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n');
  const grace = await resolveActor(dir);
  assert.deepEqual(grace, { display: 'Grace Hopper <grace@example.com>', name: 'Grace Hopper', email: 'grace@example.com', source: 'git' });

  // A repository's own config wins over the global one, as for commits.
  const repo = path.join(tmp, 'who-repo');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q');
  execFileSync('git', ['config', 'user.name', 'Repo Person'], { cwd: repo });
  const local = await resolveActor(repo);
  assert.equal(local.display, 'Repo Person <grace@example.com>');

  const noGit = await resolveActor(dir, path.join(tmp, 'no-such-git'));
  assert.equal(noGit.source, 'os');
});

// The one place tests find fixtures: the shared real-log corpus beside the
// checkout (../shared/corpus) and the generated demo workspace. Tests copy
// fixtures into a temp dir before touching them; ../shared is never written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export function corpusDir(): string {
  const fromEnv = process.env.RUNLENS_CORPUS;
  const dir = fromEnv ? path.resolve(fromEnv) : path.resolve(repoRoot, '..', 'shared', 'corpus');
  if (!fs.existsSync(path.join(dir, 'README.md'))) {
    throw new Error(`Test corpus not found at ${dir}: clone the repo next to shared/ or set RUNLENS_CORPUS.`);
  }
  return dir;
}

/** Temp dirs made by this process, removed by one exit listener (one listener each went past Node's limit of 10). */
const tempDirs: string[] = [];

/** A fresh temp dir, removed when the process exits. */
export function makeTempDir(prefix = 'runlens-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((made) => fs.rmSync(made, { recursive: true, force: true })));
  tempDirs.push(dir);
  return dir;
}

/** Copies `corpus/<relative>` into a new temp dir and returns the copy's path. */
export function copyCorpus(relative: string): string {
  const src = path.join(corpusDir(), relative);
  const dest = path.join(makeTempDir(), path.basename(src));
  fs.cpSync(src, dest, { recursive: true });
  makeWritable(dest);
  return dest;
}

/** The corpus is read-only; its copies must not be, or tests cannot append to them (or delete them as non-root). */
function makeWritable(target: string): void {
  const st = fs.statSync(target);
  fs.chmodSync(target, st.mode | 0o200 | (st.isDirectory() ? 0o100 : 0));
  if (st.isDirectory()) for (const entry of fs.readdirSync(target)) makeWritable(path.join(target, entry));
}

/** The machine-readable expectation shipped with a corpus log case. */
export function readExpected<T = unknown>(relativeCase: string): T {
  return JSON.parse(fs.readFileSync(path.join(corpusDir(), relativeCase, 'expected.json'), 'utf8')) as T;
}

// Dataset and model fingerprints: a file's sha256, and a folder's hash over its
// sorted relative paths and contents, checked against an independent
// computation of the documented algorithm and against the changes it must see.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { fingerprintPath, hashFile } from '../../../src/core/registry/fingerprint';
import { corpusDir, makeTempDir } from '../../support/fixtures';

const tmp = makeTempDir('runlens-fingerprint-');
let n = 0;
const sha = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');

function tree(files: Record<string, string>): string {
  const dir = path.join(tmp, `t${++n}`);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

test('a file hashes to the sha256 of its bytes (a real model from the corpus)', async () => {
  const model = path.join(corpusDir(), 'models', 'blazeface_front_128.onnx');
  const bytes = fs.readFileSync(model);
  assert.deepEqual(await hashFile(model), { sha256: sha(bytes), size: bytes.length });
  const fp = await fingerprintPath(model);
  assert.equal(fp.kind, 'file');
  assert.equal(fp.sha256, sha(bytes));
  assert.equal(fp.files, 1);
});

test('a folder hashes over its files sorted by relative path, each as "path NUL sha256 LF"', async () => {
  const dir = tree({ 'b.csv': 'x,y\n1,2\n', 'a/z.txt': 'zzz', 'a/b/c.bin': '\x00\x01\x02', 'A.txt': 'upper' });
  // Byte order: "A.txt" < "a/b/c.bin" < "a/z.txt" < "b.csv".
  const expected = sha(['A.txt', 'a/b/c.bin', 'a/z.txt', 'b.csv'].map((rel) => `${rel}\0${sha(fs.readFileSync(path.join(dir, rel)))}\n`).join(''));
  const fp = await fingerprintPath(dir);
  assert.deepEqual(fp, { path: dir, kind: 'directory', sha256: expected, files: 4, bytes: 8 + 3 + 3 + 5 });
});

test('the same content written in another order gives the same fingerprint; every meaningful change gives another', async () => {
  const base = { 'train/0.csv': 'a,b\n1,2\n', 'train/1.csv': 'a,b\n3,4\n', 'labels.json': '{"0":"cat"}' };
  const one = (await fingerprintPath(tree(base))).sha256;
  const reversed = Object.fromEntries(Object.entries(base).reverse());
  assert.equal((await fingerprintPath(tree(reversed))).sha256, one, 'creation order does not matter');
  const variants: Record<string, Record<string, string>> = {
    'content changed': { ...base, 'train/1.csv': 'a,b\n3,5\n' },
    'file renamed': { 'train/0.csv': base['train/0.csv'], 'train/2.csv': base['train/1.csv'], 'labels.json': base['labels.json'] },
    'file added': { ...base, 'extra.txt': '' },
    'bytes moved between files': { ...base, 'train/0.csv': 'a,b\n1,2\na,b\n', 'train/1.csv': '3,4\n' },
  };
  for (const [what, files] of Object.entries(variants)) {
    assert.notEqual((await fingerprintPath(tree(files))).sha256, one, what);
  }
});

test('symbolic links are not followed (a link to a parent would never end); empty folders add nothing', async () => {
  const dir = tree({ 'data.txt': 'd' });
  const before = (await fingerprintPath(dir)).sha256;
  fs.mkdirSync(path.join(dir, 'empty'));
  assert.equal((await fingerprintPath(dir)).sha256, before, 'an empty folder');
  fs.symlinkSync('..', path.join(dir, 'loop'));
  const withLink = await fingerprintPath(dir);
  assert.notEqual(withLink.sha256, before, 'the link is part of the tree');
  assert.equal(withLink.files, 2);
});

test('a missing dataset is a user error naming it', async () => {
  await assert.rejects(fingerprintPath(path.join(tmp, 'nope')), (e: unknown) => isUserError(e) && /nope: no such file or folder/.test(e.message));
});

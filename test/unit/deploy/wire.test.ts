// What crosses to and from a serving container: JSON tensors (both ways,
// with the product's spelling of non-finite numbers and int64 as strings),
// the tar archives handed to Docker (read back by GNU tar, a real reader),
// the router's traffic split, and the limits users type.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseCpus, parseMemory } from '../../../src/core/deploy/containers';
import { imageRepositoryFor, renderDockerfile, DEFAULT_DOCKERFILE_TEMPLATE } from '../../../src/core/deploy/image';
import { tarStream } from '../../../src/core/deploy/tar';
import { decodeTensor, decodeTensorMap, encodeTensor, TensorFormatError } from '../../../src/core/deploy/tensorJson';
import { WeightedPicker } from '../../../src/serve/router';
import { makeTempDir } from '../../support/fixtures';

test('tensors survive the JSON round trip: NaN, ±Infinity and -0 spelled out, int64 beyond 2^53 as strings', () => {
  const floats = new Float32Array([0.5, NaN, Infinity, -Infinity, -0, 1e-38]);
  const wire = JSON.parse(JSON.stringify(encodeTensor('float32', [2, 3], floats)));
  assert.deepEqual(wire.data.slice(1, 5), ['NaN', 'Infinity', '-Infinity', '-0']);
  const back = decodeTensor('x', wire);
  assert.deepEqual(back.dims, [2, 3]);
  assert.ok(Object.is((back.data as Float32Array)[4], -0));
  assert.deepEqual(Array.from(back.data as Float32Array).slice(0, 4).map(String), ['0.5', 'NaN', 'Infinity', '-Infinity']);

  const big = new BigInt64Array([9007199254740993n, -5n]);
  const wired = JSON.parse(JSON.stringify(encodeTensor('int64', [2], big)));
  assert.deepEqual(wired.data, ['9007199254740993', '-5']);
  assert.deepEqual(decodeTensor('sr', { dtype: 'int64', dims: [], data: [16000] }).data, new BigInt64Array([16000n]), 'a rank-0 int64 given as a number');
  assert.deepEqual(decodeTensor('m', { dtype: 'bool', dims: [3], data: [true, 0, 1] }).data, new Uint8Array([1, 0, 1]));
});

test('a request the model cannot take says which tensor and which element is wrong', () => {
  const bad = (value: unknown, message: RegExp) => assert.throws(() => decodeTensorMap(value, 'inputs'), (e: Error) => e instanceof TensorFormatError && message.test(e.message));
  bad([], /expected a JSON object \{"inputs"/);
  bad({ inputs: [] }, /"inputs": an object of tensors by name/);
  bad({ inputs: { x: { dtype: 'complex64', dims: [1], data: [1] } } }, /tensor "x": dtype "complex64" is not one of float32/);
  bad({ inputs: { x: { dtype: 'float32', dims: [2, 2], data: [1, 2, 3] } } }, /tensor "x": dims \[2, 2\] need 4 values, data has 3/);
  bad({ inputs: { x: { dtype: 'float32', dims: [2], data: [1, 'nan'] } } }, /tensor "x": data\[1\] = "nan" is not a number \(non-finite values are written "NaN"/);
  bad({ inputs: { x: { dtype: 'uint8', dims: [1], data: [256] } } }, /data\[0\] = 256 is out of range for uint8 \(0\.\.255\)/);
  bad({ inputs: { sr: { dtype: 'int64', dims: [1], data: [1.5] } } }, /data\[0\] = 1\.5 is not an integer \(int64 values are integers, as numbers or decimal strings\)/);
  bad({ inputs: { sr: { dtype: 'int64', dims: [1], data: ['99999999999999999999'] } } }, /out of range for int64/);
});

test('the tar writer makes archives GNU tar reads back byte for byte, long names included', () => {
  const dir = makeTempDir('runlens-tar-');
  const big = path.join(dir, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(1500, 7));
  const longName = `node_modules/${'deeply/'.repeat(20)}binding.node`;
  const archive = path.join(dir, 'out.tar');
  return new Promise<void>((resolve, reject) => {
    tarStream([
      { kind: 'directory', name: 'tmp', mode: 0o1777 },
      { kind: 'file', name: 'Dockerfile', source: { bytes: Buffer.from('FROM scratch\n') } },
      { kind: 'file', name: longName, mode: 0o755, source: { path: big } },
      { kind: 'symlink', name: 'lib64', target: 'usr/lib64' },
    ])
      .pipe(fs.createWriteStream(archive))
      .on('finish', () => {
        try {
          const listing = spawnSync('tar', ['-tvf', archive], { encoding: 'utf8' });
          assert.equal(listing.status, 0, listing.stderr);
          assert.match(listing.stdout, /drwxrwxrwt root\/root .* tmp\//);
          assert.match(listing.stdout, new RegExp(`-rwxr-xr-x root/root +1500 .* ${longName.replace(/\//g, '\\/')}`));
          assert.match(listing.stdout, /lib64 -> usr\/lib64/);
          const out = path.join(dir, 'x');
          fs.mkdirSync(out);
          assert.equal(spawnSync('tar', ['-xf', archive, '-C', out]).status, 0);
          assert.deepEqual(fs.readFileSync(path.join(out, longName)), fs.readFileSync(big));
          assert.equal(fs.readFileSync(path.join(out, 'Dockerfile'), 'utf8'), 'FROM scratch\n');
          resolve();
        } catch (e) {
          reject(e);
        }
      })
      .on('error', reject);
  });
});

test('the router splits smoothly by weight: 30 % is 3 of every 10, interleaved', () => {
  const picker = new WeightedPicker([
    { variant: 'production', url: 'http://127.0.0.1:1', weight: 70 },
    { variant: 'candidate', url: 'http://127.0.0.1:2', weight: 30 },
  ]);
  const picks = Array.from({ length: 10 }, () => picker.next().variant[0]).join('');
  // Worked by hand from nginx's rule (add each weight, pick the largest, subtract the total; ties to the first).
  assert.equal(picks, 'pcpppcppcp');
  assert.equal([...picks].filter((c) => c === 'c').length, 3);
  assert.throws(() => new WeightedPicker([]), /no upstreams/);
});

test('limits, image names and the Dockerfile template', () => {
  assert.equal(parseMemory('512m'), 512 * 1024 ** 2);
  assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  assert.throws(() => parseMemory('lots'), /--memory lots: use bytes or a number with k, m or g/);
  assert.throws(() => parseMemory('8m'), /too small/);
  assert.equal(parseCpus(0.5), 5e8);
  assert.throws(() => parseCpus(0), /--cpus 0: give a positive number/);
  assert.equal(imageRepositoryFor('Team/Sentiment Model_v2'), 'runlens/team/sentiment-model_v2');
  const rendered = renderDockerfile(DEFAULT_DOCKERFILE_TEMPLATE, { BASE_IMAGE: 'node:20', MODEL_NAME: '"m"', MODEL_VERSION: '3', MODEL_SHA256: 'ab', ARTIFACT_DIGEST: '', CONTAINER_PORT: '8080' });
  assert.match(rendered, /^FROM node:20$/m);
  assert.match(rendered, /io\.runlens\.model\.version=3/);
  assert.doesNotMatch(rendered, /\{\{/);
  assert.throws(() => renderDockerfile('FROM {{BASE}}', { BASE_IMAGE: '', MODEL_NAME: '', MODEL_VERSION: '', MODEL_SHA256: '', ARTIFACT_DIGEST: '', CONTAINER_PORT: '' }), /uses \{\{BASE\}\}, which RunLens does not know/);
});

// The base image a serving image is built FROM. Users name one (default
// node:20-bookworm-slim, pulled by the engine), or say `local`: the product
// then makes one from this machine's Node, for engines that cannot reach an
// image registry (offline machines, and the tests). That image is a tar of
// the `node` binary plus every shared library it and onnxruntime-node's
// native binding link (as `ldd` lists them), imported like `docker import`.
// It has no shell and no package manager: the Dockerfile template only
// COPYs, so none is needed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors';
import { describeDockerError, isDiskFull, type Engine } from './engine';
import { tarStream, type TarEntry } from './tar';

export const DEFAULT_BASE_IMAGE = 'node:20-bookworm-slim';
/** The --base-image value that means "build it from this machine's Node". */
export const LOCAL_BASE_IMAGE = 'local';
export const LOCAL_BASE_REPOSITORY = 'runlens-base';

/** Where node sits in the local base image (on the engine's default PATH). */
const NODE_IN_IMAGE = '/usr/local/bin/node';

const execFileAsync = promisify(execFile);

export type Progress = (line: string) => void;

export interface LocalBaseOptions {
  /** The Node binary to copy (default: the one running this process). */
  nodeBinary?: string;
  /** Native modules whose system libraries must be in the image too (default: onnxruntime-node's binding). */
  nativeModules?: string[];
  onProgress?: Progress;
  signal?: AbortSignal;
}

/** Shared libraries a binary links, as absolute paths, from `ldd` (the vdso has no file and is skipped). */
export async function linkedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [binary], { encoding: 'utf8' }));
  } catch (e) {
    const err = e as { code?: string; stderr?: string; stdout?: string; message: string };
    // A static binary: ldd says so and exits 1.
    if (/not a dynamic executable|statically linked/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) return [];
    if (err.code === 'ENOENT') throw new UserError('not-found', 'ldd is not installed: it lists the libraries the local base image needs (install libc-bin), or pass --base-image IMAGE');
    throw new UserError('bad-argument', `ldd ${binary} failed: ${err.stderr?.trim() || err.message}`);
  }
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (/not found/.test(text)) throw new UserError('not-found', `${binary} links a library that is missing on this machine: ${text}`);
    const arrow = /=>\s+(\/\S+)/.exec(text);
    const direct = /^(\/\S+)\s+\(/.exec(text);
    const file = arrow?.[1] ?? direct?.[1];
    if (file) libraries.push(file);
  }
  return libraries;
}

/** onnxruntime-node's native binding for linux-x64 (the platform the serving images run). */
export function onnxRuntimeBinding(onnxRuntimeDir: string): string {
  const bin = path.join(onnxRuntimeDir, 'bin');
  const napi = fs.existsSync(bin) ? fs.readdirSync(bin).filter((d) => d.startsWith('napi-v')) : [];
  for (const dir of napi) {
    const file = path.join(bin, dir, 'linux', 'x64', 'onnxruntime_binding.node');
    if (fs.existsSync(file)) return file;
  }
  throw new UserError('not-found', `onnxruntime-node in ${onnxRuntimeDir} has no linux-x64 binding (bin/napi-v*/linux/x64/onnxruntime_binding.node); reinstall it with npm on linux-x64`);
}

/** The files of the local base image: node and its libraries (plus those of the native modules), /tmp and /app. */
export async function localBaseEntries(nodeBinary: string, nativeModules: readonly string[]): Promise<{ entries: TarEntry[]; fingerprint: string }> {
  const libraries = new Set<string>();
  for (const binary of [nodeBinary, ...nativeModules]) {
    for (const lib of await linkedLibraries(binary)) {
      // onnxruntime's own library travels with the package in node_modules, not in the base.
      if (!lib.includes('/node_modules/')) libraries.add(lib);
    }
  }
  const files = [...libraries].sort();
  const hash = createHash('sha256');
  const describe = (file: string) => {
    const st = fs.statSync(file);
    hash.update(`${file}\0${st.size}\0${st.mtimeMs}\n`);
  };
  describe(nodeBinary);
  files.forEach(describe);
  const directories = new Set<string>(['tmp', 'app', 'usr/local/bin']);
  for (const file of files) {
    const parts = path.dirname(file).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [];
  for (const dir of [...directories].sort()) entries.push({ kind: 'directory', name: dir, mode: dir === 'tmp' ? 0o1777 : 0o755 });
  entries.push({ kind: 'file', name: NODE_IN_IMAGE.slice(1), mode: 0o755, source: { path: nodeBinary } });
  // Libraries are copied as files at the path the loader asks for (symlinks followed): the loader path is baked into node.
  for (const file of files) entries.push({ kind: 'file', name: file.slice(1), mode: 0o755, source: { path: fs.realpathSync(file) } });
  return { entries, fingerprint: hash.digest('hex').slice(0, 12) };
}

export async function imageExists(engine: Engine, ref: string): Promise<boolean> {
  try {
    await engine.docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw new UserError('not-found', `cannot inspect image ${ref} on ${engine.address}: ${describeDockerError(e)}`);
  }
}

/** Follows a Docker progress stream to its end, turning an `error` message into a rejection. */
export function followDockerStream(engine: Engine, stream: NodeJS.ReadableStream, onEvent: (event: Record<string, unknown>) => void): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    engine.docker.modem.followProgress(
      stream,
      (err: Error | null, events: Record<string, unknown>[]) => {
        if (err) return reject(err);
        const failed = events.find((e) => e.error || e.errorDetail);
        if (failed) return reject(new Error(String((failed.errorDetail as { message?: string } | undefined)?.message ?? failed.error)));
        resolve(events);
      },
      onEvent,
    );
  });
}

/**
 * Makes (or finds, when the same Node and libraries were imported before) the
 * local base image. Its tag names the Node version and a fingerprint of the
 * files, so a Node upgrade makes a new one.
 */
export async function ensureLocalBaseImage(engine: Engine, options: LocalBaseOptions = {}): Promise<string> {
  const nodeBinary = options.nodeBinary ?? process.execPath;
  const progress = options.onProgress ?? (() => undefined);
  const nativeModules = options.nativeModules ?? [onnxRuntimeBinding(path.dirname(require.resolve('onnxruntime-node/package.json')))];
  const { entries, fingerprint } = await localBaseEntries(nodeBinary, nativeModules);
  const tag = `node-${process.version}-${fingerprint}`;
  const ref = `${LOCAL_BASE_REPOSITORY}:${tag}`;
  if (await imageExists(engine, ref)) {
    progress(`base image ${ref} is already on the engine`);
    return ref;
  }
  progress(`making base image ${ref} from ${nodeBinary} and ${entries.filter((e) => e.kind === 'file').length - 1} shared libraries`);
  const started = Date.now();
  try {
    const stream = (await engine.docker.importImage(tarStream(entries) as never, {
      repo: LOCAL_BASE_REPOSITORY,
      tag,
      changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'WORKDIR /app', `CMD ["${NODE_IN_IMAGE}"]`],
      abortSignal: options.signal,
    } as never)) as unknown as NodeJS.ReadableStream;
    await followDockerStream(engine, stream, () => undefined);
  } catch (e) {
    const why = describeDockerError(e);
    if (isDiskFull(why)) throw new UserError('storage-unwritable', `the Docker engine at ${engine.address} has no space left for the base image (${why}); free space (docker system prune) and retry`);
    throw new UserError('bad-argument', `importing the base image ${ref} into ${engine.address} failed: ${why}`);
  }
  progress(`base image ${ref} made in ${Date.now() - started} ms`);
  return ref;
}

/**
 * The base image to build FROM, present on the engine: `local` is made from
 * this machine's Node; any other name is used if the engine has it, else pulled.
 */
export async function ensureBaseImage(engine: Engine, baseImage: string, options: LocalBaseOptions = {}): Promise<string> {
  if (baseImage === LOCAL_BASE_IMAGE) return ensureLocalBaseImage(engine, options);
  if (await imageExists(engine, baseImage)) return baseImage;
  const progress = options.onProgress ?? (() => undefined);
  progress(`pulling base image ${baseImage}`);
  try {
    const stream = (await engine.docker.pull(baseImage, { abortSignal: options.signal } as never)) as NodeJS.ReadableStream;
    await followDockerStream(engine, stream, (e) => e.status && e.id && progress(`${String(e.id)}: ${String(e.status)}`));
  } catch (e) {
    throw new UserError(
      'not-found',
      `base image ${baseImage} is not on the engine at ${engine.address} and cannot be pulled (${describeDockerError(e)}); pull or load it there yourself, or use --base-image ${LOCAL_BASE_IMAGE} to make one from this machine's Node`,
    );
  }
  return baseImage;
}

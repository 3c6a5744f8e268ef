// The serving image: a build context the product writes itself (Dockerfile,
// the bundled server and router, onnxruntime-node pruned to linux-x64, the
// model), built by the user's engine through dockerode. The Dockerfile comes
// from a template; a workspace can replace it with `.runlens/Dockerfile`,
// using the same {{PLACEHOLDERS}} (SERVING_DOCKERFILE_PLACEHOLDERS).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { ModelVersion } from '../registry/types';
import type { Progress } from './baseImage';
import { followDockerStream } from './baseImage';
import { describeDockerError, isDiskFull, type Engine } from './engine';
import { LABELS } from './labels';
import { tarStream, type TarEntry } from './tar';

/** What the serving image is made of, besides the model. */
export interface ServingAssets {
  /** dist/serve.js */
  serverScript: string;
  /** dist/router.js */
  routerScript: string;
  /** node_modules/onnxruntime-node */
  onnxRuntimeNode: string;
  /** node_modules/onnxruntime-common (onnxruntime-node's one dependency) */
  onnxRuntimeCommon: string;
}

/** Port the server listens on inside a container on a bridge network. */
export const CONTAINER_PORT = 8080;

/** Where a workspace overrides the template. */
export const WORKSPACE_DOCKERFILE = path.join('.runlens', 'Dockerfile');

/** The placeholders a Dockerfile template may use, and what each becomes. */
export const SERVING_DOCKERFILE_PLACEHOLDERS: Record<string, string> = {
  BASE_IMAGE: 'the base image (--base-image; `local` already resolved to the image made from this machine)',
  MODEL_NAME: 'the registered model name (JSON-quoted, safe inside LABEL and ENV)',
  MODEL_VERSION: 'the version number',
  MODEL_SHA256: "the model file's sha256 (hex)",
  ARTIFACT_DIGEST: 'the digest of the pushed OCI artifact, or "" when it was not pushed',
  CONTAINER_PORT: `the port the server listens on inside the container (${CONTAINER_PORT})`,
};

/**
 * The default template. Context layout: serve.js, router.js, model.onnx,
 * node_modules/onnxruntime-{node,common}. Only COPY, so a base image without
 * a shell (the local one) works.
 */
export const DEFAULT_DOCKERFILE_TEMPLATE = `# Made by RunLens: serves one ONNX model with onnxruntime-node.
FROM {{BASE_IMAGE}}
WORKDIR /app
COPY node_modules /app/node_modules
COPY serve.js router.js /app/
COPY model.onnx /app/model.onnx
ENV MODEL_PATH=/app/model.onnx MODEL_NAME={{MODEL_NAME}} MODEL_VERSION={{MODEL_VERSION}} HOST=0.0.0.0 PORT={{CONTAINER_PORT}} NODE_ENV=production
LABEL org.opencontainers.image.title={{MODEL_NAME}} \\
      org.opencontainers.image.version={{MODEL_VERSION}} \\
      io.runlens.model.name={{MODEL_NAME}} \\
      io.runlens.model.version={{MODEL_VERSION}} \\
      io.runlens.model.sha256={{MODEL_SHA256}} \\
      io.runlens.artifact.digest="{{ARTIFACT_DIGEST}}"
EXPOSE {{CONTAINER_PORT}}
CMD ["node", "/app/serve.js"]
`;

export function renderDockerfile(template: string, values: Record<keyof typeof SERVING_DOCKERFILE_PLACEHOLDERS, string>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (whole, key: string) => {
    if (!(key in SERVING_DOCKERFILE_PLACEHOLDERS)) throw new UserError('bad-argument', `the Dockerfile template uses ${whole}, which RunLens does not know (known: ${Object.keys(SERVING_DOCKERFILE_PLACEHOLDERS).map((k) => `{{${k}}}`).join(', ')})`);
    return values[key];
  });
}

/** Finds dist/serve.js and node_modules from wherever this module runs (the dist/ bundle or tsc's out/). */
export function defaultServingAssets(from = __dirname): ServingAssets {
  let dir = from;
  // The package root is the first folder up with RunLens' package.json and a built dist/serve.js (tsc's out/ has a package.json copy but no dist/).
  while (!(fs.existsSync(path.join(dir, 'dist', 'serve.js')) && packageName(dir) === 'runlens')) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new UserError('not-found', `cannot find dist/serve.js of RunLens above ${from}: build RunLens first (npm run build)`);
    dir = parent;
  }
  const onnxRuntimeNode = packageRoot(require.resolve('onnxruntime-node', { paths: [dir] }));
  const assets: ServingAssets = {
    serverScript: path.join(dir, 'dist', 'serve.js'),
    routerScript: path.join(dir, 'dist', 'router.js'),
    onnxRuntimeNode,
    // Resolved from onnxruntime-node, as its own require would; its exports map hides package.json, so walk up from the entry.
    onnxRuntimeCommon: packageRoot(require.resolve('onnxruntime-common', { paths: [onnxRuntimeNode] })),
  };
  for (const file of [assets.serverScript, assets.routerScript]) {
    if (!fs.existsSync(file)) throw new UserError('not-found', `${file} is missing: build RunLens first (npm run build)`);
  }
  return assets;
}

function packageName(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** The folder of the package a resolved file belongs to (nested package.json files without a name, like dist/cjs/'s, are skipped). */
function packageRoot(file: string): string {
  let dir = path.dirname(file);
  while (!packageName(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new UserError('not-found', `no package.json above ${file}`);
    dir = parent;
  }
  return dir;
}

/** Files under `dir` (relative, sorted), filtered. */
function walk(dir: string, keep: (relative: string) => boolean, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(dir, keep, relative));
    else if (entry.isFile() && keep(relative)) out.push(relative);
  }
  return out.sort();
}

/** onnxruntime-node as the image needs it: its JavaScript and the linux-x64 binaries only (the package carries every platform). */
function runtimeEntries(assets: ServingAssets): TarEntry[] {
  // Nested package.json files matter: onnxruntime-common is "type": "module" and dist/cjs/package.json turns its CommonJS build back to CommonJS.
  const node = walk(assets.onnxRuntimeNode, (f) => f === 'package.json' || (f.startsWith('dist/') && /(\.js|package\.json)$/.test(f)) || /^bin\/napi-v\d+\/linux\/x64\//.test(f));
  const common = walk(assets.onnxRuntimeCommon, (f) => f === 'package.json' || (f.startsWith('dist/cjs/') && /(\.js|package\.json)$/.test(f)));
  return [
    ...node.map((f): TarEntry => ({ kind: 'file', name: `node_modules/onnxruntime-node/${f}`, mode: 0o644, source: { path: path.join(assets.onnxRuntimeNode, f) } })),
    ...common.map((f): TarEntry => ({ kind: 'file', name: `node_modules/onnxruntime-common/${f}`, mode: 0o644, source: { path: path.join(assets.onnxRuntimeCommon, f) } })),
  ];
}

/** Docker repository names: lower case, [a-z0-9._-] separated by /. */
export function imageRepositoryFor(modelName: string): string {
  const cleaned = modelName
    .toLowerCase()
    .split('/')
    .map((part) => part.replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `runlens/${cleaned || 'model'}`;
}

export interface BuildServingImageOptions {
  engine: Engine;
  version: Pick<ModelVersion, 'name' | 'version' | 'sha256' | 'filePath'>;
  /** Resolved base image (ensureBaseImage). */
  baseImage: string;
  /** The digest of the pushed OCI artifact, when the version was pushed. */
  artifactDigest?: string | null;
  /** The workspace whose `.runlens/Dockerfile` overrides the template, if it has one. */
  workspace?: string;
  /** The model file to bake in (default: the registered file; tests bake a corrupt one). */
  modelFile?: string;
  assets?: ServingAssets;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface ServingImage {
  /** repository:tag */
  ref: string;
  id: string;
  dockerfile: 'template' | string;
}

export async function buildServingImage(options: BuildServingImageOptions): Promise<ServingImage> {
  const { engine, version } = options;
  const progress = options.onProgress ?? (() => undefined);
  const assets = options.assets ?? defaultServingAssets();
  const override = options.workspace ? path.join(options.workspace, WORKSPACE_DOCKERFILE) : null;
  const useOverride = override !== null && fs.existsSync(override);
  const template = useOverride ? fs.readFileSync(override, 'utf8') : DEFAULT_DOCKERFILE_TEMPLATE;
  const dockerfile = renderDockerfile(template, {
    BASE_IMAGE: options.baseImage,
    MODEL_NAME: JSON.stringify(version.name),
    MODEL_VERSION: String(version.version),
    MODEL_SHA256: version.sha256,
    ARTIFACT_DIGEST: options.artifactDigest ?? '',
    CONTAINER_PORT: String(CONTAINER_PORT),
  });
  const ref = `${imageRepositoryFor(version.name)}:v${version.version}`;
  const entries: TarEntry[] = [
    { kind: 'file', name: 'Dockerfile', source: { bytes: Buffer.from(dockerfile, 'utf8') } },
    { kind: 'file', name: 'serve.js', source: { path: assets.serverScript } },
    { kind: 'file', name: 'router.js', source: { path: assets.routerScript } },
    { kind: 'file', name: 'model.onnx', source: { path: options.modelFile ?? version.filePath } },
    ...runtimeEntries(assets),
  ];
  // The labels are also set through the API, so an overriding Dockerfile that forgets them still yields a traceable image.
  const labels: Record<string, string> = {
    'org.opencontainers.image.version': String(version.version),
    [LABELS.modelName]: version.name,
    [LABELS.modelVersion]: String(version.version),
    [LABELS.modelSha256]: version.sha256,
    ...(options.artifactDigest ? { [LABELS.artifactDigest]: options.artifactDigest } : {}),
  };
  progress(`building ${ref} FROM ${options.baseImage}${useOverride ? ` with ${override}` : ''}`);
  const started = Date.now();
  let id: string | undefined;
  try {
    const stream = (await engine.docker.buildImage(tarStream(entries) as never, { t: ref, labels, rm: true, forcerm: true, abortSignal: options.signal } as never)) as unknown as NodeJS.ReadableStream;
    await followDockerStream(engine, stream, (event) => {
      const line = typeof event.stream === 'string' ? event.stream.trim() : '';
      if (line.startsWith('Step ')) progress(line);
      const aux = event.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
    });
  } catch (e) {
    if (options.signal?.aborted) throw new UserError('bad-argument', `building ${ref} was cancelled`);
    const why = describeDockerError(e);
    if (isDiskFull(why)) throw new UserError('storage-unwritable', `the Docker engine at ${engine.address} ran out of disk space building ${ref} (${why}); free space (docker system prune) and retry`);
    throw new UserError('bad-argument', `building ${ref} on ${engine.address} failed: ${why}${useOverride ? ` (Dockerfile from ${override})` : ''}`);
  }
  id ??= (await engine.docker.getImage(ref).inspect()).Id;
  progress(`built ${ref} (${id.slice(7, 19)}) in ${Date.now() - started} ms`);
  return { ref, id, dockerfile: useOverride ? override : 'template' };
}

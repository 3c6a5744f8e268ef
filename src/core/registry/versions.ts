// Registering model versions: what a version records (file hash and size, the
// run that trained it and a snapshot of that run, the workspace's git state,
// dataset fingerprints), how the run is found from the file's location, and
// how `NAME@VERSION` / `NAME@alias` references resolve.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { RunDetail, RunStore, RunSummary } from '../store/types';
import { toWire, type WireNumber } from '../../shared/wireNumbers';
import { fingerprintPath, hashFile, type DatasetFingerprint } from './fingerprint';
import { readGitState } from './git';
import type { Actor } from './identity';
import { validateModelName } from './states';
import type { ModelVersion, RegistryStore, RunInference, RunSnapshot } from './types';

// References ------------------------------------------------------------------

export type VersionSelector = { kind: 'version'; version: number } | { kind: 'alias'; alias: string } | { kind: 'latest' };

export interface ModelRef {
  name: string;
  /** undefined: the reference named only the model. */
  selector?: VersionSelector;
}

/** `NAME`, `NAME@3`, `NAME@v3`, `NAME@latest`, `NAME@production`. */
export function parseModelRef(text: string): ModelRef {
  const at = text.lastIndexOf('@');
  const name = at < 0 ? text : text.slice(0, at);
  validateModelName(name);
  if (at < 0) return { name };
  const part = text.slice(at + 1);
  if (/^v?\d+$/.test(part)) {
    const version = Number(part.replace(/^v/, ''));
    if (!Number.isSafeInteger(version) || version < 1) throw new UserError('bad-argument', `${text}: versions are numbered from 1`);
    return { name, selector: { kind: 'version', version } };
  }
  if (part === 'latest') return { name, selector: { kind: 'latest' } };
  if (!/^[a-z][a-z0-9_-]*$/.test(part)) throw new UserError('bad-argument', `${text}: after "@" give a version number or an alias (NAME@3, NAME@production)`);
  return { name, selector: { kind: 'alias', alias: part } };
}

export function refOf(v: Pick<ModelVersion, 'name' | 'version'>): string {
  return `${v.name}@${v.version}`;
}

/** Resolves a reference that must name one version; a bare NAME is refused (say which version). */
export function resolveVersion(registry: RegistryStore, text: string): ModelVersion {
  const ref = parseModelRef(text);
  if (!ref.selector) throw new UserError('bad-argument', `${text} names a model, not a version: use ${text}@VERSION or ${text}@ALIAS (see \`runlens model list ${text}\`)`);
  const found = findVersion(registry, ref);
  if (found) return found;
  const models = registry.listModels();
  const model = models.find((m) => m.name === ref.name);
  if (!model) {
    const names = models.map((m) => m.name);
    throw new UserError('not-found', `no model named ${ref.name} in ${registry.path}${names.length ? ` (models: ${names.slice(0, 10).join(', ')})` : ' (register one with `runlens model register`)'}`);
  }
  if (ref.selector.kind === 'alias') {
    const aliases = Object.entries(model.aliases).map(([a, v]) => `${a} → ${v}`);
    throw new UserError('not-found', `${ref.name} has no alias ${ref.selector.alias}${aliases.length ? ` (aliases: ${aliases.join(', ')})` : ' (it has no aliases yet)'}`);
  }
  throw new UserError('not-found', `${ref.name} has no version ${(ref.selector as { version: number }).version} (versions 1–${model.latestVersion})`);
}

export function findVersion(registry: RegistryStore, ref: ModelRef): ModelVersion | undefined {
  const s = ref.selector;
  if (!s || s.kind === 'latest') return registry.latestVersion(ref.name);
  if (s.kind === 'version') return registry.getVersion(ref.name, s.version);
  const alias = registry.listAliases(ref.name).find((a) => a.alias === s.alias);
  return alias ? registry.getVersionById(alias.versionId) : undefined;
}

// The source run ---------------------------------------------------------------

const slash = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');

/** The path and, where it differs, the path with symlinks resolved (a temp dir under /var vs /private/var). */
function pathForms(p: string): string[] {
  const forms = [slash(path.resolve(p))];
  try {
    const real = slash(fs.realpathSync(p));
    if (!forms.includes(real)) forms.push(real);
  } catch {
    // Gone or unreadable: compare the path as written.
  }
  return forms;
}

/**
 * Finds the run that produced a model file from where the file lies, matching
 * the runs' stored paths:
 * - contains: the file is inside a run's folder (an MLflow run's artifacts/, a
 *   Lightning version_N/checkpoints/); the deepest such run wins;
 * - sibling: the file lies beside exactly one run's folder or log file (a Keras
 *   training.log next to model.onnx).
 * Runs sharing one path (a Keras log's restarted segments) resolve to the newest.
 * When several distinct runs fit equally, nothing is guessed: the candidates are returned.
 */
export function inferRun(modelFile: string, runs: readonly RunSummary[]): { inference: RunInference; run: RunSummary | null } {
  const modelForms = pathForms(modelFile);
  const modelDirs = modelForms.map((f) => path.posix.dirname(f));
  const contains: { run: RunSummary; depth: number }[] = [];
  const siblings: RunSummary[] = [];
  for (const run of runs) {
    if (!run.path) continue;
    const runForms = pathForms(run.path);
    const inside = runForms.filter((r) => modelForms.some((m) => m.startsWith(`${r}/`)));
    if (inside.length) contains.push({ run, depth: Math.max(...inside.map((r) => r.length)) });
    else if (runForms.some((r) => modelDirs.includes(path.posix.dirname(r)))) siblings.push(run);
  }
  const pick = (how: 'contains' | 'sibling', fits: RunSummary[]) => {
    const paths = new Set(fits.map((r) => slash(r.path)));
    if (paths.size > 1) {
      return {
        inference: {
          how: 'ambiguous' as const,
          note: `${fits.length} runs lie ${how === 'contains' ? 'around' : 'beside'} ${modelFile}; pass --run to say which trained it`,
          candidates: fits.slice(0, 20).map((r) => ({ uid: r.uid, name: r.name, path: r.path })),
        },
        run: null,
      };
    }
    const newest = [...fits].sort((a, b) => (b.lastWrite ?? -Infinity) - (a.lastWrite ?? -Infinity) || b.id - a.id)[0];
    const where = how === 'contains' ? `the model lies inside the run's folder ${newest.path}` : `the model lies beside the run's ${fs.existsSync(newest.path) && fs.statSync(newest.path).isFile() ? 'log file' : 'folder'} ${newest.path}`;
    const segments = fits.length > 1 ? ` (the newest of ${fits.length} runs recorded in it)` : '';
    return { inference: { how, note: `${where}${segments}` }, run: newest };
  };
  if (contains.length) {
    const deepest = Math.max(...contains.map((c) => c.depth));
    return pick('contains', contains.filter((c) => c.depth === deepest).map((c) => c.run));
  }
  if (siblings.length) return pick('sibling', siblings);
  return { inference: { how: 'none', note: `no stored run's folder contains or lies beside ${modelFile} (ingest the training logs first, or pass --run)` }, run: null };
}

export function snapshotRun(run: RunDetail): RunSnapshot {
  const metrics: Record<string, { value: WireNumber; step: number | null }> = {};
  // Summaries first, so a series with the same key (the history behind a summary) wins.
  for (const [key, value] of Object.entries(run.summaries)) {
    if (typeof value === 'number') metrics[key] = { value: toWire(value), step: null };
  }
  for (const s of run.series) metrics[s.key] = { value: toWire(s.lastValue), step: Number.isFinite(s.lastStep) ? s.lastStep : null };
  return {
    uid: run.uid,
    name: run.name,
    format: run.format,
    experimentName: run.experimentName,
    path: run.path,
    status: run.status,
    params: { ...run.params },
    metrics,
  };
}

// Registration ----------------------------------------------------------------

export interface RegisterOptions {
  file: string;
  name: string;
  /** A run reference (id, uid, uid prefix, name) as `runlens show` takes; else the run is inferred from the file's path. */
  run?: string;
  datasets?: string[];
  description?: string;
  /** Where git state is read (the workspace folder). */
  workspace: string;
  actor: Actor;
  gitBinary?: string;
  now?: () => number;
}

export interface RegisterResult {
  version: ModelVersion;
  warnings: string[];
}

export async function registerModelVersion(registry: RegistryStore, runs: RunStore, options: RegisterOptions): Promise<RegisterResult> {
  validateModelName(options.name);
  const file = path.resolve(options.file);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError('not-found', `${options.file}: no such file`);
  }
  if (!st.isFile()) throw new UserError('bad-argument', `${options.file} is not a file (register the model file itself, e.g. model.onnx)`);
  const warnings: string[] = [];

  let inference: RunInference;
  let run: RunDetail | undefined;
  if (options.run !== undefined) {
    const matches = runs.findRuns(options.run);
    if (matches.length === 0) throw new UserError('not-found', `--run ${options.run}: no stored run matches (see \`runlens runs\`)`);
    if (matches.length > 1) throw new UserError('bad-argument', `--run ${options.run} matches ${matches.length} runs (${matches.slice(0, 5).map((m) => `${m.id}:${m.uid}`).join(', ')}); use an id or uid`);
    run = runs.getRun(matches[0].id);
    inference = { how: 'given', note: `--run ${options.run}` };
  } else {
    const found = inferRun(file, runs.listRuns({ includeHidden: true }).runs);
    inference = found.inference;
    if (found.run) run = runs.getRun(found.run.id);
    if (inference.how === 'ambiguous' || inference.how === 'none') warnings.push(`source run not recorded: ${inference.note}`);
  }

  const digest = await hashFile(file);
  const git = await readGitState(options.workspace, options.gitBinary);
  if (git.present && git.dirty) warnings.push(`the workspace has uncommitted changes (${git.changedFiles} changed, ${git.untrackedFiles} untracked file(s)): commit ${git.commit?.slice(0, 12) ?? '(none)'} does not fully describe it`);
  const datasets: DatasetFingerprint[] = [];
  for (const d of options.datasets ?? []) datasets.push(await fingerprintPath(d));

  const same = registry.listVersions({ name: options.name }).filter((v) => v.sha256 === digest.sha256);
  if (same.length) warnings.push(`the same file content is already registered as ${same.map(refOf).join(', ')}`);

  const snapshot = run ? snapshotRun(run) : null;
  const version = registry.registerVersion(
    {
      name: options.name,
      filePath: file,
      sha256: digest.sha256,
      size: digest.size,
      description: options.description?.trim() || null,
      runUid: snapshot?.uid ?? null,
      run: snapshot,
      runInference: inference,
      git,
      datasets,
    },
    (options.now ?? Date.now)(),
    options.actor.display,
    (v) => [
      {
        kind: 'register',
        model: v.name,
        version: v.version,
        payload: {
          versionId: v.id,
          filePath: v.filePath,
          sha256: v.sha256,
          size: v.size,
          description: v.description,
          runUid: v.runUid,
          run: v.run,
          runInference: v.runInference,
          git: v.git,
          datasets: v.datasets,
          identity: { name: options.actor.name, email: options.actor.email, source: options.actor.source },
        },
      },
    ],
  );
  return { version, warnings };
}

// Diff ------------------------------------------------------------------------

export interface ParamChange {
  key: string;
  before: string | null;
  after: string | null;
}

export interface MetricChange {
  key: string;
  before: WireNumber | null;
  after: WireNumber | null;
  /** after - before, when both are finite. */
  delta: number | null;
  /** Relative to |before|, when both are finite and before is not 0. */
  deltaPercent: number | null;
}

export interface SnapshotDiff {
  /** NAME@VERSION compared with, or null when there is nothing to compare with. */
  against: string | null;
  params: ParamChange[];
  unchangedParams: number;
  metrics: MetricChange[];
}

/** What changed from one run snapshot to another: params that differ, and every metric either has. */
export function diffSnapshots(before: RunSnapshot | null, after: RunSnapshot | null, against: string | null): SnapshotDiff {
  const params: ParamChange[] = [];
  let unchangedParams = 0;
  const pBefore = before?.params ?? {};
  const pAfter = after?.params ?? {};
  for (const k of [...new Set([...Object.keys(pBefore), ...Object.keys(pAfter)])].sort()) {
    const b = pBefore[k] ?? null;
    const a = pAfter[k] ?? null;
    if (a === b) unchangedParams++;
    else params.push({ key: k, before: b, after: a });
  }
  const metrics: MetricChange[] = [];
  const mBefore = before?.metrics ?? {};
  const mAfter = after?.metrics ?? {};
  for (const k of [...new Set([...Object.keys(mBefore), ...Object.keys(mAfter)])].sort()) {
    const b = mBefore[k]?.value ?? null;
    const a = mAfter[k]?.value ?? null;
    const finite = typeof a === 'number' && typeof b === 'number';
    metrics.push({
      key: k,
      before: b,
      after: a,
      delta: finite ? a - b : null,
      deltaPercent: finite && b !== 0 ? ((a - b) / Math.abs(b)) * 100 : null,
    });
  }
  return { against, params, unchangedParams, metrics };
}

// The agent's JSON-RPC side: owns the store and the agent lock, answers the
// extension's requests, reports progress and logs as notifications.
// stdout carries the protocol; everything human-readable goes to stderr.
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ingestPaths, type IngestSummary } from '../core/ingest/engine';
import { ALL_READERS } from '../core/ingest/registry';
import { acquireAgentLock, type AgentLock } from '../core/store/agentLock';

import type { RunStore } from '../core/store/types';
import { agentNotifications, agentRequests, PROTOCOL_VERSION, type AgentRequestHandlers, type AgentRequestMethod, type LogLevel, type RegistryRequests, type ReleaseRequests } from '../shared/protocol';
import { AGENT_VERSION } from './version';
import { pickHeadlineKeys } from '../core/runs/headline';
import { toWire, toWireDeep } from '../shared/wireNumbers';
import { inspectCached, latestResults, listModels, parityAndRecord, smokeAndRecord } from './modelHandlers';
import { goldenStatus } from '../core/models/golden';
import { RegistryService } from './registryHandlers';
import { ReleaseService } from './releaseHandlers';
import { LiveIngest } from './watch/liveIngest';
import { experimentsToWire, runDisplayNames } from './runLabels';
import { ShownWhileIngesting } from './shownWhileIngesting';
import { runDetailToWire, runSummaryToWire, seriesChangeToWire, seriesToWire } from './wire';
import { compareDivergence, compareSummary, downsampledSeries } from './compareHandlers';
import { openStore, type Store } from '../core/database/open';

export interface ServeOptions {
  databasePath: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export class AgentServer {
  private readonly connection: MessageConnection;
  private closed = false;
  private live: LiveIngest | undefined;
  /** The runs on the agent's one database connection (`database`, which the server owns and closes). */
  private readonly store: RunStore;
  private readonly registry: RegistryService;
  private readonly release: ReleaseService;
  /** Every ingest runs after the previous one: two reads of one source must never interleave. */
  private ingestChain: Promise<unknown> = Promise.resolve();

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.ingestChain.then(work, work);
    this.ingestChain = next.catch(() => undefined);
    return next;
  }

  private constructor(
    private readonly database: Store,
    private readonly lock: AgentLock,
    input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
  ) {
    this.connection = createMessageConnection(new StreamMessageReader(input), new StreamMessageWriter(output));
    this.store = database.runs;
    this.registry = new RegistryService(database.registry, database.runs);
    this.release = new ReleaseService(database.registry);
    const handlers = this.handlers();
    for (const method of Object.keys(agentRequests) as AgentRequestMethod[]) {
      this.register(method, handlers[method]);
    }
    this.connection.onClose(() => this.shutdown());
  }

  static start(options: ServeOptions): AgentServer {
    const databasePath = path.resolve(options.databasePath);
    const lock = acquireAgentLock(databasePath);
    let database: Store;
    try {
      database = openStore(databasePath);
    } catch (e) {
      lock.release();
      throw e;
    }
    const server = new AgentServer(database, lock, options.input ?? process.stdin, options.output ?? process.stdout);
    server.connection.listen();
    server.log('info', `agent ${AGENT_VERSION} on Node ${process.version} (${process.execPath}), database ${databasePath}`);
    return server;
  }

  private register<M extends AgentRequestMethod>(method: M, handler: AgentRequestHandlers[M]): void {
    // The cast is the one place the generic map meets vscode-jsonrpc's overloads.
    this.connection.onRequest(agentRequests[method] as never, handler as never);
  }

  /** Log lines travel as notifications, so the extension can show them by level; stderr is kept for crashes. */
  log(level: LogLevel, message: string): void {
    if (this.closed) process.stderr.write(`[${level}] ${message}\n`);
    else void this.connection.sendNotification(agentNotifications['agent/log'], { level, message });
  }

  private notifyChanged(summary: Pick<IngestSummary, 'changedRoots' | 'changes'>): void {
    if (summary.changedRoots.length === 0 || this.closed) return;
    void this.connection.sendNotification(agentNotifications['runs/changed'], {
      sourceRoots: summary.changedRoots,
      changes: summary.changes.map(seriesChangeToWire),
    });
  }

  private watchStatus() {
    return { watching: this.live !== undefined, paused: this.live?.paused ?? false, roots: this.live?.roots ?? [], watchedPaths: this.live?.watchedPathCount() ?? 0 };
  }

  private registryHandler<M extends keyof RegistryRequests>(method: M): AgentRequestHandlers[M] {
    return (async (params: RegistryRequests[M]['params'], token: { onCancellationRequested: (l: () => void) => unknown }) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const progress = (message: string) => void this.connection.sendNotification(agentNotifications['agent/progress'], { operation: 'registry', done: 0, total: 0, message });
      const result = await this.registry.handlers[method](params, abort.signal, progress);
      this.log('info', `${method} ${JSON.stringify(params)}: done`);
      return result;
    }) as never;
  }

  /** Push and deploy: their params may hold registry credentials, so only the method and the outcome are logged. */
  private releaseHandler<M extends keyof ReleaseRequests>(method: M): AgentRequestHandlers[M] {
    return (async (params: ReleaseRequests[M]['params'], token: { onCancellationRequested: (l: () => void) => unknown }) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const progress = (message: string) => void this.connection.sendNotification(agentNotifications['agent/progress'], { operation: 'release', done: 0, total: 0, message });
      const logChunk = (containerId: string, text: string) => void this.connection.sendNotification(agentNotifications['deploy/logChunk'], { containerId, text });
      try {
        const result = await this.release.handlers[method](params, abort.signal, progress, logChunk);
        if (method !== 'deploy/list' && method !== 'deploy/grayStatus' && method !== 'deploy/metrics') this.log('info', `${method}: done`);
        return result;
      } catch (e) {
        this.log('warn', `${method}: ${(e as Error).message}`);
        throw e;
      }
    }) as never;
  }

  private handlers(): AgentRequestHandlers {
    return {
      'release/push': this.releaseHandler('release/push'),
      'deploy/list': this.releaseHandler('deploy/list'),
      'deploy/start': this.releaseHandler('deploy/start'),
      'deploy/rollback': this.releaseHandler('deploy/rollback'),
      'deploy/remove': this.releaseHandler('deploy/remove'),
      'deploy/logs': this.releaseHandler('deploy/logs'),
      'deploy/metrics': this.releaseHandler('deploy/metrics'),
      'deploy/grayStart': this.releaseHandler('deploy/grayStart'),
      'deploy/grayStatus': this.releaseHandler('deploy/grayStatus'),
      'deploy/promote': this.releaseHandler('deploy/promote'),
      'deploy/grayAbort': this.releaseHandler('deploy/grayAbort'),
      'registry/models': this.registryHandler('registry/models'),
      'registry/versions': this.registryHandler('registry/versions'),
      'registry/register': this.registryHandler('registry/register'),
      'registry/evaluate': this.registryHandler('registry/evaluate'),
      'registry/approve': this.registryHandler('registry/approve'),
      'registry/reject': this.registryHandler('registry/reject'),
      'registry/alias': this.registryHandler('registry/alias'),
      'registry/archive': this.registryHandler('registry/archive'),
      'audit/verify': this.registryHandler('audit/verify'),
      'agent/hello': (params) => {
        if (params.protocolVersion !== PROTOCOL_VERSION) {
          this.log('warn', `client ${params.clientName} speaks protocol ${params.protocolVersion}, agent speaks ${PROTOCOL_VERSION}`);
        }
        return {
          agentVersion: AGENT_VERSION,
          protocolVersion: PROTOCOL_VERSION,
          nodeVersion: process.version,
          nodePath: process.execPath,
          databasePath: this.store.path,
          schemaVersion: this.store.schemaVersion(),
          formats: ALL_READERS.map((r) => r.format),
        };
      },
      'workspace/ingest': async (params, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const shown = new ShownWhileIngesting((roots) => this.notifyChanged({ changedRoots: roots, changes: [] }));
        const summary = await this.serialize(() => ingestPaths(this.store, ALL_READERS, params.paths, {
          force: params.force,
          signal: abort.signal,
          onSliceWritten: (root) => shown.written(root),
          onProgress: (p) => void this.connection.sendNotification(agentNotifications['agent/progress'], { operation: 'ingest', ...p }),
        }).finally(() => shown.stop()));
        for (const w of summary.warnings) this.log('warn', `${w.file}: ${w.message}`);
        this.log(
          'info',
          `ingest ${params.paths.join(', ')}: ${summary.sourcesRead} read, ${summary.sourcesUnchanged} unchanged, ${summary.sourcesRemoved} removed, ` +
            `${summary.runs} runs, ${summary.points} points in ${summary.durationMs} ms${summary.cancelled ? ' (cancelled)' : ''}`,
        );
        this.notifyChanged(summary);
        const { changedRoots: _changed, changes: _changes, ...report } = summary;
        return report;
      },
      'experiments/list': () => ({ experiments: experimentsToWire(this.store.listExperiments()) }),
      'runs/list': (params) => {
        const { runs, total } = this.store.listRuns(params);
        const values = this.store.lastValues(runs.map((r) => r.id));
        const names = runDisplayNames(this.store, runs);
        return {
          runs: runs.map((run) => {
            const series = values.get(run.id) ?? [];
            const keys = pickHeadlineKeys(series.map((s) => s.key));
            const headline = keys.map((key) => {
              const s = series.find((x) => x.key === key)!;
              return { key, lastValue: toWire(s.lastValue), lastStep: toWire(s.lastStep) };
            });
            return runSummaryToWire(run, headline, names.get(run.id));
          }),
          total,
        };
      },
      'runs/annotate': ({ id, ...annotation }) => {
        this.store.annotateRun(id, annotation);
        return null;
      },
      'runs/reindex': async ({ id }) => {
        const run = this.store.getRun(id);
        if (!run) throw new Error(`no run with id ${id}`);
        const summary = await this.serialize(() => ingestPaths(this.store, ALL_READERS, [run.sourceRoot], { force: true }));
        this.notifyChanged(summary);
        const { changedRoots: _c, changes: _ch, ...report } = summary;
        return report;
      },
      'runs/get': (params) => {
        const run = this.store.getRun(params.id);
        return run ? runDetailToWire(run, runDisplayNames(this.store, [run]).get(run.id)) : null;
      },
      'series/get': (params) => {
        const range = params.stepMin !== undefined || params.stepMax !== undefined ? { min: params.stepMin ?? -Infinity, max: params.stepMax ?? Infinity } : undefined;
        const points = this.store.readSeries(params.runId, params.key, range);
        return points ? seriesToWire(params.runId, params.key, points) : null;
      },
      'models/list': async (params) => ({ models: await listModels(this.store, params.roots) }),
      'models/inspect': async (params) => toWireDeep(await inspectCached(params.path)),
      'models/smoke': async (params, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const phases = ['starting', 'loading-runtime', 'loading-model', 'first-run', 'warmup', 'timing', 'batches'];
        const report = await smokeAndRecord(this.store, params, abort.signal, (phase) => {
          void this.connection.sendNotification(agentNotifications['agent/progress'], { operation: 'smoke', done: Math.max(0, phases.indexOf(phase)), total: phases.length, message: phase });
        });
        this.log('info', `smoke ${params.path}: ${report.pass ? 'PASS' : 'FAIL'} on ${report.ep.used}, p50 ${report.latency.p50Ms.toFixed(3)} ms`);
        return toWireDeep(report);
      },
      'models/parity': async (params, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const started = Date.now();
        // Progress has no fixed length (one pass per provider): the message says where it is.
        const report = await parityAndRecord(this.store, params, abort.signal, (message) => {
          void this.connection.sendNotification(agentNotifications['agent/progress'], { operation: 'smoke', done: 0, total: 0, message });
        });
        const verdicts = report.candidates.map((c) => `${c.label} ${c.status === 'ran' ? (c.pass ? 'pass' : 'FAIL') : c.status}`).join(', ');
        this.log('info', `parity ${params.path}: ${report.pass ? 'PASS' : 'FAIL'} (${verdicts || 'no other provider'}) in ${Date.now() - started} ms`);
        return toWireDeep(report);
      },
      'models/results': (params) => ({ ...latestResults(this.store, params.path), golden: goldenStatus(params.path) }),
      'series/downsampled': (params) => downsampledSeries(this.store, params),
      'compare/summary': (params) => compareSummary(this.store, params),
      'compare/divergence': (params) => compareDivergence(this.store, params),
      'watch/start': async (params) => {
        await this.live?.dispose();
        this.live = new LiveIngest(this.store, ALL_READERS, {
          ...params,
          serialize: (work) => this.serialize(work),
          onIngested: (summary) => {
            for (const w of summary.warnings) this.log('warn', `${w.file}: ${w.message}`);
            if (summary.changedRoots.length) this.log('debug', `live: ${summary.changes.length} series changed in ${summary.changedRoots.join(', ')} (${summary.durationMs} ms)`);
            this.notifyChanged(summary);
          },
          onError: (e) => this.log('error', `watcher: ${(e as Error).message ?? String(e)}`),
        });
        await this.live.ready();
        this.log('info', `watching ${params.roots.join(', ')} (${params.usePolling ? 'polling' : 'native events'}, debounce ${params.debounceMs} ms)`);
        return this.watchStatus();
      },
      'watch/setPaused': (params) => {
        this.live?.setPaused(params.paused);
        return this.watchStatus();
      },
      'watch/stop': async () => {
        await this.live?.dispose();
        this.live = undefined;
        return this.watchStatus();
      },
      'agent/shutdown': () => {
        setImmediate(() => this.shutdown());
        return null;
      },
    };
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    void this.live?.dispose();
    this.connection.dispose();
    this.database.close();
    this.lock.release();
    process.exitCode = process.exitCode ?? 0;
    // stdin stays open in a spawned child; leave explicitly once the store is closed.
    setImmediate(() => process.exit());
  }
}

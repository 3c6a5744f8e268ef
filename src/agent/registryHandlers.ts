// The agent's side of the model registry, for the editor: the same core
// functions the `runlens model` / `runlens audit` commands call, over the
// protocol, on the agent's one database connection.
import { approveVersion, evaluateVersion, rejectVersion } from '../core/registry/approval';
import { verifyStore } from '../core/registry/audit';
import { resolveActor } from '../core/registry/identity';
import { archiveVersion, setAlias } from '../core/registry/lifecycle';

import type { RegistryStore } from '../core/registry/types';
import { registerModelVersion, resolveVersion } from '../core/registry/versions';
import type { RunStore } from '../core/store/types';
import type { RegistryRequests } from '../shared/protocol';
import { toWireDeep, type Wired } from '../shared/wireNumbers';

type Handlers = {
  [M in keyof RegistryRequests]: (params: RegistryRequests[M]['params'], signal: AbortSignal, progress: (message: string) => void) => Promise<RegistryRequests[M]['result']>;
};

export class RegistryService {
  /** The registry and the runs on the agent's one database connection (the server owns it). */
  constructor(
    private readonly registry: RegistryStore,
    private readonly runs: RunStore,
  ) {}

  readonly handlers: Handlers = {
    'registry/models': async () => ({ models: toWireDeep(this.registry.listModels()) as Wired<ReturnType<RegistryStore['listModels']>> }),
    'registry/versions': async ({ name }) => ({ versions: toWireDeep(this.registry.listVersions({ name })) as Wired<ReturnType<RegistryStore['listVersions']>> }),
    'registry/register': async ({ file, name, run, workspace }) => {
      const actor = await resolveActor(workspace);
      const result = await registerModelVersion(this.registry, this.runs, { file, name, run, workspace, actor });
      return toWireDeep(result) as never;
    },
    'registry/evaluate': async ({ ref, workspace }, signal, progress) => {
      const registry = this.registry;
      const { evaluation } = await evaluateVersion(registry, resolveVersion(registry, ref), { workspace, signal, onProgress: progress });
      return toWireDeep(evaluation) as never;
    },
    'registry/approve': async ({ ref, reason, override, workspace }, signal, progress) => {
      const registry = this.registry;
      const actor = await resolveActor(workspace);
      const outcome = await approveVersion(registry, resolveVersion(registry, ref), { workspace, reason, override, actor, signal, onProgress: progress });
      return toWireDeep(outcome) as never;
    },
    'registry/reject': async ({ ref, reason, workspace }) => {
      const registry = this.registry;
      const actor = await resolveActor(workspace);
      return toWireDeep(rejectVersion(registry, resolveVersion(registry, ref), { reason, actor }).version) as never;
    },
    'registry/alias': async ({ ref, alias, reason, workspace }) => {
      const registry = this.registry;
      const actor = await resolveActor(workspace);
      setAlias(registry, resolveVersion(registry, ref), alias, { actor, reason });
      return null;
    },
    'registry/archive': async ({ ref, reason, workspace }) => {
      const registry = this.registry;
      const actor = await resolveActor(workspace);
      return toWireDeep(archiveVersion(registry, resolveVersion(registry, ref), { actor, reason })) as never;
    },
    'audit/verify': async () => toWireDeep(verifyStore(this.registry)) as never,
  };
}

// The commands that need the Docker client, the ONNX runtime's glue, the
// registry or the JSON-RPC server. cli.ts requires this module only when one
// of them runs; scripts/build.mjs bundles it as dist/agentHeavy.js.
import type { Command } from './command';
import { auditCommand } from './commands/audit';
import { deployCommand, deploymentsCommand } from './commands/deploy';
import { inspectCommand } from './commands/inspect';
import { modelCommand } from './commands/model';
import { parityCommand } from './commands/parity';
import { serveCommand } from './commands/serve';
import { smokeCommand } from './commands/smoke';

export const heavyCommands = {
  inspect: inspectCommand,
  smoke: smokeCommand,
  parity: parityCommand,
  model: modelCommand,
  audit: auditCommand,
  deploy: deployCommand,
  deployments: deploymentsCommand,
  serve: serveCommand,
} satisfies Record<string, Command>;

export type HeavyCommandName = keyof typeof heavyCommands;

// `runlens serve`: the local agent the VS Code extension starts.
import type { Command } from '../command';
import { databasePathOf } from '../paths';
import { AgentServer } from '../server';

export const serveCommand: Command = {
  usage: 'runlens serve --db FILE',
  summary: 'Run as the local agent: JSON-RPC over stdin/stdout (the VS Code extension starts this).',
  flags: { stdio: { value: false, description: 'use stdin/stdout (the default and only transport)' } },
  async run(args, io) {
    // stdout belongs to the protocol from here on.
    console.log = (...parts: unknown[]) => io.err(parts.map(String).join(' '));
    AgentServer.start({ databasePath: databasePathOf(args) });
    return new Promise<number>(() => {
      // Runs until the connection closes; AgentServer exits the process.
    });
  },
};

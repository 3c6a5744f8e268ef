// The dispatch shared by commands that have subcommands (`runlens model ...`,
// `runlens audit ...`): overview on a missing or unknown name, per-subcommand
// help, and refusal of flags the chosen subcommand does not take.
import { UserError } from '../core/errors';
import type { ParsedArgs } from './args';
import type { CliIO } from './command';

export interface SubcommandSpec {
  flags: readonly string[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export async function dispatchSubcommand<S extends SubcommandSpec>(
  command: string,
  subcommands: Record<string, S>,
  args: ParsedArgs,
  io: CliIO,
  text: { overview: () => string; help: (name: string, sub: S) => string },
): Promise<number> {
  const name = args.positionals[0];
  const sub = name ? subcommands[name] : undefined;
  if (!name || !sub) {
    if (!name && args.flags.has('help')) {
      io.out(text.overview());
      return 0;
    }
    if (name) io.err(`runlens ${command}: unknown subcommand "${name}"`);
    io.err(text.overview());
    return 1;
  }
  if (args.flags.has('help')) {
    io.out(text.help(name, sub));
    return 0;
  }
  for (const flag of args.flags.keys()) {
    if (flag === 'db' || flag === 'help') continue;
    if (!sub.flags.includes(flag)) throw new UserError('bad-argument', `${command} ${name} does not take --${flag} (see runlens ${command} ${name} --help)`);
  }
  return sub.run(args, io);
}

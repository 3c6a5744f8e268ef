// A small, strict argument parser: unknown flags are user errors, not ignored.
import { UserError } from '../core/errors';

export interface FlagSpec {
  /** Takes a value (`--db PATH`) or is a switch (`--json`). */
  value: boolean;
  description: string;
}

export interface ParsedArgs {
  positionals: string[];
  /** The last value of each flag (or `true` for a switch). */
  flags: Map<string, string | true>;
  /** Every value of each value-taking flag, in order: for flags that may repeat (`--dataset a --dataset b`). */
  lists: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      const flag = spec[name];
      if (!flag) throw new UserError('bad-argument', `unknown option --${name} (see --help)`);
      if (flag.value) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UserError('bad-argument', `--${name} needs a value`);
        flags.set(name, value);
        lists.set(name, [...(lists.get(name) ?? []), value]);
      } else {
        flags.set(name, true);
      }
    } else if (arg === '-h') {
      flags.set('help', true);
    } else {
      positionals.push(arg);
    }
  }
  return { positionals, flags, lists };
}

export function helpFor(usage: string, summary: string, spec: Record<string, FlagSpec>): string {
  const lines = [`usage: ${usage}`, '', summary, '', 'options:'];
  for (const [name, flag] of Object.entries(spec)) {
    lines.push(`  --${name}${flag.value ? ' VALUE' : ''}`.padEnd(24) + flag.description);
  }
  return lines.join('\n');
}

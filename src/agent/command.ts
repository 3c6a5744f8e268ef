// The shape of one `runlens` subcommand. Each command validates its own
// arguments and throws UserError for anything the user can fix.
import type { FlagSpec, ParsedArgs } from './args';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (progress lines redraw in place). */
  interactive: boolean;
}

export interface Command {
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

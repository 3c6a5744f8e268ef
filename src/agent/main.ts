// Entry point of dist/agent.js: the local agent (`serve`) and the `runlens` CLI.
import { runCli } from './cli';

// `runlens runs | head`: the reader went away; that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text + '\n'),
  err: (text) => process.stderr.write(text.startsWith('\r') ? text : text + '\n'),
  interactive: Boolean(process.stderr.isTTY),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`runlens: internal error: ${String((e as Error)?.stack ?? e)}\n`);
    process.exitCode = 2;
  },
);

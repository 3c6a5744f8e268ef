// One build entry for everything:
//   dist/extension.js  the VS Code extension (vscode external; no native modules)
//   dist/agent.js      the `runlens` CLI: ingest and run queries (native modules external)
//   dist/agentHeavy.js the agent server and the model, registry and deploy commands, loaded on use
//   dist/webview.js    the comparison panel's UI
//   dist/modelCard.js  the model card's UI
//   out/               tsc output of src, test and bench (with --tests) for node:test and the host suites
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const withTests = process.argv.includes('--tests');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const agent = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  // Native modules are resolved at run time from node_modules, for the Node that runs the agent.
  // ssh2 (dockerode's transport for ssh:// engines) is bundled: it is plain JavaScript whose optional
  // native parts (cpu-features, sshcrypto.node) are loaded in try/catch, so leaving them out is safe,
  // while leaving ssh2 itself out would break the packaged agent (the .vsix ships no ssh2).
  external: ['better-sqlite3', 'onnxruntime-node', 'cpu-features', '*.node'],
};

/** In dist/agent.js, cli.ts's require('./heavyCommands') names the other bundle instead of inlining it. */
const heavyCommandsApart = {
  name: 'heavy-commands-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/heavyCommands$/ }, () => ({ path: './agentHeavy.js', external: true }));
  },
};

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  }),
  // The agent is two bundles: dist/agent.js (the CLI, ingest, the run queries: what every call loads)
  // and dist/agentHeavy.js (src/agent/heavyCommands.ts: serve, models, registry, deploy), which
  // agent.js requires only when one of those commands runs. Each is whole on its own.
  esbuild.build({
    ...agent,
    entryPoints: ['src/agent/main.ts'],
    outfile: 'dist/agent.js',
    plugins: [heavyCommandsApart],
  }),
  esbuild.build({
    ...agent,
    entryPoints: ['src/agent/heavyCommands.ts'],
    outfile: 'dist/agentHeavy.js',
  }),
  // Smoke tests run models in a child process of the agent, so a model that
  // crashes or hangs the runtime cannot take the agent down.
  esbuild.build({
    ...common,
    entryPoints: ['src/core/models/smokeWorker.ts'],
    outfile: 'dist/smokeWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['onnxruntime-node'],
  }),
  // The TensorBoard reader's framing worker (src/core/ingest/tensorboard/framing.ts):
  // verifies record checksums on a second core while the agent decodes.
  esbuild.build({
    ...common,
    entryPoints: ['src/core/ingest/tensorboard/framingWorker.ts'],
    outfile: 'dist/framingWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
  }),
  // The text readers' parse worker (src/core/ingest/parseWorker.ts): parses
  // the second half of a big MLflow or Lightning read on a second core.
  esbuild.build({
    ...common,
    entryPoints: ['src/core/ingest/parseWorkerThread.ts'],
    outfile: 'dist/parseWorkerThread.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
  }),
  // The serving server and the gray-release router, copied into serving
  // images (src/core/deploy/image.ts); onnxruntime-node travels beside them.
  ...['serve', 'router'].map((name) =>
    esbuild.build({
      ...common,
      entryPoints: [`src/serve/${name === 'serve' ? 'server' : 'router'}.ts`],
      outfile: `dist/${name}.js`,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      external: ['onnxruntime-node'],
    }),
  ),
  existsSync(path.join(root, 'webview/main.ts')) && esbuild.build({
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'text' },
  }),
  existsSync(path.join(root, 'webview/modelCard/main.ts')) && esbuild.build({
    ...common,
    entryPoints: ['webview/modelCard/main.ts'],
    outfile: 'dist/modelCard.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'text' },
  }),
]);

if (withTests) {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
}

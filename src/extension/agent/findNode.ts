// Finds the Node.js that runs the agent, predictably: the setting
// `runlens.agent.nodePath` if set, else `node` on PATH. Not VS Code's own
// runtime: its Electron ABI cannot load the agent's native modules.
// Free of `vscode` so it is unit-tested in plain Node.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MINIMUM_NODE_MAJOR = 20;

export interface NodeRuntime {
  path: string;
  version: string;
  major: number;
}

export class NodeRuntimeError extends Error {
  constructor(
    message: string,
    readonly fixableBySetting: boolean,
  ) {
    super(message);
    this.name = 'NodeRuntimeError';
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function searchPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD').split(';') : [''];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = path.join(dir, command + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function queryVersion(nodePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(nodePath, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim());
    });
  });
}

export async function findNode(configuredPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<NodeRuntime> {
  let nodePath: string;
  const configured = configuredPath?.trim();
  if (configured) {
    if (!isExecutable(configured)) {
      throw new NodeRuntimeError(`The setting "runlens.agent.nodePath" points to ${configured}, which is not an executable file. Fix the path, or clear the setting to use \`node\` from PATH.`, true);
    }
    nodePath = configured;
  } else {
    const found = searchPath('node', env);
    if (!found) {
      throw new NodeRuntimeError(
        `RunLens runs its agent with Node.js ${MINIMUM_NODE_MAJOR} or newer, and found no \`node\` on PATH. Install Node.js ${MINIMUM_NODE_MAJOR}+ or set "runlens.agent.nodePath" to a node executable.`,
        true,
      );
    }
    nodePath = found;
  }
  let version: string;
  try {
    version = await queryVersion(nodePath);
  } catch (e) {
    throw new NodeRuntimeError(`Could not run ${nodePath} --version (${(e as Error).message}). Set "runlens.agent.nodePath" to a working Node.js ${MINIMUM_NODE_MAJOR}+.`, true);
  }
  const match = /^v(\d+)\./.exec(version);
  const major = match ? Number(match[1]) : NaN;
  if (!(major >= MINIMUM_NODE_MAJOR)) {
    throw new NodeRuntimeError(
      `RunLens needs Node.js ${MINIMUM_NODE_MAJOR} or newer for its agent, but ${nodePath} is ${version || 'of unknown version'}. Install a newer Node.js or set "runlens.agent.nodePath".`,
      true,
    );
  }
  return { path: nodePath, version, major };
}

// Who is acting: the git identity configured for the workspace (what their
// commits carry), else the operating-system user. Not authentication: it
// records who said they acted; the audit log makes that record tamper-evident.
import * as os from 'node:os';
import { runGit, GitMissingError } from './git';

export interface Actor {
  /** What the audit log and tables store: "Name <email>", or "user@host (OS user)". */
  display: string;
  name: string | null;
  email: string | null;
  source: 'git' | 'os';
}

export async function resolveActor(workspace: string, gitBinary = 'git'): Promise<Actor> {
  try {
    const name = await gitConfig(workspace, 'user.name', gitBinary);
    const email = await gitConfig(workspace, 'user.email', gitBinary);
    if (name || email) {
      const display = name && email ? `${name} <${email}>` : name ? name : `<${email}>`;
      return { display, name, email, source: 'git' };
    }
  } catch (e) {
    if (!(e instanceof GitMissingError)) throw e;
  }
  return osActor();
}

export function osActor(): Actor {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment is all there is.
    user = process.env.USER || process.env.USERNAME || `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { display: `${user}@${os.hostname()} (OS user)`, name: user, email: null, source: 'os' };
}

async function gitConfig(cwd: string, key: string, gitBinary: string): Promise<string | null> {
  // Outside a repository `git config` still reads the global and system files.
  const r = await runGit(cwd, ['config', '--get', key], gitBinary);
  const value = r.code === 0 ? r.stdout.trim() : '';
  return value || null;
}

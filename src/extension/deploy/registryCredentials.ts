// Registry credentials live in VS Code's SecretStorage (the OS keychain), one
// entry per registry host; never in settings, never in the database. The agent
// gets them with the one push request that needs them.
import * as vscode from 'vscode';
import type { RegistryCredentials } from '../../shared/releaseProtocol';

const KEY_PREFIX = 'runlens.registry/';

/** The registry host of `REGISTRY/REPO[:TAG]` (the part before the first slash). */
export function registryHostOf(target: string): string {
  const host = target.split('/')[0] ?? '';
  if (!host || !target.includes('/')) throw new Error(`"${target}" names no registry: use REGISTRY/REPO[:TAG], e.g. ghcr.io/team/model:v3 or 127.0.0.1:5000/model`);
  return host.toLowerCase();
}

export class RegistryCredentialStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(host: string): Promise<RegistryCredentials | undefined> {
    const text = await this.secrets.get(KEY_PREFIX + host.toLowerCase());
    if (!text) return undefined;
    try {
      const parsed = JSON.parse(text) as RegistryCredentials;
      return typeof parsed.username === 'string' && typeof parsed.secret === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async set(host: string, credentials: RegistryCredentials): Promise<void> {
    await this.secrets.store(KEY_PREFIX + host.toLowerCase(), JSON.stringify(credentials));
  }

  async forget(host: string): Promise<boolean> {
    const had = (await this.secrets.get(KEY_PREFIX + host.toLowerCase())) !== undefined;
    await this.secrets.delete(KEY_PREFIX + host.toLowerCase());
    return had;
  }

  /** Asks for a username and a password or token; stores them only when both are given. */
  async prompt(host: string): Promise<RegistryCredentials | undefined> {
    const username = await vscode.window.showInputBox({ title: `Credentials for ${host}`, prompt: 'User name (for a token-only registry, any name the registry accepts)', ignoreFocusOut: true });
    if (!username) return undefined;
    const secret = await vscode.window.showInputBox({ title: `Credentials for ${host}`, prompt: `Password or access token for ${username}; kept in the OS keychain by VS Code`, password: true, ignoreFocusOut: true });
    if (!secret) return undefined;
    const credentials = { username, secret };
    await this.set(host, credentials);
    return credentials;
  }
}

// Where registry credentials come from. The VS Code extension passes what it
// keeps in SecretStorage with the request (explicit); terminals use the
// user's Docker config. Credentials live in memory for one push or pull: they
// are never logged, never put in an error message (only the user name is),
// and never stored in the database.

export type RegistryCredentials =
  /** A user name and password (or personal access token) for Basic auth and the token endpoint. */
  | { kind: 'basic'; username: string; password: string }
  /** An OAuth2 refresh token from `docker login` against an identity provider (Docker's `identitytoken`). */
  | { kind: 'identity-token'; token: string };

export interface CredentialSource {
  /** Where they come from, for messages: "the credentials given", "docker config /home/a/.docker/config.json". */
  readonly description: string;
  /** The credentials for a registry (host[:port]), or null when this source has none for it. */
  lookup(registry: string): Promise<RegistryCredentials | null>;
}

export function explicitCredentials(credentials: RegistryCredentials, description = 'the credentials given'): CredentialSource {
  return { description, lookup: async () => credentials };
}

export const NO_CREDENTIALS: CredentialSource = { description: 'no credentials', lookup: async () => null };

/** The first source that has credentials for the registry wins. */
export function firstOf(...sources: CredentialSource[]): CredentialSource {
  return {
    description: sources.map((s) => s.description).join(', then '),
    async lookup(registry) {
      for (const source of sources) {
        const found = await source.lookup(registry);
        if (found) return found;
      }
      return null;
    },
  };
}

/** Who the credentials speak for, for error messages (never the secret). */
export function credentialUser(credentials: RegistryCredentials | null): string | null {
  if (!credentials) return null;
  return credentials.kind === 'basic' ? credentials.username : '(identity token)';
}

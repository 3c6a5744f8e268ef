// `WWW-Authenticate` challenges (RFC 7235): `Basic realm="..."` or
// `Bearer realm="...",service="...",scope="..."`, the header a registry
// answers 401 with to say how it wants to be authenticated.

export interface AuthChallenge {
  /** Lowercase: "basic", "bearer". */
  scheme: string;
  params: Record<string, string>;
}

/** Parses one header value; several challenges in one value are split at each new scheme. */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | null = null;
  let i = 0;
  const skip = () => {
    while (i < header.length && /[\s,]/.test(header[i])) i++;
  };
  while (skip(), i < header.length) {
    const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(header.slice(i));
    if (!token) break;
    i += token[0].length;
    while (i < header.length && header[i] === ' ') i++;
    if (header[i] === '=') {
      // name=value: a parameter of the current challenge.
      i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i++];
        }
        i++;
      } else {
        const bare = /^[^\s,]*/.exec(header.slice(i))![0];
        value = bare;
        i += bare.length;
      }
      if (current) current.params[token[0].toLowerCase()] = value;
    } else {
      current = { scheme: token[0].toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}

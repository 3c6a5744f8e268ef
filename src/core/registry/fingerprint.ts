// Content fingerprints: sha256 of a model file, and of dataset files or folders.
// Hashing streams the bytes (datasets can be far larger than memory) and is
// asynchronous, so the agent keeps answering while a large folder is hashed.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

export interface FileDigest {
  sha256: string;
  size: number;
}

export interface DatasetFingerprint {
  /** Absolute path as given (not resolved through symlinks: it is what the user named). */
  path: string;
  kind: 'file' | 'directory';
  sha256: string;
  /** Files hashed (1 for a file). */
  files: number;
  bytes: number;
}

export async function hashFile(file: string): Promise<FileDigest> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (e) {
    throw unreadable(file, e);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * A file: the sha256 of its bytes. A folder: the sha256 of one line per file,
 * `relative/posix/path \0 sha256-of-contents \n`, over the files sorted by
 * relative path (byte order, so the result does not depend on the OS or the
 * locale). Hashing each file's digest rather than the concatenated bytes keeps
 * file boundaries unambiguous: moving bytes from one file to the next changes
 * the fingerprint. Symbolic links are not followed (a link to a parent folder
 * would never end); a link contributes its target text instead. Empty folders
 * contribute nothing, as in git.
 */
export async function fingerprintPath(target: string): Promise<DatasetFingerprint> {
  const absolute = path.resolve(target);
  let st: fs.Stats;
  try {
    st = fs.statSync(absolute);
  } catch (e) {
    throw new UserError('not-found', `dataset ${target}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
  }
  if (st.isFile()) {
    const d = await hashFile(absolute);
    return { path: absolute, kind: 'file', sha256: d.sha256, files: 1, bytes: d.size };
  }
  if (!st.isDirectory()) throw new UserError('bad-argument', `dataset ${target} is neither a file nor a folder`);

  const entries = listTree(absolute);
  const outer = crypto.createHash('sha256');
  let bytes = 0;
  for (const entry of entries) {
    let digest: string;
    if (entry.link !== null) {
      digest = crypto.createHash('sha256').update(`symlink:${entry.link}`).digest('hex');
    } else {
      const d = await hashFile(path.join(absolute, entry.relative));
      digest = d.sha256;
      bytes += d.size;
    }
    outer.update(`${entry.relative}\0${digest}\n`);
  }
  return { path: absolute, kind: 'directory', sha256: outer.digest('hex'), files: entries.length, bytes };
}

interface TreeEntry {
  relative: string;
  /** Target of a symbolic link; null for a regular file. */
  link: string | null;
}

function listTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (dir: string, prefix: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw unreadable(dir, e);
    }
    for (const d of names) {
      const relative = prefix ? `${prefix}/${d.name}` : d.name;
      const full = path.join(dir, d.name);
      if (d.isSymbolicLink()) out.push({ relative, link: fs.readlinkSync(full) });
      else if (d.isDirectory()) walk(full, relative);
      else if (d.isFile()) out.push({ relative, link: null });
      // Sockets, FIFOs and devices have no content to fingerprint.
    }
  };
  walk(root, '');
  // Byte order of the UTF-8 path, not localeCompare: the same tree must give the same hash everywhere.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.relative), Buffer.from(b.relative)));
}

function unreadable(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError('not-found', `${file}: no such file`);
  return new UserError('bad-argument', `cannot read ${file}: ${code ?? (e as Error).message}`);
}

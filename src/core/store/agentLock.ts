// One writer per database. SQLite would serialize two writers itself, but two
// agents on one database would both watch and re-ingest the same files and
// fight over it; the second one must stop and say why instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

export interface AgentLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireAgentLock(databasePath: string): AgentLock {
  const lockPath = `${databasePath}.lock`;
  try {
    fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  } catch (e) {
    throw new UserError('storage-unwritable', `Cannot create the storage folder ${path.dirname(lockPath)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Choose a writable location with "runlens.database.path" or --db.`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      fs.closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          const owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid?: number };
          if (owner.pid === process.pid) fs.unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
      process.once('exit', release);
      return { path: lockPath, release };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new UserError('storage-unwritable', `Cannot create the lock file ${lockPath}: ${(e as Error).message}. Check that the folder is writable, or choose another database location.`);
      }
      let owner: { pid?: number; startedAt?: string } = {};
      try {
        owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as typeof owner;
      } catch {
        // An empty or garbled lock file is the remains of a crash mid-write.
      }
      if (typeof owner.pid === 'number' && owner.pid !== process.pid && isAlive(owner.pid)) {
        throw new UserError(
          'database-in-use',
          `Another RunLens agent (pid ${owner.pid}, started ${owner.startedAt ?? 'at an unknown time'}) is already using the database ${databasePath}. ` +
            'Close the other VS Code window or `runlens` process that uses it, or pass a different --db.',
        );
      }
      // Stale lock from a process that died: take it over.
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new UserError('database-in-use', `Could not take the lock ${lockPath} for ${databasePath}; another agent keeps taking it.`);
}

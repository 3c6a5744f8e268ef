// Which directories are TensorBoard runs, and how runs group into log dirs.
// Pure path logic: no file is opened.
//
// A run is a directory that directly holds at least one event file
// (`events.out.tfevents.<time>.<host...>`, any suffix such as `.v2` or
// `.profile-empty`; host names may contain dots).
//
// Grouping rule. A run dir nested inside another run dir belongs with the
// outermost one (TF estimators write `model_dir/` and `model_dir/eval/`).
// Each outermost run dir's log dir is its parent; outermost run dirs with the
// same parent share one source. So:
//   a/logs/run1/events*, a/logs/run1/eval/events*, a/logs/run2/events*
//     -> one source at a/logs: runs run1, run1/eval, run2
//   lightning_logs/version_0/events*   -> source lightning_logs, run version_0
//   model_dir/events*, model_dir/eval/events*
//     -> source at model_dir's parent: runs model_dir, model_dir/eval
//   tb_logs/modelA/version_0, tb_logs/modelB/version_0
//     -> two sources, modelA and modelB (Lightning's name/version layout: one
//        experiment per name)
// The parent rather than the common ancestor, so that a single run still
// gets a readable name ("version_0", not ".") and sibling runs written later
// land in the same source. Only a run dir at the filesystem root is its own
// log dir (run key ".").
import * as path from 'node:path';
import type { SourceCandidate } from '../types';

const EVENT_FILE_NAME = /^events\.out\.tfevents\../;

export function isEventFileName(fileName: string): boolean {
  return EVENT_FILE_NAME.test(fileName);
}

export function discoverTensorBoardSources(files: readonly string[]): SourceCandidate[] {
  const eventFilesByRunDir = new Map<string, string[]>();
  for (const file of files) {
    if (!isEventFileName(path.posix.basename(file))) continue;
    const runDir = path.posix.dirname(file);
    let list = eventFilesByRunDir.get(runDir);
    if (!list) eventFilesByRunDir.set(runDir, (list = []));
    list.push(file);
  }

  const filesByLogDir = new Map<string, string[]>();
  for (const [runDir, eventFiles] of eventFilesByRunDir) {
    const logDir = logDirOf(outermostRunDir(runDir, eventFilesByRunDir));
    let list = filesByLogDir.get(logDir);
    if (!list) filesByLogDir.set(logDir, (list = []));
    list.push(...eventFiles);
  }

  return [...filesByLogDir.entries()]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([root, sourceFiles]) => ({ format: 'tensorboard' as const, root, files: sourceFiles.sort(compareCodeUnits) }));
}

function outermostRunDir(runDir: string, runDirs: ReadonlyMap<string, unknown>): string {
  let outermost = runDir;
  for (let dir = runDir; ; ) {
    const parent = path.posix.dirname(dir);
    if (parent === dir) break;
    if (runDirs.has(parent)) outermost = parent;
    dir = parent;
  }
  return outermost;
}

function logDirOf(outermostRunDir: string): string {
  return path.posix.dirname(outermostRunDir);
}

/** File-name order as TensorBoard uses it: plain code-unit order, independent of locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Telling an appended file from a rewritten one: size, mtime and a hash of
// the first bytes. Appenders (TensorBoard, MLflow metrics, Keras, DVCLive TSV)
// only grow; writers that rewrite (Lightning when a column appears, DVCLive's
// metrics.json) change the head or shrink the file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { FileCursor } from './types';

/** Long enough to cover a CSV header or an event file's first record. */
export const HEAD_BYTES = 1024;

export async function readHeadHash(file: string, size: number): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const length = Math.min(size, HEAD_BYTES);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return headHashOf(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export function headHashOf(head: Uint8Array): string {
  return crypto.createHash('sha256').update(head).digest('hex').slice(0, 32);
}

export type FileChange = 'new' | 'unchanged' | 'appended' | 'rewritten';

/**
 * Compares a file now with its cursor. The head is compared over the bytes
 * both versions had (a file shorter than HEAD_BYTES grows into its head).
 */
export async function classifyChange(file: string, previous: FileCursor | undefined): Promise<{ change: FileChange; size: number; mtimeMs: number }> {
  const st = await fs.promises.stat(file);
  if (!previous) return { change: 'new', size: st.size, mtimeMs: st.mtimeMs };
  if (st.size === previous.size && st.mtimeMs === previous.mtimeMs) return { change: 'unchanged', size: st.size, mtimeMs: st.mtimeMs };
  if (st.size < previous.offset) return { change: 'rewritten', size: st.size, mtimeMs: st.mtimeMs };
  const comparable = Math.min(previous.size, HEAD_BYTES);
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(comparable);
    const { bytesRead } = await handle.read(buffer, 0, comparable, 0);
    const sameHead = bytesRead === comparable && headHashOf(buffer.subarray(0, bytesRead)) === previous.headHash;
    return { change: sameHead ? 'appended' : 'rewritten', size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    await handle.close();
  }
}

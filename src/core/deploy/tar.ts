// A small tar writer (POSIX ustar, with a PAX header for paths that do not fit)
// for the two archives the product hands to Docker: the base image's root
// filesystem (`docker import`) and a serving image's build context. Files
// are streamed from disk, so a 100 MB node binary is never held in memory.
// Owners are root and times fixed, so the same inputs make the same bytes.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';

export type TarEntry =
  | { kind: 'file'; name: string; mode?: number; source: { path: string } | { bytes: Buffer } }
  | { kind: 'directory'; name: string; mode?: number }
  | { kind: 'symlink'; name: string; target: string };

const BLOCK = 512;
/** A fixed mtime: reproducible archives (Docker's build cache keys on content anyway). */
const MTIME = 0;

export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}

async function* generate(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    const name = entry.kind === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    if (entry.kind === 'file') {
      const size = 'bytes' in entry.source ? entry.source.bytes.length : fs.statSync(entry.source.path).size;
      yield* headerBlocks(name, { type: '0', size, mode: entry.mode ?? 0o644 });
      let written = 0;
      if ('bytes' in entry.source) {
        yield entry.source.bytes;
        written = entry.source.bytes.length;
      } else {
        for await (const chunk of fs.createReadStream(entry.source.path, { highWaterMark: 1 << 20 })) {
          written += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
      if (written !== size) throw new Error(`${name} changed size while it was archived (${size} → ${written} bytes)`);
      if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
    } else if (entry.kind === 'directory') {
      yield* headerBlocks(name, { type: '5', size: 0, mode: entry.mode ?? 0o755 });
    } else {
      yield* headerBlocks(name, { type: '2', size: 0, mode: 0o777, linkname: entry.target });
    }
  }
  // Two empty blocks end the archive.
  yield Buffer.alloc(BLOCK * 2);
}

function* headerBlocks(name: string, h: { type: string; size: number; mode: number; linkname?: string }): Generator<Buffer> {
  const linkname = h.linkname ?? '';
  const longName = Buffer.byteLength(name) > 100;
  const longLink = Buffer.byteLength(linkname) > 100;
  if (longName || longLink) {
    const records = (longName ? paxRecord('path', name) : '') + (longLink ? paxRecord('linkpath', linkname) : '');
    const body = Buffer.from(records, 'utf8');
    yield header('PaxHeader', { type: 'x', size: body.length, mode: 0o644 });
    yield body;
    if (body.length % BLOCK) yield Buffer.alloc(BLOCK - (body.length % BLOCK));
  }
  yield header(longName ? name.slice(-100) : name, { ...h, linkname: longLink ? linkname.slice(0, 100) : linkname });
}

/** "LEN key=value\n" where LEN counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest);
  while (String(length).length + Buffer.byteLength(rest) !== length) length = String(length).length + Buffer.byteLength(rest);
  return `${length}${rest}`;
}

function header(name: string, h: { type: string; size: number; mode: number; linkname?: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  octal(block, 100, 8, h.mode);
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, h.size);
  octal(block, 136, 12, MTIME);
  block.write(h.type, 156, 1, 'ascii');
  if (h.linkname) block.write(h.linkname, 157, 100, 'utf8');
  block.write('ustar\u0000', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write('root', 265, 32, 'ascii');
  block.write('root', 297, 32, 'ascii');
  // The checksum is computed with its own field as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'ascii');
  return block;
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  block.write(text + '\u0000', offset, length, 'ascii');
}

// The bytes of one blob, read in bounded slices: an upload holds at most one
// chunk in memory whatever the model's size, and can start over from byte 0.
import * as fs from 'node:fs/promises';

export interface BlobSource {
  digest: string;
  size: number;
  /** For messages: the file name or what the blob is. */
  label: string;
  read(offset: number, length: number): Promise<Buffer>;
}

export function bufferBlob(digest: string, bytes: Buffer, label: string): BlobSource {
  return { digest, size: bytes.length, label, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

export function fileBlob(digest: string, size: number, file: string, label: string): BlobSource {
  return {
    digest,
    size,
    label,
    async read(offset, length) {
      const handle = await fs.open(file, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(length, size - offset));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead !== buffer.length) throw new Error(`${file} is shorter than when it was hashed (${offset + bytesRead} of ${size} bytes); it changed during the push`);
        return buffer;
      } finally {
        await handle.close();
      }
    },
  };
}

// CRC-32C (Castagnoli), the checksum TFRecord framing uses. Not the zlib
// CRC-32 that Node ships: different polynomial, so we carry our own tables.

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

/** TFRecord adds this after rotating, so that a CRC of data that itself holds CRCs does not degenerate. */
const TFRECORD_MASK_DELTA = 0xa282ead8;

/**
 * Slicing-by-8 tables: TABLES[k * 256 + b] is the CRC of byte b followed by k
 * zero bytes, so eight bytes are folded per step with eight lookups instead
 * of eight dependent shift-and-lookup rounds. Int32 so that V8 keeps every
 * intermediate a small integer (a Uint32Array element above 2^31 is a double).
 */
const TABLES: Int32Array = (() => {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n];
    for (let k = 1; k < 8; k++) {
      c = tables[c & 0xff] ^ (c >>> 8);
      tables[k * 256 + n] = c;
    }
  }
  return tables;
})();

/**
 * CRC-32C of `bytes[start, end)`. Taking a range instead of a subarray keeps
 * the per-record cost to the loop itself when scanning a large file buffer.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let crc = -1;
  let i = start;
  for (const stop = end - 8; i <= stop; i += 8) {
    crc ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    crc =
      t[1792 + (crc & 0xff)] ^
      t[1536 + ((crc >>> 8) & 0xff)] ^
      t[1280 + ((crc >>> 16) & 0xff)] ^
      t[1024 + (crc >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < end; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits, add a constant, as uint32. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + TFRECORD_MASK_DELTA) >>> 0;
}

/** Masked CRC-32C of `bytes[start, end)`, as stored in TFRecord files. */
export function maskedCrc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return maskCrc(crc32c(bytes, start, end));
}

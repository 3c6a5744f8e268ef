// CRC-32C (Castagnoli), the checksum TFRecord framing uses. Not the zlib
// CRC-32 that Node ships: different polynomial, so we carry our own table.

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

/** TFRecord adds this after rotating, so that a CRC of data that itself holds CRCs does not degenerate. */
const TFRECORD_MASK_DELTA = 0xa282ead8;

const BYTE_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C of `bytes[start, end)`. Taking a range instead of a subarray keeps
 * the per-record cost to the loop itself when scanning a large file buffer.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = BYTE_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits, add a constant, as uint32. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + TFRECORD_MASK_DELTA) >>> 0;
}

/** Masked CRC-32C of `bytes[start, end)`, as stored in TFRecord files. */
export function maskedCrc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return maskCrc(crc32c(bytes, start, end));
}

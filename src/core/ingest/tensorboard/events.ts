// Decodes tensorflow.Event records down to what RunLens shows: wall time,
// step, scalar values and hparams. Field numbers follow
// tensorflow/core/util/event.proto, framework/summary.proto and
// framework/tensor.proto. Everything else (graph_def, meta_graph_def,
// session_log, images, histograms, audio, string tensors...) is skipped by
// its length prefix without being parsed.
//
// Event files hold millions of tiny records, so the decoder reads the wire
// format straight from the read window (no view, no reader object, no
// key objects per record) and interns tag names (one UTF-8 decode per
// distinct tag, not per event). Its varint, skip and bounds rules are
// protobufjs's, so values and errors are those of the generic decoder.
import { float16BitsToNumber } from './float16';
import { decodeHParamsSessionStart, HPARAMS_PLUGIN_NAME, type SessionStartInfo } from './hparams';

export interface TaggedScalar {
  tag: string;
  /** Exactly as stored: a float32 becomes the double with the same value; NaN and infinities kept. */
  value: number;
}

export interface DecodedEvent {
  /** Seconds since the epoch; NaN when the event has none. */
  wallTimeSeconds: number;
  /** proto3 omits a zero step, so an absent step is step 0. */
  step: number;
  /** Set on the first event of a file, e.g. "brain.Event:2". */
  fileVersion?: string;
  scalars: TaggedScalar[];
  /** From an hparams-plugin summary, when the event carries one. */
  sessionStart?: SessionStartInfo;
}

const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

const enum EventField {
  WallTime = 1,
  Step = 2,
  FileVersion = 3,
  Summary = 5,
  // graph_def=4, log_message=6, session_log=7, tagged_run_metadata=8,
  // meta_graph_def=9, source_metadata=10: skipped.
}

const enum SummaryValueField {
  Tag = 1,
  SimpleValue = 2,
  NodeName = 7,
  Tensor = 8,
  Metadata = 9,
  // obsolete_old_style_histogram=3, image=4, histo=5, audio=6: skipped.
}

const enum SummaryMetadataField {
  PluginData = 1,
  DataClass = 4,
}

const enum PluginDataField {
  PluginName = 1,
  Content = 2,
}

/** tensorboard's DataClass: tells a reader what a tensor summary means without knowing its plugin. */
const enum DataClass {
  Unknown = 0,
  Scalar = 1,
}

const enum TensorField {
  Dtype = 1,
  TensorShape = 2,
  TensorContent = 4,
  FloatVal = 5,
  DoubleVal = 6,
  HalfVal = 13,
}

const enum TensorShapeField {
  Dim = 2,
  UnknownRank = 3,
}

const enum DType {
  Float = 1,
  Double = 2,
  BFloat16 = 14,
  Half = 19,
}

/** Which plugin a summary value names, from the bytes of its name. */
const enum Plugin {
  None = 0, // absent or ''
  Scalars = 1,
  HParams = 2,
  Other = 3,
}

const SCALARS_NAME = Buffer.from('scalars');
const HPARAMS_NAME = Buffer.from(HPARAMS_PLUGIN_NAME);
/** protobufjs's limit on nested groups when skipping. */
const MAX_SKIP_DEPTH = 100;

// Little-endian floats and doubles through one 8-byte scratch (the platform is little-endian; see chunkCodec).
const scratchBytes = new Uint8Array(8);
const scratchFloat = new Float32Array(scratchBytes.buffer, 0, 1);
const scratchDouble = new Float64Array(scratchBytes.buffer);
const scratchHalf = new Uint16Array(scratchBytes.buffer, 0, 1);

function outOfRange(pos: number, length: number, len: number): RangeError {
  return new RangeError(`index out of range: ${pos} + ${length} > ${len}`);
}

/**
 * Interns tag names: the id of a tag's bytes, decoding each distinct tag once.
 * Tags are few per file (tens to thousands) and repeat in every event.
 */
export class TagTable {
  readonly names: string[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly idsByHash = new Map<number, number | number[]>();

  /** Direct-mapped by length and end bytes: the id last seen there, checked before hashing. */
  private readonly recent = new Int32Array(64).fill(-1);

  intern(buf: Uint8Array, start: number, end: number): number {
    const slot = end > start ? ((end - start) * 7 + buf[start] + buf[end - 1] * 3) & 63 : 0;
    const guess = this.recent[slot];
    if (guess >= 0 && this.sameBytes(guess, buf, start, end)) return guess;
    const id = this.lookup(buf, start, end);
    this.recent[slot] = id;
    return id;
  }

  private lookup(buf: Uint8Array, start: number, end: number): number {
    let hash = 0x811c9dc5 | 0; // FNV-1a
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 0x01000193);
    const known = this.idsByHash.get(hash);
    if (known !== undefined) {
      if (typeof known === 'number') {
        if (this.sameBytes(known, buf, start, end)) return known;
      } else {
        for (const id of known) if (this.sameBytes(id, buf, start, end)) return id;
      }
    }
    const id = this.names.length;
    const copy = Uint8Array.prototype.slice.call(buf, start, end) as Uint8Array;
    this.bytes.push(copy);
    this.names.push(Buffer.from(copy.buffer, copy.byteOffset, copy.length).toString('utf8'));
    if (known === undefined) this.idsByHash.set(hash, id);
    else if (typeof known === 'number') this.idsByHash.set(hash, [known, id]);
    else known.push(id);
    return id;
  }

  private sameBytes(id: number, buf: Uint8Array, start: number, end: number): boolean {
    const bytes = this.bytes[id];
    if (bytes.length !== end - start) return false;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== buf[start + i]) return false;
    return true;
  }
}

function rangeEquals(buf: Uint8Array, start: number, end: number, text: Uint8Array): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text[i]) return false;
  return true;
}

/**
 * Decodes events into its own fields, reused from one event to the next:
 * after decode(), the event's wall time, step, file version, session start,
 * and `count` scalars as (tagIds[k], values[k]). Throws on malformed
 * protobuf; the fields are then meaningless and the caller skips the event.
 */
export class EventDecoder {
  readonly tags: TagTable;
  wallTimeSeconds = NaN;
  step = 0;
  fileVersion: string | undefined = undefined;
  sessionStart: SessionStartInfo | undefined = undefined;
  count = 0;
  readonly tagIds: number[] = [];
  readonly values: number[] = [];

  // The wire reader's state: bytes [pos, len) of buf.
  private buf: Uint8Array = scratchBytes;
  private pos = 0;
  private len = 0;
  private viewOf: Uint8Array | undefined = undefined;
  private view: DataView = new DataView(scratchBytes.buffer);
  // decodeScalarTensor's result.
  private tensorReadable = false;
  private tensorValue = NaN;

  constructor(tags: TagTable = new TagTable()) {
    this.tags = tags;
  }

  decode(buf: Uint8Array, start: number, end: number): void {
    if (this.decodeCommonShapes(buf, start, end)) return;
    this.buf = buf;
    this.pos = start;
    this.len = end;
    this.wallTimeSeconds = NaN;
    this.step = 0;
    this.fileVersion = undefined;
    this.sessionStart = undefined;
    this.count = 0;
    while (this.pos < this.len) {
      const key = this.uint32();
      const fieldNumber = key >>> 3;
      const wireType = key & 7;
      if (fieldNumber === EventField.WallTime && wireType === WireType.Fixed64) {
        this.wallTimeSeconds = this.double();
      } else if (fieldNumber === EventField.Step && wireType === WireType.Varint) {
        this.step = this.int64();
      } else if (fieldNumber === EventField.FileVersion && wireType === WireType.LengthDelimited) {
        const stringEnd = this.stringEnd();
        this.fileVersion = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, stringEnd - this.pos).toString('utf8');
        this.pos = stringEnd;
      } else if (fieldNumber === EventField.Summary && wireType === WireType.LengthDelimited) {
        this.decodeSummary(this.lengthEnd());
      } else {
        this.skipType(wireType, 0);
      }
    }
  }

  /**
   * The shapes real writers use for scalar events, decoded with no calls:
   * wall_time, an optional step of up to four varint bytes, then a summary
   * (the rest of the event) of values that each hold a tag and either a
   * simple_value (PyTorch's SummaryWriter, TF1) or a rank-0 float/double
   * tensor with the scalars plugin's metadata (TF2's tf.summary.scalar), with
   * short lengths. Returns false, having changed nothing that matters, for
   * anything else; decode() then takes the general path, which decides.
   */
  private decodeCommonShapes(buf: Uint8Array, start: number, end: number): boolean {
    let p = start;
    if (end - p < 11 || buf[p] !== 0x09) return false; // field 1, fixed64
    this.buf = buf;
    const view = this.viewOfBuffer();
    const wallAt = p + 1;
    p += 9;
    let step = 0;
    if (buf[p] === 0x10) {
      // field 2, varint: one to four bytes (steps below 2^28)
      let b = buf[++p];
      step = b & 127;
      if (b >= 128) {
        if (++p >= end) return false;
        b = buf[p];
        step |= (b & 127) << 7;
        if (b >= 128) {
          if (++p >= end) return false;
          b = buf[p];
          step |= (b & 127) << 14;
          if (b >= 128) {
            if (++p >= end) return false;
            b = buf[p];
            if (b >= 128) return false;
            step |= b << 21;
          }
        }
      }
      if (++p >= end) return false;
    }
    // field 5: a summary that is the rest of the event, its length in one or two varint bytes
    if (buf[p] !== 0x2a) return false;
    let summaryLength = buf[p + 1];
    p += 2;
    if (summaryLength >= 128) {
      const high = buf[p];
      if (high >= 128) return false;
      summaryLength = (summaryLength & 127) | (high << 7);
      p++;
    }
    if (p + summaryLength !== end) return false;
    let count = 0;
    while (p < end) {
      // A Value (field 1 of the summary) whose first field is its tag.
      const valueLength = buf[p + 1];
      if (buf[p] !== 0x0a || valueLength >= 128 || p + 2 + valueLength > end) return false;
      const valueEnd = p + 2 + valueLength;
      const tagLength = buf[p + 3];
      if (buf[p + 2] !== 0x0a || tagLength >= 128) return false;
      const tagStart = p + 4;
      const tagEnd = tagStart + tagLength;
      if (tagEnd > valueEnd) return false;
      let value: number;
      if (buf[tagEnd] === 0x15 && tagEnd + 5 === valueEnd) {
        // simple_value, field 2, fixed32
        value = view.getFloat32(tagEnd + 1, true);
      } else {
        // tensor (field 8) and metadata (field 9), once each, in either order.
        let dtype = -1;
        let valueAt = -1;
        let valueField = 0;
        let valueBytes = 0;
        let sawTensor = false;
        let sawMetadata = false;
        let scalarsPlugin = true; // no plugin name, or "scalars"
        let dataClass = 0;
        p = tagEnd;
        while (p < valueEnd) {
          const key = buf[p];
          const length = buf[p + 1];
          const fieldEnd = p + 2 + length;
          if (length >= 128 || fieldEnd > valueEnd) return false;
          if (key === 0x42 && !sawTensor) {
            sawTensor = true;
            for (let t = p + 2; t < fieldEnd; ) {
              const tensorKey = buf[t];
              const tensorLength = buf[t + 1];
              if (tensorKey === 0x08 && dtype === -1 && tensorLength < 128) {
                dtype = tensorLength; // dtype, a one-byte varint
                t += 2;
              } else if (tensorKey === 0x12 && tensorLength === 0) {
                t += 2; // an empty shape: rank 0
              } else if ((tensorKey === 0x22 || tensorKey === 0x2a || tensorKey === 0x32) && valueField === 0 && (tensorLength === 4 || tensorLength === 8)) {
                // tensor_content, or a packed float_val / double_val of one element
                valueField = tensorKey;
                valueBytes = tensorLength;
                valueAt = t + 2;
                t += 2 + tensorLength;
              } else {
                return false;
              }
              if (t > fieldEnd) return false;
            }
          } else if (key === 0x4a && !sawMetadata) {
            sawMetadata = true;
            for (let m = p + 2; m < fieldEnd; ) {
              const metaKey = buf[m];
              const metaLength = buf[m + 1];
              if (metaLength >= 128) return false;
              if (metaKey === 0x0a) {
                // plugin_data { plugin_name = 1; content = 2 }
                const pluginEnd = m + 2 + metaLength;
                if (pluginEnd > fieldEnd) return false;
                for (let q = m + 2; q < pluginEnd; ) {
                  const pluginKey = buf[q];
                  const pluginLength = buf[q + 1];
                  if (pluginLength >= 128 || q + 2 + pluginLength > pluginEnd) return false;
                  if (pluginKey === 0x0a) scalarsPlugin = pluginLength === 0 || rangeEquals(buf, q + 2, q + 2 + pluginLength, SCALARS_NAME);
                  else if (pluginKey !== 0x12) return false;
                  q += 2 + pluginLength;
                }
                m = pluginEnd;
              } else if (metaKey === 0x20) {
                dataClass = metaLength; // data_class, a one-byte varint
                m += 2;
              } else if (metaKey === 0x12 || metaKey === 0x1a) {
                m += 2 + metaLength; // display_name, summary_description
              } else {
                return false;
              }
              if (m > fieldEnd) return false;
            }
          } else {
            return false;
          }
          p = fieldEnd;
        }
        // Only what is certainly a scalar; the general path decides everything else.
        if (!sawTensor || !scalarsPlugin || dataClass > 1) return false;
        if (dtype === DType.Float && valueBytes === 4 && valueField !== 0x32) value = view.getFloat32(valueAt, true);
        else if (dtype === DType.Double && valueBytes === 8 && valueField !== 0x2a) value = view.getFloat64(valueAt, true);
        else return false;
      }
      this.values[count] = value;
      this.tagIds[count] = this.tags.intern(buf, tagStart, tagEnd);
      count++;
      p = valueEnd;
    }
    this.wallTimeSeconds = view.getFloat64(wallAt, true);
    this.step = step;
    this.fileVersion = undefined;
    this.sessionStart = undefined;
    this.count = count;
    return true;
  }

  /** The last decoded event as a plain object. */
  toDecodedEvent(): DecodedEvent {
    const event: DecodedEvent = { wallTimeSeconds: this.wallTimeSeconds, step: this.step, scalars: [] };
    if (this.fileVersion !== undefined) event.fileVersion = this.fileVersion;
    for (let k = 0; k < this.count; k++) event.scalars.push({ tag: this.tags.names[this.tagIds[k]], value: this.values[k] });
    if (this.sessionStart) event.sessionStart = this.sessionStart;
    return event;
  }

  /** Summary { repeated Value value = 1 } */
  private decodeSummary(end: number): void {
    while (this.pos < end) {
      const key = this.uint32();
      const wireType = key & 7;
      if (key >>> 3 === 1 && wireType === WireType.LengthDelimited) this.decodeSummaryValue(this.lengthEnd());
      else this.skipType(wireType, 0);
    }
  }

  private decodeSummaryValue(end: number): void {
    const buf = this.buf;
    let tagStart = 0;
    let tagEnd = 0;
    let nodeNameStart = 0;
    let nodeNameEnd = 0;
    let hasSimpleValue = false;
    let simpleValue = 0;
    let hasTensor = false;
    let tensorReadable = false;
    let tensorValue = NaN;
    let plugin = Plugin.None;
    let dataClass = DataClass.Unknown as number;
    let contentStart = -1;
    let contentEnd = -1;

    while (this.pos < end) {
      const key = this.uint32();
      const fieldNumber = key >>> 3;
      const wireType = key & 7;
      if (fieldNumber === SummaryValueField.Tag && wireType === WireType.LengthDelimited) {
        tagEnd = this.stringEnd();
        tagStart = this.pos;
        this.pos = tagEnd;
      } else if (fieldNumber === SummaryValueField.NodeName && wireType === WireType.LengthDelimited) {
        nodeNameEnd = this.stringEnd();
        nodeNameStart = this.pos;
        this.pos = nodeNameEnd;
      } else if (fieldNumber === SummaryValueField.SimpleValue && wireType === WireType.Fixed32) {
        simpleValue = this.float();
        hasSimpleValue = true;
      } else if (fieldNumber === SummaryValueField.Tensor && wireType === WireType.LengthDelimited) {
        this.decodeScalarTensor(this.lengthEnd());
        hasTensor = true;
        tensorReadable = this.tensorReadable;
        tensorValue = this.tensorValue;
      } else if (fieldNumber === SummaryValueField.Metadata && wireType === WireType.LengthDelimited) {
        const metadataEnd = this.lengthEnd();
        while (this.pos < metadataEnd) {
          const metaKey = this.uint32();
          const metaField = metaKey >>> 3;
          const metaWire = metaKey & 7;
          if (metaField === SummaryMetadataField.PluginData && metaWire === WireType.LengthDelimited) {
            const pluginEnd = this.lengthEnd();
            while (this.pos < pluginEnd) {
              const pluginKey = this.uint32();
              const pluginField = pluginKey >>> 3;
              const pluginWire = pluginKey & 7;
              if (pluginField === PluginDataField.PluginName && pluginWire === WireType.LengthDelimited) {
                const nameEnd = this.stringEnd();
                const nameStart = this.pos;
                this.pos = nameEnd;
                plugin =
                  nameEnd === nameStart
                    ? Plugin.None
                    : rangeEquals(buf, nameStart, nameEnd, SCALARS_NAME)
                      ? Plugin.Scalars
                      : rangeEquals(buf, nameStart, nameEnd, HPARAMS_NAME)
                        ? Plugin.HParams
                        : Plugin.Other;
              } else if (pluginField === PluginDataField.Content && pluginWire === WireType.LengthDelimited) {
                contentEnd = this.lengthEnd();
                contentStart = this.pos;
                this.pos = contentEnd;
              } else {
                this.skipType(pluginWire, 0);
              }
            }
          } else if (metaField === SummaryMetadataField.DataClass && metaWire === WireType.Varint) {
            dataClass = this.uint32() | 0;
          } else {
            this.skipType(metaWire, 0);
          }
        }
      } else {
        // image, histo, audio, obsolete histograms: skipped by length, never parsed.
        this.skipType(wireType, 0);
      }
    }

    let value = NaN;
    let isScalar = false;
    if (hasSimpleValue) {
      value = simpleValue;
      isScalar = true;
    } else if (hasTensor && tensorReadable && tensorIsScalarSummary(plugin, dataClass)) {
      value = tensorValue;
      isScalar = true;
    }
    if (isScalar) {
      // TF1 summaries sometimes name the value only by node_name.
      const id = tagEnd > tagStart ? this.tags.intern(buf, tagStart, tagEnd) : this.tags.intern(buf, nodeNameStart, nodeNameEnd);
      this.tagIds[this.count] = id;
      this.values[this.count] = value;
      this.count++;
    }
    if (plugin === Plugin.HParams && contentStart >= 0) {
      const sessionStart = decodeHParamsSessionStart(buf.subarray(contentStart, contentEnd));
      if (sessionStart) this.sessionStart = sessionStart;
    }
  }

  /**
   * Reads a TensorProto far enough to know whether it is a single floating-point
   * number and, if so, which. Large tensors and string tensors are skipped, not
   * decoded: only the first element of a typed value list is kept.
   */
  private decodeScalarTensor(end: number): void {
    let dtype = 0;
    let elementCount = 1; // rank 0 until the shape says otherwise
    let shapeKnown = true;
    let contentStart = -1;
    let contentEnd = -1;
    let hasFloat = false;
    let firstFloat = NaN;
    let hasDouble = false;
    let firstDouble = NaN;
    let hasHalf = false;
    let firstHalfBits = 0;

    while (this.pos < end) {
      const key = this.uint32();
      const fieldNumber = key >>> 3;
      const wireType = key & 7;
      switch (fieldNumber) {
        case TensorField.Dtype:
          if (wireType === WireType.Varint) dtype = this.uint32() | 0;
          else this.skipType(wireType, 0);
          break;
        case TensorField.TensorShape:
          if (wireType === WireType.LengthDelimited) {
            this.decodeShape(this.lengthEnd());
            elementCount = this.tensorValue;
            shapeKnown = this.tensorReadable;
          } else this.skipType(wireType, 0);
          break;
        case TensorField.TensorContent:
          if (wireType === WireType.LengthDelimited) {
            contentEnd = this.lengthEnd();
            contentStart = this.pos;
            this.pos = contentEnd;
          } else this.skipType(wireType, 0);
          break;
        // A repeated field may come in several pieces; the first element is the
        // first one read, and every piece must still be consumed.
        case TensorField.FloatVal:
          if (this.readFirstRepeated(wireType, WireType.Fixed32) && !hasFloat) {
            hasFloat = true;
            firstFloat = this.tensorValue;
          }
          break;
        case TensorField.DoubleVal:
          if (this.readFirstRepeated(wireType, WireType.Fixed64) && !hasDouble) {
            hasDouble = true;
            firstDouble = this.tensorValue;
          }
          break;
        case TensorField.HalfVal:
          // int32 slots holding the uint16 bit pattern (bfloat16 uses them too).
          if (this.readFirstRepeated(wireType, WireType.Varint) && !hasHalf) {
            hasHalf = true;
            firstHalfBits = this.tensorValue;
          }
          break;
        default:
          // string_val, int_val, int64_val, ...: not floating-point scalars.
          this.skipType(wireType, 0);
      }
    }

    this.tensorReadable = false;
    this.tensorValue = NaN;
    const elementBytes = dtype === DType.Float ? 4 : dtype === DType.Double ? 8 : dtype === DType.Half || dtype === DType.BFloat16 ? 2 : 0;
    if (elementBytes === 0 || !shapeKnown || elementCount !== 1) return;

    // TensorFlow's rule: tensor_content, when present, wins over the typed lists.
    if (contentStart >= 0 && contentEnd > contentStart) {
      if (contentEnd - contentStart !== elementBytes) return;
      for (let i = 0; i < elementBytes; i++) scratchBytes[i] = this.buf[contentStart + i];
      this.tensorReadable = true;
      if (dtype === DType.Float) this.tensorValue = scratchFloat[0];
      else if (dtype === DType.Double) this.tensorValue = scratchDouble[0];
      else if (dtype === DType.Half) this.tensorValue = float16BitsToNumber(scratchHalf[0]);
      else this.tensorValue = bfloat16BitsToNumber(scratchHalf[0]);
      return;
    }
    if (dtype === DType.Float && hasFloat) this.setTensor(firstFloat);
    else if (dtype === DType.Double && hasDouble) this.setTensor(firstDouble);
    else if (dtype === DType.Half && hasHalf) this.setTensor(float16BitsToNumber(firstHalfBits));
    else if (dtype === DType.BFloat16 && hasHalf) this.setTensor(bfloat16BitsToNumber(firstHalfBits));
  }

  private setTensor(value: number): void {
    this.tensorReadable = true;
    this.tensorValue = value;
  }

  /**
   * Reads the first element of a repeated numeric field, packed (one
   * length-delimited run) or not (one key per element), and skips the rest.
   * Returns whether there was one; it is left in tensorValue.
   */
  private readFirstRepeated(wireType: number, elementWireType: WireType): boolean {
    if (wireType === WireType.LengthDelimited) {
      const end = this.lengthEnd();
      const has = this.pos < end;
      if (has) this.tensorValue = this.readElement(elementWireType);
      this.pos = end;
      return has;
    }
    if (wireType === elementWireType) {
      this.tensorValue = this.readElement(elementWireType);
      return true;
    }
    this.skipType(wireType, 0);
    return false;
  }

  private readElement(elementWireType: WireType): number {
    if (elementWireType === WireType.Fixed32) return this.float();
    if (elementWireType === WireType.Fixed64) return this.double();
    return this.uint32() & 0xffff;
  }

  /**
   * TensorShapeProto { repeated Dim dim = 2 { int64 size = 1; string name = 2 }; bool unknown_rank = 3 }:
   * leaves the element count in tensorValue and whether it is known in tensorReadable.
   */
  private decodeShape(end: number): void {
    let elementCount = 1;
    let known = true;
    while (this.pos < end) {
      const key = this.uint32();
      const fieldNumber = key >>> 3;
      const wireType = key & 7;
      if (fieldNumber === TensorShapeField.Dim && wireType === WireType.LengthDelimited) {
        const dimEnd = this.lengthEnd();
        let size = 0; // proto3 default: a dim with no size field has size 0
        while (this.pos < dimEnd) {
          const dimKey = this.uint32();
          if (dimKey >>> 3 === 1 && (dimKey & 7) === WireType.Varint) size = this.int64();
          else this.skipType(dimKey & 7, 0);
        }
        if (size < 0) known = false; // -1: unknown dimension
        elementCount *= size;
      } else if (fieldNumber === TensorShapeField.UnknownRank && wireType === WireType.Varint) {
        if (this.uint32() !== 0) known = false;
      } else {
        this.skipType(wireType, 0);
      }
    }
    this.tensorValue = elementCount;
    this.tensorReadable = known;
  }

  // --- the wire format, with protobufjs's rules ------------------------------

  /** A varint as an unsigned 32-bit value (protobufjs Reader#uint32). Small, so that V8 inlines the one-byte case. */
  private uint32(): number {
    const pos = this.pos;
    if (pos < this.len) {
      const b = this.buf[pos];
      if (b < 128) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.uint32Long();
  }

  private uint32Long(): number {
    const buf = this.buf;
    let pos = this.pos;
    const len = this.len;
    if (len - pos < 5) {
      if (pos >= len) throw outOfRange(pos, 1, len);
      if (buf[pos] >= 128) {
        // Near the end: at most four bytes, each checked.
        let value = 0;
        for (let i = 0; i < 4; i++) {
          if (pos >= len) {
            this.pos = pos;
            throw outOfRange(pos, 1, len);
          }
          const b = buf[pos++];
          value = (value | ((b & 127) << (i * 7))) >>> 0;
          if (b < 128) {
            this.pos = pos;
            return value;
          }
        }
        this.pos = pos;
        throw outOfRange(pos, 1, len);
      }
    }
    let b = buf[pos++];
    let value = b & 127;
    if (b >= 128) {
      b = buf[pos++];
      value |= (b & 127) << 7;
      if (b >= 128) {
        b = buf[pos++];
        value |= (b & 127) << 14;
        if (b >= 128) {
          b = buf[pos++];
          value |= (b & 127) << 21;
          if (b >= 128) {
            b = buf[pos++];
            value |= (b & 15) << 28;
            if (b >= 128) {
              // Bytes 6 to 10 of a 64-bit varint only carry bits beyond 32: skipped unread.
              pos += 5;
              if (pos > len) {
                this.pos = len;
                throw outOfRange(len, 10, len);
              }
            }
          }
        }
      }
    }
    this.pos = pos;
    return value >>> 0;
  }

  /**
   * A varint as a signed 64-bit value, as a number (protobufjs Reader#int64
   * through readInt64AsNumber: high * 2^32 + low, high signed).
   */
  private int64(): number {
    const pos = this.pos;
    if (this.len - pos > 4) {
      const b = this.buf[pos];
      if (b < 128) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.int64Long();
  }

  private int64Long(): number {
    const buf = this.buf;
    const len = this.len;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    if (len - pos > 4) {
      for (let i = 0; i < 4; i++) {
        const b = buf[pos++];
        lo = (lo | ((b & 127) << (i * 7))) >>> 0;
        if (b < 128) {
          this.pos = pos;
          return lo;
        }
      }
      const b = buf[pos++];
      lo = (lo | ((b & 127) << 28)) >>> 0;
      hi = (hi | ((b & 127) >> 4)) >>> 0;
      if (b < 128) {
        this.pos = pos;
        return (hi | 0) * 0x100000000 + lo;
      }
      for (let i = 0; i < 5; i++) {
        if (len - pos <= 4 && pos >= len) {
          this.pos = pos;
          throw outOfRange(pos, 1, len);
        }
        const c = buf[pos++];
        hi = (hi | ((c & 127) << (i * 7 + 3))) >>> 0;
        if (c < 128) {
          this.pos = pos;
          return (hi | 0) * 0x100000000 + lo;
        }
      }
      this.pos = pos;
      throw new Error('invalid varint encoding');
    }
    // Near the end: up to three checked bytes, then a fourth taken as it is (as protobufjs does).
    for (let i = 0; i < 3; i++) {
      if (pos >= len) {
        this.pos = pos;
        throw outOfRange(pos, 1, len);
      }
      const b = buf[pos++];
      lo = (lo | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) {
        this.pos = pos;
        return lo;
      }
    }
    // (protobufjs reads that byte past the end of its record view as undefined, that is 0.)
    lo = (lo | (((pos < len ? buf[pos] : 0) & 127) << 21)) >>> 0;
    this.pos = pos + 1;
    return lo;
  }

  /** A DataView over the current buffer, made once per read window, not per record. */
  private viewOfBuffer(): DataView {
    const buf = this.buf;
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }

  private float(): number {
    const pos = this.pos;
    if (pos + 4 > this.len) throw outOfRange(pos, 4, this.len);
    this.pos = pos + 4;
    return this.viewOfBuffer().getFloat32(pos, true);
  }

  private double(): number {
    const pos = this.pos;
    if (pos + 8 > this.len) throw outOfRange(pos, 4, this.len);
    this.pos = pos + 8;
    return this.viewOfBuffer().getFloat64(pos, true);
  }

  /** Reads a length prefix and returns where that nested message or byte string ends. */
  private lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw new RangeError(`length-delimited field of ${length} bytes runs past the end of its message`);
    return end;
  }

  /**
   * The end of a string field. Like protobufjs's BufferReader#string, a length
   * running past the record is cut at its end rather than an error.
   */
  private stringEnd(): number {
    const length = this.uint32();
    return Math.min(this.pos + length, this.len);
  }

  /** protobufjs Reader#skipType. */
  private skipType(wireType: number, depth: number): void {
    if (depth > MAX_SKIP_DEPTH) throw new Error('maximum nesting depth exceeded');
    switch (wireType) {
      case WireType.Varint:
        do {
          if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
        } while (this.buf[this.pos++] & 128);
        return;
      case WireType.Fixed64:
        this.skip(8);
        return;
      case WireType.LengthDelimited:
        this.skip(this.uint32());
        return;
      case WireType.StartGroup:
        for (;;) {
          const inner = this.uint32() & 7;
          if (inner === WireType.EndGroup) return;
          this.skipType(inner, depth + 1);
        }
      case WireType.Fixed32:
        this.skip(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private skip(length: number): void {
    if (this.pos + length > this.len) throw outOfRange(this.pos, length, this.len);
    this.pos += length;
  }
}

/**
 * A one-element float tensor is a scalar only when its summary says so (the
 * scalars plugin, or data_class SCALAR) or says nothing at all (older
 * writers). Other plugins (hparams, pr_curves, custom ones) may carry a
 * placeholder or a one-element tensor that is not a metric.
 */
function tensorIsScalarSummary(plugin: Plugin, dataClass: number): boolean {
  if (dataClass === DataClass.Scalar) return true;
  if (dataClass !== DataClass.Unknown) return false;
  return plugin === Plugin.None || plugin === Plugin.Scalars;
}

/** bfloat16 is the top half of a float32, so widening it is exact. */
function bfloat16BitsToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

/** Decodes one Event record. Throws on malformed protobuf; the caller turns that into a warning. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  const decoder = new EventDecoder();
  decoder.decode(data, 0, data.length);
  return decoder.toDecodedEvent();
}

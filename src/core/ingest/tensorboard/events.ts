// Decodes tensorflow.Event records down to what RunLens shows: wall time,
// step, scalar values and hparams. Field numbers follow
// tensorflow/core/util/event.proto, framework/summary.proto and
// framework/tensor.proto. Everything else (graph_def, meta_graph_def,
// session_log, images, histograms, audio, string tensors...) is skipped by
// its length prefix without being parsed.
import { Reader } from 'protobufjs/minimal';
import { float16BitsToNumber } from './float16';
import { decodeHParamsSessionStart, HPARAMS_PLUGIN_NAME, type SessionStartInfo } from './hparams';
import { readByteRange, readFieldKey, readInt64AsNumber, readLengthDelimitedEnd, WireType } from './protoWire';

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

/** Decodes one Event record. Throws on malformed protobuf; the caller turns that into a warning. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  const reader = Reader.create(data);
  const event: DecodedEvent = { wallTimeSeconds: NaN, step: 0, scalars: [] };
  while (reader.pos < reader.len) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === EventField.WallTime && wireType === WireType.Fixed64) {
      event.wallTimeSeconds = reader.double();
    } else if (fieldNumber === EventField.Step && wireType === WireType.Varint) {
      event.step = readInt64AsNumber(reader);
    } else if (fieldNumber === EventField.FileVersion && wireType === WireType.LengthDelimited) {
      event.fileVersion = reader.string();
    } else if (fieldNumber === EventField.Summary && wireType === WireType.LengthDelimited) {
      decodeSummary(reader, readLengthDelimitedEnd(reader), event);
    } else {
      reader.skipType(wireType);
    }
  }
  return event;
}

/** Summary { repeated Value value = 1 } */
function decodeSummary(reader: Reader, end: number, event: DecodedEvent): void {
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === 1 && wireType === WireType.LengthDelimited) decodeSummaryValue(reader, readLengthDelimitedEnd(reader), event);
    else reader.skipType(wireType);
  }
}

interface ScalarTensor {
  /** Whether the tensor has exactly one floating-point element we could read. */
  readable: boolean;
  value: number;
}

function decodeSummaryValue(reader: Reader, end: number, event: DecodedEvent): void {
  let tag = '';
  let nodeName = '';
  let simpleValue: number | undefined;
  let tensor: ScalarTensor | undefined;
  let pluginName = '';
  let dataClass = DataClass.Unknown as number;
  let pluginContent: { start: number; end: number } | undefined;

  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === SummaryValueField.Tag && wireType === WireType.LengthDelimited) {
      tag = reader.string();
    } else if (fieldNumber === SummaryValueField.NodeName && wireType === WireType.LengthDelimited) {
      nodeName = reader.string();
    } else if (fieldNumber === SummaryValueField.SimpleValue && wireType === WireType.Fixed32) {
      simpleValue = reader.float();
    } else if (fieldNumber === SummaryValueField.Tensor && wireType === WireType.LengthDelimited) {
      tensor = decodeScalarTensor(reader, readLengthDelimitedEnd(reader));
    } else if (fieldNumber === SummaryValueField.Metadata && wireType === WireType.LengthDelimited) {
      const metadataEnd = readLengthDelimitedEnd(reader);
      while (reader.pos < metadataEnd) {
        const meta = readFieldKey(reader);
        if (meta.fieldNumber === SummaryMetadataField.PluginData && meta.wireType === WireType.LengthDelimited) {
          const pluginEnd = readLengthDelimitedEnd(reader);
          while (reader.pos < pluginEnd) {
            const plugin = readFieldKey(reader);
            if (plugin.fieldNumber === PluginDataField.PluginName && plugin.wireType === WireType.LengthDelimited) pluginName = reader.string();
            else if (plugin.fieldNumber === PluginDataField.Content && plugin.wireType === WireType.LengthDelimited) pluginContent = readByteRange(reader);
            else reader.skipType(plugin.wireType);
          }
        } else if (meta.fieldNumber === SummaryMetadataField.DataClass && meta.wireType === WireType.Varint) {
          dataClass = reader.int32();
        } else {
          reader.skipType(meta.wireType);
        }
      }
    } else {
      // image, histo, audio, obsolete histograms: skipped by length, never parsed.
      reader.skipType(wireType);
    }
  }

  // TF1 summaries sometimes name the value only by node_name.
  const name = tag || nodeName;
  if (simpleValue !== undefined) {
    event.scalars.push({ tag: name, value: simpleValue });
  } else if (tensor?.readable && tensorIsScalarSummary(pluginName, dataClass)) {
    event.scalars.push({ tag: name, value: tensor.value });
  }
  if (pluginName === HPARAMS_PLUGIN_NAME && pluginContent) {
    const sessionStart = decodeHParamsSessionStart(reader.buf.subarray(pluginContent.start, pluginContent.end));
    if (sessionStart) event.sessionStart = sessionStart;
  }
}

/**
 * A one-element float tensor is a scalar only when its summary says so (the
 * scalars plugin, or data_class SCALAR) or says nothing at all (older
 * writers). Other plugins (hparams, pr_curves, custom ones) may carry a
 * placeholder or a one-element tensor that is not a metric.
 */
function tensorIsScalarSummary(pluginName: string, dataClass: number): boolean {
  if (dataClass === DataClass.Scalar) return true;
  if (dataClass !== DataClass.Unknown) return false;
  return pluginName === '' || pluginName === 'scalars';
}

const BYTES_PER_ELEMENT: Record<number, number> = {
  [DType.Float]: 4,
  [DType.Double]: 8,
  [DType.Half]: 2,
  [DType.BFloat16]: 2,
};

/**
 * Reads a TensorProto far enough to know whether it is a single floating-point
 * number and, if so, which. Large tensors and string tensors are skipped, not
 * decoded: only the first element of a typed value list is kept.
 */
function decodeScalarTensor(reader: Reader, end: number): ScalarTensor {
  let dtype = 0;
  let elementCount = 1; // rank 0 until the shape says otherwise
  let shapeKnown = true;
  let content: { start: number; end: number } | undefined;
  let firstFloat: number | undefined;
  let firstDouble: number | undefined;
  let firstHalfBits: number | undefined;

  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    switch (fieldNumber) {
      case TensorField.Dtype:
        if (wireType === WireType.Varint) dtype = reader.int32();
        else reader.skipType(wireType);
        break;
      case TensorField.TensorShape:
        if (wireType === WireType.LengthDelimited) {
          const shape = decodeShapeElementCount(reader, readLengthDelimitedEnd(reader));
          elementCount = shape.elementCount;
          shapeKnown = shape.known;
        } else reader.skipType(wireType);
        break;
      case TensorField.TensorContent:
        if (wireType === WireType.LengthDelimited) content = readByteRange(reader);
        else reader.skipType(wireType);
        break;
      // A repeated field may come in several pieces; the first element is the
      // first one read, and every piece must still be consumed.
      case TensorField.FloatVal: {
        const first = readFirstRepeated(reader, wireType, WireType.Fixed32, () => reader.float());
        if (firstFloat === undefined) firstFloat = first;
        break;
      }
      case TensorField.DoubleVal: {
        const first = readFirstRepeated(reader, wireType, WireType.Fixed64, () => reader.double());
        if (firstDouble === undefined) firstDouble = first;
        break;
      }
      case TensorField.HalfVal: {
        // int32 slots holding the uint16 bit pattern (bfloat16 uses them too).
        const first = readFirstRepeated(reader, wireType, WireType.Varint, () => reader.int32() & 0xffff);
        if (firstHalfBits === undefined) firstHalfBits = first;
        break;
      }
      default:
        // string_val, int_val, int64_val, ...: not floating-point scalars.
        reader.skipType(wireType);
    }
  }

  const unreadable: ScalarTensor = { readable: false, value: NaN };
  const elementBytes = BYTES_PER_ELEMENT[dtype];
  if (elementBytes === undefined || !shapeKnown || elementCount !== 1) return unreadable;

  // TensorFlow's rule: tensor_content, when present, wins over the typed lists.
  if (content && content.end > content.start) {
    if (content.end - content.start !== elementBytes) return unreadable;
    return { readable: true, value: readLittleEndianElement(reader.buf, content.start, dtype) };
  }
  switch (dtype) {
    case DType.Float:
      return firstFloat === undefined ? unreadable : { readable: true, value: firstFloat };
    case DType.Double:
      return firstDouble === undefined ? unreadable : { readable: true, value: firstDouble };
    case DType.Half:
      return firstHalfBits === undefined ? unreadable : { readable: true, value: float16BitsToNumber(firstHalfBits) };
    case DType.BFloat16:
      return firstHalfBits === undefined ? unreadable : { readable: true, value: bfloat16BitsToNumber(firstHalfBits) };
    default:
      return unreadable;
  }
}

/**
 * Reads the first element of a repeated numeric field, packed (one
 * length-delimited run) or not (one key per element), and skips the rest.
 */
function readFirstRepeated(reader: Reader, wireType: number, elementWireType: WireType, readElement: () => number): number | undefined {
  if (wireType === WireType.LengthDelimited) {
    const end = readLengthDelimitedEnd(reader);
    const first = reader.pos < end ? readElement() : undefined;
    reader.pos = end;
    return first;
  }
  if (wireType === elementWireType) return readElement();
  reader.skipType(wireType);
  return undefined;
}

/** TensorShapeProto { repeated Dim dim = 2 { int64 size = 1; string name = 2 }; bool unknown_rank = 3 } */
function decodeShapeElementCount(reader: Reader, end: number): { elementCount: number; known: boolean } {
  let elementCount = 1;
  let known = true;
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === TensorShapeField.Dim && wireType === WireType.LengthDelimited) {
      const dimEnd = readLengthDelimitedEnd(reader);
      let size = 0; // proto3 default: a dim with no size field has size 0
      while (reader.pos < dimEnd) {
        const dim = readFieldKey(reader);
        if (dim.fieldNumber === 1 && dim.wireType === WireType.Varint) size = readInt64AsNumber(reader);
        else reader.skipType(dim.wireType);
      }
      if (size < 0) known = false; // -1: unknown dimension
      elementCount *= size;
    } else if (fieldNumber === TensorShapeField.UnknownRank && wireType === WireType.Varint) {
      if (reader.bool()) known = false;
    } else {
      reader.skipType(wireType);
    }
  }
  return { elementCount, known };
}

function readLittleEndianElement(bytes: Uint8Array, offset: number, dtype: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case DType.Float:
      return view.getFloat32(offset, true);
    case DType.Double:
      return view.getFloat64(offset, true);
    case DType.Half:
      return float16BitsToNumber(view.getUint16(offset, true));
    case DType.BFloat16:
      return bfloat16BitsToNumber(view.getUint16(offset, true));
    default:
      return NaN;
  }
}

/** bfloat16 is the top half of a float32, so widening it is exact. */
function bfloat16BitsToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

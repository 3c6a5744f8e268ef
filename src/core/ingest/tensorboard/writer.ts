// Writes TensorBoard event files: the demo generator's training runs and the
// tests' files that grow while they are read. Same wire format as
// TensorFlow's and PyTorch's writers, so real TensorBoard can open them too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writer } from 'protobufjs/minimal';
import { numberToFloat16Bits } from './float16';
import { HPARAMS_PLUGIN_NAME } from './hparams';
import { frameRecord } from './tfrecord';

/** What every TF 2 / PyTorch event file starts with. */
export const EVENT_FILE_VERSION = 'brain.Event:2';

/**
 * How a scalar is stored:
 * - `simple_value`: TF1 and PyTorch style, float32 in Summary.Value.simple_value.
 * - `tensor`: TF2's tf.summary.scalar, a rank-0 DT_FLOAT tensor under the scalars plugin.
 * - `tensor_double` / `tensor_half`: the same with DT_DOUBLE / DT_HALF.
 */
export type ScalarEncoding = 'simple_value' | 'tensor' | 'tensor_double' | 'tensor_half';

/** Where a tensor's value goes: `tensor_content` bytes (TF2's C++ writer) or the typed `*_val` field (Python's make_tensor_proto). */
export type TensorStorage = 'content' | 'typed';

/** google.protobuf.Value as a JavaScript value: what an hparam may be. */
export type HParamValue = null | number | string | boolean | HParamValue[] | { [key: string]: HParamValue };

export interface TensorToWrite {
  dtype: number;
  /** Dimension sizes; [] is rank 0. */
  shape: number[];
  tensorContent?: Uint8Array;
  floatVal?: number[];
  doubleVal?: number[];
  /** uint16 bit patterns, as TensorProto stores DT_HALF. */
  halfVal?: number[];
  stringVal?: Uint8Array[];
}

export interface SummaryValueToWrite {
  tag: string;
  simpleValue?: number;
  tensor?: TensorToWrite;
  pluginName?: string;
  pluginContent?: Uint8Array;
  dataClass?: number;
  /** Already-encoded bytes for a payload field we do not model (4 image, 5 histo, 6 audio). */
  opaque?: { fieldNumber: number; bytes: Uint8Array };
}

export interface EventToWrite {
  wallTimeSecs: number;
  step?: number;
  fileVersion?: string;
  summary?: SummaryValueToWrite[];
  /** Already-encoded bytes for an event field we do not model (4 graph_def, 7 session_log, 9 meta_graph_def...). */
  opaque?: { fieldNumber: number; bytes: Uint8Array };
}

export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DT_STRING = 7;
export const DT_HALF = 19;
const DATA_CLASS_SCALAR = 1;

const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

function key(fieldNumber: number, wireType: Wire): number {
  return ((fieldNumber << 3) | wireType) >>> 0;
}

/** Encodes one tensorflow.Event message. */
export function encodeEvent(event: EventToWrite): Uint8Array {
  const w = Writer.create();
  w.uint32(key(1, Wire.Fixed64)).double(event.wallTimeSecs);
  if (event.step !== undefined && event.step !== 0) w.uint32(key(2, Wire.Varint)).int64(event.step);
  if (event.fileVersion !== undefined) w.uint32(key(3, Wire.LengthDelimited)).string(event.fileVersion);
  if (event.opaque) w.uint32(key(event.opaque.fieldNumber, Wire.LengthDelimited)).bytes(event.opaque.bytes);
  if (event.summary) {
    w.uint32(key(5, Wire.LengthDelimited)).fork();
    for (const value of event.summary) {
      w.uint32(key(1, Wire.LengthDelimited)).fork();
      encodeSummaryValue(w, value);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

function encodeSummaryValue(w: Writer, value: SummaryValueToWrite): void {
  w.uint32(key(1, Wire.LengthDelimited)).string(value.tag);
  if (value.simpleValue !== undefined) w.uint32(key(2, Wire.Fixed32)).float(value.simpleValue);
  if (value.opaque) w.uint32(key(value.opaque.fieldNumber, Wire.LengthDelimited)).bytes(value.opaque.bytes);
  if (value.tensor) {
    w.uint32(key(8, Wire.LengthDelimited)).fork();
    encodeTensor(w, value.tensor);
    w.ldelim();
  }
  if (value.pluginName !== undefined || value.dataClass !== undefined) {
    w.uint32(key(9, Wire.LengthDelimited)).fork();
    if (value.pluginName !== undefined) {
      w.uint32(key(1, Wire.LengthDelimited)).fork();
      w.uint32(key(1, Wire.LengthDelimited)).string(value.pluginName);
      if (value.pluginContent) w.uint32(key(2, Wire.LengthDelimited)).bytes(value.pluginContent);
      w.ldelim();
    }
    if (value.dataClass !== undefined) w.uint32(key(4, Wire.Varint)).int32(value.dataClass);
    w.ldelim();
  }
}

function encodeTensor(w: Writer, tensor: TensorToWrite): void {
  w.uint32(key(1, Wire.Varint)).int32(tensor.dtype);
  // Always present, even for rank 0, as TensorFlow writes it.
  w.uint32(key(2, Wire.LengthDelimited)).fork();
  for (const size of tensor.shape) {
    w.uint32(key(2, Wire.LengthDelimited)).fork();
    w.uint32(key(1, Wire.Varint)).int64(size);
    w.ldelim();
  }
  w.ldelim();
  if (tensor.tensorContent) w.uint32(key(4, Wire.LengthDelimited)).bytes(tensor.tensorContent);
  if (tensor.floatVal?.length) {
    w.uint32(key(5, Wire.LengthDelimited)).fork();
    for (const v of tensor.floatVal) w.float(v);
    w.ldelim();
  }
  if (tensor.doubleVal?.length) {
    w.uint32(key(6, Wire.LengthDelimited)).fork();
    for (const v of tensor.doubleVal) w.double(v);
    w.ldelim();
  }
  for (const bytes of tensor.stringVal ?? []) w.uint32(key(8, Wire.LengthDelimited)).bytes(bytes);
  if (tensor.halfVal?.length) {
    w.uint32(key(13, Wire.LengthDelimited)).fork();
    for (const v of tensor.halfVal) w.int32(v);
    w.ldelim();
  }
}

/** The summary value for one scalar, in the chosen encoding. */
export function scalarSummaryValue(tag: string, value: number, encoding: ScalarEncoding, storage: TensorStorage = 'content'): SummaryValueToWrite {
  if (encoding === 'simple_value') return { tag, simpleValue: value };
  const tensor: TensorToWrite = { dtype: DT_FLOAT, shape: [] };
  let content: Buffer;
  switch (encoding) {
    case 'tensor':
      content = Buffer.alloc(4);
      content.writeFloatLE(value);
      if (storage === 'typed') tensor.floatVal = [value];
      break;
    case 'tensor_double':
      tensor.dtype = DT_DOUBLE;
      content = Buffer.alloc(8);
      content.writeDoubleLE(value);
      if (storage === 'typed') tensor.doubleVal = [value];
      break;
    case 'tensor_half': {
      tensor.dtype = DT_HALF;
      const bits = numberToFloat16Bits(value);
      content = Buffer.alloc(2);
      content.writeUInt16LE(bits);
      if (storage === 'typed') tensor.halfVal = [bits];
      break;
    }
  }
  if (storage === 'content') tensor.tensorContent = content;
  return { tag, tensor, pluginName: 'scalars', dataClass: DATA_CLASS_SCALAR };
}

/** HParamsPluginData { session_start_info = 3 { map<string, Value> hparams = 1; group_name = 4; start_time_secs = 5 } } */
export function encodeHParamsSessionStart(hparams: Record<string, HParamValue>, groupName?: string, startTimeSecs?: number): Uint8Array {
  const w = Writer.create();
  w.uint32(key(3, Wire.LengthDelimited)).fork();
  for (const [name, value] of Object.entries(hparams)) {
    w.uint32(key(1, Wire.LengthDelimited)).fork();
    w.uint32(key(1, Wire.LengthDelimited)).string(name);
    w.uint32(key(2, Wire.LengthDelimited)).fork();
    encodeProtobufValue(w, value);
    w.ldelim();
    w.ldelim();
  }
  if (groupName !== undefined) w.uint32(key(4, Wire.LengthDelimited)).string(groupName);
  if (startTimeSecs !== undefined) w.uint32(key(5, Wire.Fixed64)).double(startTimeSecs);
  w.ldelim();
  return w.finish();
}

function encodeProtobufValue(w: Writer, value: HParamValue): void {
  if (value === null) w.uint32(key(1, Wire.Varint)).int32(0);
  else if (typeof value === 'number') w.uint32(key(2, Wire.Fixed64)).double(value);
  else if (typeof value === 'string') w.uint32(key(3, Wire.LengthDelimited)).string(value);
  else if (typeof value === 'boolean') w.uint32(key(4, Wire.Varint)).bool(value);
  else if (Array.isArray(value)) {
    w.uint32(key(6, Wire.LengthDelimited)).fork();
    for (const item of value) {
      w.uint32(key(1, Wire.LengthDelimited)).fork();
      encodeProtobufValue(w, item);
      w.ldelim();
    }
    w.ldelim();
  } else {
    w.uint32(key(5, Wire.LengthDelimited)).fork();
    for (const [name, item] of Object.entries(value)) {
      w.uint32(key(1, Wire.LengthDelimited)).fork();
      w.uint32(key(1, Wire.LengthDelimited)).string(name);
      w.uint32(key(2, Wire.LengthDelimited)).fork();
      encodeProtobufValue(w, item);
      w.ldelim();
      w.ldelim();
    }
    w.ldelim();
  }
}

export interface EventFileNameParts {
  /** Seconds since the epoch; the file's creation time by convention. */
  timestampSecs: number;
  /** May contain dots. */
  host: string;
  pid?: number;
  /** Distinguishes several writers of one process (PyTorch's and TF2's trailing counter). */
  index?: number;
  /** '.v2' for TF2's writer; '' for PyTorch and TF1. */
  suffix?: string;
}

/** `events.out.tfevents.<secs>.<host>[.<pid>.<index>][suffix]`, as the common writers name them. */
export function eventFileName(parts: EventFileNameParts): string {
  let name = `events.out.tfevents.${Math.floor(parts.timestampSecs)}.${parts.host}`;
  if (parts.pid !== undefined) name += `.${parts.pid}.${parts.index ?? 0}`;
  return name + (parts.suffix ?? '');
}

export interface EventFileWriterOptions {
  /** Continue an existing file (created if missing) instead of truncating it, as a restarted writer would. */
  append?: boolean;
  /** Where tensor-encoded scalars keep their value; 'content' unless told. */
  tensorStorage?: TensorStorage;
}

/**
 * Builds an event file record by record. Two modes:
 * - `new EventFileWriter(filePath)`: every call is appended to the file with a
 *   synchronous write, so it is on disk (and visible to a reader) when the call
 *   returns. For tests that read a file while it grows.
 * - `new EventFileWriter()`: records collect in memory; `toBuffer()` returns
 *   the file's bytes. For the demo generator, which writes files itself.
 * The writer writes exactly what it is told: call `fileVersion()` first for a
 * new file, as TensorFlow and PyTorch do. Wall times are seconds since the
 * epoch, passed explicitly so that output can be reproducible.
 */
export class EventFileWriter {
  readonly filePath: string | undefined;
  private fd: number | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly tensorStorage: TensorStorage;

  constructor(filePath?: string, options: EventFileWriterOptions = {}) {
    this.filePath = filePath;
    this.tensorStorage = options.tensorStorage ?? 'content';
    if (filePath !== undefined) {
      fs.mkdirSync(path.dirname(filePath), { recursive: true });
      this.fd = fs.openSync(filePath, options.append ? 'a' : 'w');
    }
  }

  /** The `brain.Event:2` event every event file starts with. */
  fileVersion(wallTimeSecs: number, version = EVENT_FILE_VERSION): void {
    this.event({ wallTimeSecs, fileVersion: version });
  }

  scalar(wallTimeSecs: number, step: number, tag: string, value: number, encoding: ScalarEncoding = 'simple_value', storage = this.tensorStorage): void {
    this.event({ wallTimeSecs, step, summary: [scalarSummaryValue(tag, value, encoding, storage)] });
  }

  /** Hyperparameters the way PyTorch's add_hparams records them: an hparams-plugin session start with no value. */
  hparams(wallTimeSecs: number, hparams: Record<string, HParamValue>, options: { step?: number; groupName?: string } = {}): void {
    this.event({
      wallTimeSecs,
      step: options.step ?? 0,
      summary: [
        {
          tag: '_hparams_/session_start_info',
          pluginName: HPARAMS_PLUGIN_NAME,
          pluginContent: encodeHParamsSessionStart(hparams, options.groupName, wallTimeSecs),
        },
      ],
    });
  }

  /** Any event, for summaries the helpers above do not cover (non-scalar payloads, placeholders...). */
  event(event: EventToWrite): void {
    this.raw(frameRecord(encodeEvent(event)));
  }

  /** Appends bytes as they are, unframed: for tests that write half a record or damage one. */
  raw(bytes: Uint8Array): void {
    if (this.fd === undefined) {
      if (this.filePath !== undefined) throw new Error(`EventFileWriter for ${this.filePath} is closed`);
      this.chunks.push(Buffer.from(bytes));
      return;
    }
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
  }

  /** Everything written so far, in memory mode. */
  toBuffer(): Buffer {
    if (this.filePath !== undefined) throw new Error('toBuffer() is for in-memory writers; this one writes to ' + this.filePath);
    return Buffer.concat(this.chunks);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

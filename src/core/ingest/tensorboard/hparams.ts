// The hparams plugin's payload (tensorboard/plugins/hparams/plugin_data.proto):
//   HParamsPluginData { version=1; experiment=2; session_start_info=3; session_end_info=4 }
//   SessionStartInfo  { map<string, google.protobuf.Value> hparams=1; model_uri=2;
//                       monitor_url=3; group_name=4; double start_time_secs=5 }
// Only the session start carries a run's hyperparameter values; the experiment
// message describes the search space and is skipped.
import { Reader } from 'protobufjs/minimal';
import { readFieldKey, readLengthDelimitedEnd, WireType } from './protoWire';

export const HPARAMS_PLUGIN_NAME = 'hparams';

export interface SessionStartInfo {
  /** Hyperparameter values rendered as text (numbers like String(n), booleans as true/false). */
  hparams: Record<string, string>;
  groupName?: string;
  /** Seconds since the epoch, as the hparams plugin records it. */
  startTimeSecs?: number;
}

const enum PluginDataField {
  SessionStartInfo = 3,
}

const enum SessionStartField {
  Hparams = 1,
  GroupName = 4,
  StartTimeSecs = 5,
}

/** Returns the session start info in an hparams plugin payload, or undefined if it holds none. */
export function decodeHParamsSessionStart(content: Uint8Array): SessionStartInfo | undefined {
  const reader = Reader.create(content);
  let sessionStart: SessionStartInfo | undefined;
  while (reader.pos < reader.len) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === PluginDataField.SessionStartInfo && wireType === WireType.LengthDelimited) {
      sessionStart = decodeSessionStartInfo(reader, readLengthDelimitedEnd(reader));
    } else {
      reader.skipType(wireType);
    }
  }
  return sessionStart;
}

function decodeSessionStartInfo(reader: Reader, end: number): SessionStartInfo {
  const info: SessionStartInfo = { hparams: {} };
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === SessionStartField.Hparams && wireType === WireType.LengthDelimited) {
      const entry = decodeMapEntry(reader, readLengthDelimitedEnd(reader));
      // defineProperty: a param named "__proto__" is a key like any other.
      Object.defineProperty(info.hparams, entry.key, { value: renderParamValue(entry.value), enumerable: true, writable: true, configurable: true });
    } else if (fieldNumber === SessionStartField.GroupName && wireType === WireType.LengthDelimited) {
      info.groupName = reader.string();
    } else if (fieldNumber === SessionStartField.StartTimeSecs && wireType === WireType.Fixed64) {
      info.startTimeSecs = reader.double();
    } else {
      reader.skipType(wireType);
    }
  }
  return info;
}

/** A map<string, Value> entry is an ordinary message { key=1; value=2 }. */
function decodeMapEntry(reader: Reader, end: number): { key: string; value: ProtobufValue } {
  let key = '';
  let value: ProtobufValue = null;
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === 1 && wireType === WireType.LengthDelimited) key = reader.string();
    else if (fieldNumber === 2 && wireType === WireType.LengthDelimited) value = decodeProtobufValue(reader, readLengthDelimitedEnd(reader));
    else reader.skipType(wireType);
  }
  return { key, value };
}

/** google.protobuf.Value as the JavaScript value it models. */
export type ProtobufValue = null | number | string | boolean | ProtobufValue[] | { [key: string]: ProtobufValue };

const enum ValueField {
  NullValue = 1,
  NumberValue = 2,
  StringValue = 3,
  BoolValue = 4,
  StructValue = 5,
  ListValue = 6,
}

/** Nested structs and lists in hyperparameters are rare and shallow; this bounds hostile input. */
const MAX_VALUE_DEPTH = 32;

function decodeProtobufValue(reader: Reader, end: number, depth = 0): ProtobufValue {
  if (depth > MAX_VALUE_DEPTH) throw new RangeError('google.protobuf.Value nested too deeply');
  // `kind` is a oneof: the last field present wins, as in any protobuf decoder.
  let value: ProtobufValue = null;
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === ValueField.NullValue && wireType === WireType.Varint) {
      reader.skipType(wireType);
      value = null;
    } else if (fieldNumber === ValueField.NumberValue && wireType === WireType.Fixed64) {
      value = reader.double();
    } else if (fieldNumber === ValueField.StringValue && wireType === WireType.LengthDelimited) {
      value = reader.string();
    } else if (fieldNumber === ValueField.BoolValue && wireType === WireType.Varint) {
      value = reader.bool();
    } else if (fieldNumber === ValueField.StructValue && wireType === WireType.LengthDelimited) {
      value = decodeStruct(reader, readLengthDelimitedEnd(reader), depth + 1);
    } else if (fieldNumber === ValueField.ListValue && wireType === WireType.LengthDelimited) {
      value = decodeList(reader, readLengthDelimitedEnd(reader), depth + 1);
    } else {
      reader.skipType(wireType);
    }
  }
  return value;
}

/** Struct { map<string, Value> fields = 1 } */
function decodeStruct(reader: Reader, end: number, depth: number): { [key: string]: ProtobufValue } {
  const struct: { [key: string]: ProtobufValue } = {};
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === 1 && wireType === WireType.LengthDelimited) {
      const entryEnd = readLengthDelimitedEnd(reader);
      let key = '';
      let value: ProtobufValue = null;
      while (reader.pos < entryEnd) {
        const inner = readFieldKey(reader);
        if (inner.fieldNumber === 1 && inner.wireType === WireType.LengthDelimited) key = reader.string();
        else if (inner.fieldNumber === 2 && inner.wireType === WireType.LengthDelimited) value = decodeProtobufValue(reader, readLengthDelimitedEnd(reader), depth + 1);
        else reader.skipType(inner.wireType);
      }
      Object.defineProperty(struct, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      reader.skipType(wireType);
    }
  }
  return struct;
}

/** ListValue { repeated Value values = 1 } */
function decodeList(reader: Reader, end: number, depth: number): ProtobufValue[] {
  const list: ProtobufValue[] = [];
  while (reader.pos < end) {
    const { fieldNumber, wireType } = readFieldKey(reader);
    if (fieldNumber === 1 && wireType === WireType.LengthDelimited) list.push(decodeProtobufValue(reader, readLengthDelimitedEnd(reader), depth + 1));
    else reader.skipType(wireType);
  }
  return list;
}

/** Params are text in our model: numbers as JavaScript prints them, structures as JSON. */
export function renderParamValue(value: ProtobufValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

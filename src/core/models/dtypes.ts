// ONNX tensor element types (TensorProto.DataType) with the names onnxruntime
// uses for them and their size in storage. Inspection needs the size to count
// initializer bytes kept in typed fields; smoke needs the name to build tensors.

export interface DataTypeInfo {
  /** onnxruntime's name where it has one ('float32', 'int64', …), else the ONNX one in lower case. */
  name: string;
  /** Bytes per element; fractional for 4-bit types; 0 where the size varies (string). */
  bytes: number;
}

// Indexed by the enum value from onnx.proto (0 = UNDEFINED).
const TYPES: Record<number, DataTypeInfo> = {
  1: { name: 'float32', bytes: 4 },
  2: { name: 'uint8', bytes: 1 },
  3: { name: 'int8', bytes: 1 },
  4: { name: 'uint16', bytes: 2 },
  5: { name: 'int16', bytes: 2 },
  6: { name: 'int32', bytes: 4 },
  7: { name: 'int64', bytes: 8 },
  8: { name: 'string', bytes: 0 },
  9: { name: 'bool', bytes: 1 },
  10: { name: 'float16', bytes: 2 },
  11: { name: 'float64', bytes: 8 },
  12: { name: 'uint32', bytes: 4 },
  13: { name: 'uint64', bytes: 8 },
  14: { name: 'complex64', bytes: 8 },
  15: { name: 'complex128', bytes: 16 },
  16: { name: 'bfloat16', bytes: 2 },
  17: { name: 'float8e4m3fn', bytes: 1 },
  18: { name: 'float8e4m3fnuz', bytes: 1 },
  19: { name: 'float8e5m2', bytes: 1 },
  20: { name: 'float8e5m2fnuz', bytes: 1 },
  21: { name: 'uint4', bytes: 0.5 },
  22: { name: 'int4', bytes: 0.5 },
  23: { name: 'float4e2m1', bytes: 0.5 },
  24: { name: 'float8e8m0', bytes: 1 },
  25: { name: 'uint2', bytes: 0.25 },
  26: { name: 'int2', bytes: 0.25 },
};

export function dataTypeInfo(elemType: number): DataTypeInfo {
  return TYPES[elemType] ?? { name: elemType === 0 ? 'undefined' : `unknown(${elemType})`, bytes: 0 };
}

export function dataTypeName(elemType: number): string {
  return dataTypeInfo(elemType).name;
}

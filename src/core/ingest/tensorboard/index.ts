// Public surface of the TensorBoard reader and writer.
export { tensorboardReader, type EventFileState } from './reader';
export { discoverTensorBoardSources, isEventFileName } from './discover';
export { readEventFile, readEventFileFromHandle, type EventFileContent, type ReadEventFileOptions } from './eventFile';
export {
  FILE_START,
  frameRecord,
  readRecordRangesFromHandle,
  readRecordsFromFile,
  readRecordsFromHandle,
  scanRecordRanges,
  scanRecords,
  type RecordCursor,
  type RecordRangeHandler,
  type RecordScanResult,
} from './tfrecord';
export { decodeEvent, EventDecoder, TagTable, type DecodedEvent, type TaggedScalar } from './events';
export {
  EventFileWriter,
  eventFileName,
  encodeEvent,
  EVENT_FILE_VERSION,
  type EventFileWriterOptions,
  type EventToWrite,
  type HParamValue,
  type ScalarEncoding,
  type TensorStorage,
} from './writer';
export { crc32c, maskedCrc32c } from './crc32c';

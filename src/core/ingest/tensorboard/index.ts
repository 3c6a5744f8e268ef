// Public surface of the TensorBoard reader and writer.
export { tensorboardReader } from './reader';
export { discoverTensorBoardSources, isEventFileName } from './discover';
export { readEventFile, type EventFileContent, type ReadEventFileOptions } from './eventFile';
export { FILE_START, frameRecord, readRecordsFromFile, readRecordsFromHandle, scanRecords, type RecordCursor, type RecordScanResult } from './tfrecord';
export { decodeEvent, type DecodedEvent, type TaggedScalar } from './events';
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

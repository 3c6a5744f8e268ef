// Every log-format reader RunLens has, in the order discovery runs them.
import { dvcliveReader } from './dvclive';
import { kerasReader } from './keras';
import { lightningReader } from './lightning';
import { mlflowReader } from './mlflow';
import { tensorboardReader } from './tensorboard/reader';
import type { FormatReader } from './types';

export const ALL_READERS: readonly FormatReader[] = [mlflowReader, tensorboardReader, lightningReader, kerasReader, dvcliveReader];

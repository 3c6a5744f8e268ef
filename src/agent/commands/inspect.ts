// `runlens inspect MODEL`: what an .onnx file declares, read from its bytes
// (no runtime, no database).
import { UserError } from '../../core/errors';
import { formatShape, inspectModel, type ModelInspection, type TensorSpec } from '../../core/models/inspect';
import type { CliIO, Command } from '../command';
import { renderTable } from '../table';
import { formatBytes, quoted, toJson } from './modelFormat';

export const inspectCommand: Command = {
  usage: 'runlens inspect MODEL [--json]',
  summary: 'Show what an ONNX model declares: IR and opset versions, producer, inputs and outputs with dtypes and shapes, op counts (subgraphs included), weights and external data.',
  flags: { json: { value: false, description: 'print JSON' } },
  async run(args, io) {
    const model = args.positionals[0];
    if (!model) throw new UserError('bad-argument', 'inspect needs a MODEL (.onnx file)');
    if (args.positionals.length > 1) throw new UserError('bad-argument', 'inspect takes one MODEL');
    const inspection = inspectModel(model);
    if (args.flags.has('json')) io.out(toJson(inspection));
    else printInspection(inspection, io);
    const missing = inspection.externalData.filter((e) => !e.exists);
    if (missing.length) io.err(`warning: ${missing.length} external data file(s) missing (see "external data" above); the model will not load`);
    return 0;
  },
};

function tensorRows(specs: TensorSpec[]): string[][] {
  return specs.map((s) => [s.name, s.dtype, formatShape(s.shape) + (s.shape?.length === 0 ? ' (scalar)' : '')]);
}

export function printInspection(m: ModelInspection, io: CliIO): void {
  const opsets = m.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') || 'none';
  const lines: [string, string][] = [
    ['file', m.file],
    ['size', `${formatBytes(m.fileSize)} (${m.fileSize.toLocaleString('en-US')} bytes)`],
    ['sha256', m.sha256],
    ['ir version', String(m.irVersion)],
    ['producer', `${quoted(m.producerName)} version ${quoted(m.producerVersion)}`],
    ['opset', m.opset === null ? 'none for ai.onnx' : `ai.onnx ${m.opset}`],
    ['opset imports', opsets],
    ['nodes', `${m.nodes.topLevel} in the main graph, ${m.nodes.total} in total (${m.nodes.subgraphs} subgraph${m.nodes.subgraphs === 1 ? '' : 's'})`],
    ['initializers', `${m.initializers.count} (${formatBytes(m.initializers.inlineBytes)} in the file${m.initializers.externalBytes ? `, ${formatBytes(m.initializers.externalBytes)} external` : ''})`],
    ['constants', `${m.constants.count} tensors in node attributes (${formatBytes(m.constants.inlineBytes)})`],
  ];
  if (m.domain) lines.push(['domain', m.domain]);
  if (m.modelVersion) lines.push(['model version', String(m.modelVersion)]);
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) io.out(`${k.padEnd(width)}  ${v}`);

  io.out(`\ninputs (${m.inputs.length})`);
  io.out(renderTable(['NAME', 'DTYPE', 'SHAPE'], tensorRows(m.inputs), 80));
  io.out(`\noutputs (${m.outputs.length})`);
  io.out(renderTable(['NAME', 'DTYPE', 'SHAPE'], tensorRows(m.outputs), 80));
  io.out(`\nops (${m.opHistogram.length} types, subgraphs included)`);
  io.out(renderTable(['OP', 'COUNT'], m.opHistogram.map((o) => [o.op, String(o.count)]), 80));
  if (m.externalData.length) {
    io.out(`\nexternal data (${m.externalData.length})`);
    io.out(
      renderTable(
        ['TENSOR', 'FILE', 'OFFSET', 'LENGTH', 'EXISTS'],
        m.externalData.map((e) => [e.tensor, e.path, e.offset === null ? '-' : String(e.offset), e.length === null ? '-' : String(e.length), e.exists ? 'yes' : 'MISSING']),
        100,
      ),
    );
  }
  if (m.metadata.length) {
    io.out(`\nmetadata (${m.metadata.length})`);
    io.out(renderTable(['KEY', 'VALUE'], m.metadata.map((e) => [e.key, e.value]), 80));
  }
}

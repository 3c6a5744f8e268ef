// A YAML loader that never refuses a file. Training code dumps hyperparameters
// with PyYAML's full dumper, so real files carry Python-specific tags
// (`!!python/object:argparse.Namespace`, `!!python/tuple`, numpy scalars as
// `!!python/object/apply:numpy.core.multiarray.scalar` + `!!binary`). A safe
// loader rejects them; here unknown tags keep whatever content is readable.
import * as YAML from 'yaml';
import type { Alias, Document, Node as YamlNode, Pair, Scalar } from 'yaml';

export interface TolerantYamlResult {
  /** The first document as plain JS values; undefined when nothing could be read. */
  data: unknown;
  /** Human-readable problems (syntax errors, extra documents); empty for a clean file. */
  problems: string[];
}

export interface TolerantYamlOptions {
  /**
   * Keep a plain number's source text when JavaScript would print it differently
   * (`1.0e-05` stays `1.0e-05` instead of becoming 0.00001, `.inf` stays `.inf`).
   * Used for parameters, which are shown as the user wrote them.
   */
  keepNumberText?: boolean;
}

const PYTHON_TAG_PREFIX = 'tag:yaml.org,2002:python/';
const MAX_DEPTH = 200;
const MAX_REPORTED_ERRORS = 3;
/** Alias expansions allowed per document: stops "billion laughs" files from exhausting memory. */
const MAX_ALIAS_EXPANSIONS = 10_000;

export function parseYamlTolerant(text: string, options: TolerantYamlOptions = {}): TolerantYamlResult {
  const problems: string[] = [];
  let documents: Document.Parsed[];
  try {
    const parsed = YAML.parseAllDocuments(text, {
      logLevel: 'silent', // unknown tags are expected; never print to the process's stderr
      merge: true,
      uniqueKeys: false,
      prettyErrors: true, // adds "at line N, column M" to messages
    });
    // An empty stream is an EmptyStream (array-like with no documents).
    documents = Array.isArray(parsed) ? parsed : [];
  } catch (error) {
    return { data: undefined, problems: [`not readable as YAML: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (documents.length === 0) return { data: undefined, problems };
  const [first] = documents;
  // One syntax slip often cascades into several errors; the first few locate it.
  for (const error of first.errors.slice(0, MAX_REPORTED_ERRORS)) problems.push(firstLine(error.message).replace(/:$/, ''));
  if (first.errors.length > MAX_REPORTED_ERRORS) problems.push(`and ${first.errors.length - MAX_REPORTED_ERRORS} more YAML error(s)`);
  if (documents.length > 1) problems.push(`${documents.length} YAML documents in one file; only the first was read`);

  const converter = new NodeConverter(first, options);
  let data: unknown;
  try {
    data = converter.convert(first.contents, 0);
  } catch (error) {
    problems.push(`not readable as YAML: ${error instanceof Error ? error.message : String(error)}`);
    data = undefined;
  }
  return { data, problems };
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}

/** Converts the YAML AST to plain values, applying the Python-tag rules. */
class NodeConverter {
  private readonly resolving = new Set<YamlNode>();
  private aliasExpansions = 0;

  constructor(
    private readonly document: Document.Parsed,
    private readonly options: TolerantYamlOptions,
  ) {}

  convert(node: unknown, depth: number): unknown {
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH) return '…';
    if (YAML.isAlias(node)) return this.convertAlias(node, depth);
    if (YAML.isScalar(node)) return this.convertScalar(node);
    // Tagged mappings (`!!python/object:argparse.Namespace {...}`) keep their
    // fields; the class name is not a value anyone compares.
    if (YAML.isMap(node)) return this.convertMap(node.items, depth);
    if (YAML.isSeq(node)) return this.convertSeq(node.items, node.tag, depth);
    return null;
  }

  private convertAlias(alias: Alias, depth: number): unknown {
    const target = alias.resolve(this.document);
    // A missing anchor, a self-referencing one, or too many expansions: keep the alias name as text.
    if (!target || this.resolving.has(target) || ++this.aliasExpansions > MAX_ALIAS_EXPANSIONS) return `*${alias.source}`;
    this.resolving.add(target);
    try {
      return this.convert(target, depth + 1);
    } finally {
      this.resolving.delete(target);
    }
  }

  private convertScalar(scalar: Scalar): unknown {
    const tag = scalar.tag;
    const value = scalar.value;
    if (tag?.startsWith(PYTHON_TAG_PREFIX)) {
      const pythonKind = tag.slice(PYTHON_TAG_PREFIX.length);
      // `!!python/name:torch.optim.adam.Adam ''` — the tag itself is the readable part.
      const named = /^(?:name|module):(.+)$/.exec(pythonKind);
      if (named) return named[1];
      if (/^(?:int|long|float)$/.test(pythonKind)) {
        const number = Number(String(value).trim());
        return Number.isNaN(number) ? String(value) : number;
      }
      if (pythonKind === 'bool') return /^(?:true|yes|on)$/i.test(String(value).trim());
      if (pythonKind === 'none') return null;
      return value === null || value === undefined ? '' : value;
    }
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (typeof value === 'number' && this.options.keepNumberText && scalar.type === 'PLAIN') {
      const source = (scalar as Scalar.Parsed).source;
      if (typeof source === 'string' && source !== '' && String(value) !== source) return source;
    }
    return value;
  }

  private convertMap(items: Pair[], depth: number): unknown {
    // `<<: *base` (or a list of them) merges mappings in; keys written in this
    // mapping win, and among merged ones the first source wins, as in YAML 1.1.
    const merged: Record<string, unknown> = {};
    const explicit: Record<string, unknown> = {};
    for (const pair of items) {
      if (isMergeKey(pair.key)) {
        const sources = this.convert(pair.value, depth + 1);
        for (const source of Array.isArray(sources) ? sources : [sources]) {
          if (!isPlainObject(source)) continue;
          for (const [key, value] of Object.entries(source)) if (!(key in merged)) merged[key] = value;
        }
        continue;
      }
      explicit[this.keyText(pair.key, depth)] = this.convert(pair.value, depth + 1);
    }
    return { ...merged, ...explicit };
  }

  private convertSeq(items: unknown[], tag: string | undefined, depth: number): unknown {
    if (tag && /python\/object\/apply:numpy\.(?:_?core\.)?multiarray\.scalar$/.test(tag)) {
      const decoded = decodeNumpyScalar(items, this.document);
      if (decoded !== undefined) return decoded;
    }
    return items.map((item) => this.convert(item, depth + 1));
  }

  private keyText(key: unknown, depth: number): string {
    const converted = this.convert(key, depth + 1);
    if (converted === null || converted === undefined) return '';
    if (typeof converted === 'object') return JSON.stringify(converted);
    return String(converted);
  }
}

/**
 * PyYAML writes a numpy scalar as `[dtype(args: [f8, ...], state: [3, '<', ...]), !!binary bytes]`.
 * Decodes the common numeric dtypes back to the number; undefined when unsure.
 */
function decodeNumpyScalar(items: unknown[], document: Document.Parsed): number | boolean | undefined {
  if (items.length < 2) return undefined;
  const dtypeNode = resolveNode(items[0], document);
  const bytesNode = resolveNode(items[1], document);
  if (!YAML.isMap(dtypeNode) || !YAML.isScalar(bytesNode)) return undefined;
  const args = resolveNode(dtypeNode.get('args', true), document);
  const state = resolveNode(dtypeNode.get('state', true), document);
  if (!YAML.isSeq(args)) return undefined;
  const code = scalarText(resolveNode(args.items[0], document));
  if (!code) return undefined;
  let littleEndian = true;
  if (YAML.isSeq(state)) {
    const order = scalarText(resolveNode(state.items[1], document));
    if (order === '>') littleEndian = false;
  }
  const rawBytes = bytesNode.value;
  const bytes =
    rawBytes instanceof Uint8Array ? Buffer.from(rawBytes) : typeof rawBytes === 'string' ? Buffer.from(rawBytes, 'base64') : undefined;
  if (!bytes) return undefined;
  const match = /^[<>|=]?([fiub])(\d)$/.exec(code);
  if (!match) return undefined;
  const [, kind, sizeText] = match;
  const size = Number(sizeText);
  if (bytes.length !== size) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (`${kind}${size}`) {
    case 'f8': return view.getFloat64(0, littleEndian);
    case 'f4': return view.getFloat32(0, littleEndian);
    case 'i8': return Number(view.getBigInt64(0, littleEndian));
    case 'i4': return view.getInt32(0, littleEndian);
    case 'i2': return view.getInt16(0, littleEndian);
    case 'i1': return view.getInt8(0);
    case 'u8': return Number(view.getBigUint64(0, littleEndian));
    case 'u4': return view.getUint32(0, littleEndian);
    case 'u2': return view.getUint16(0, littleEndian);
    case 'u1': return view.getUint8(0);
    case 'b1': return view.getUint8(0) !== 0;
    default: return undefined;
  }
}

function resolveNode(node: unknown, document: Document.Parsed): unknown {
  return YAML.isAlias(node) ? node.resolve(document) : node;
}

function scalarText(node: unknown): string | undefined {
  return YAML.isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined;
}

/**
 * Flattens nested mappings into `a/b/c` keys with string values, for params.
 * Leaves that cannot flatten (lists, empty mappings) become compact JSON;
 * null becomes `null`. A key that already contains `/` (Hydra writes
 * `model/params/total`) is kept as it is. When two paths collide the later
 * one wins and the collision is reported through `onCollision`.
 */
export function flattenToStrings(value: unknown, onCollision?: (key: string) => void): Record<string, string> {
  const result: Record<string, string> = {};
  const write = (key: string, leaf: unknown): void => {
    if (Object.prototype.hasOwnProperty.call(result, key)) onCollision?.(key);
    result[key] = leafToString(leaf);
  };
  const walk = (node: unknown, prefix: string): void => {
    if (isPlainObject(node)) {
      const entries = Object.entries(node);
      if (entries.length === 0) {
        if (prefix !== '') write(prefix, node);
        return;
      }
      for (const [key, child] of entries) walk(child, prefix === '' ? key : `${prefix}/${key}`);
      return;
    }
    if (prefix === '') {
      // A document that is a bare scalar or list has no key to file it under.
      if (node !== null && node !== undefined) write('value', node);
      return;
    }
    write(prefix, node);
  };
  walk(value, '');
  return result;
}

/** Flattens like `flattenToStrings` but keeps finite and non-finite numbers as numbers (DVCLive summaries). */
export function flattenToSummaries(value: unknown): Record<string, number | string> {
  const result: Record<string, number | string> = {};
  const walk = (node: unknown, prefix: string): void => {
    if (isPlainObject(node) && (Object.keys(node).length > 0 || prefix === '')) {
      for (const [key, child] of Object.entries(node)) walk(child, prefix === '' ? key : `${prefix}/${key}`);
      return;
    }
    if (prefix === '') return;
    result[prefix] = typeof node === 'number' ? node : leafToString(node);
  };
  walk(value, '');
  return result;
}

/** Text for one leaf value: strings as-is, JSON for structures (non-finite numbers spelled out). */
export function leafToString(leaf: unknown): string {
  if (leaf === null || leaf === undefined) return 'null';
  if (typeof leaf === 'string') return leaf;
  if (typeof leaf === 'number' || typeof leaf === 'boolean' || typeof leaf === 'bigint') return String(leaf);
  return JSON.stringify(leaf, (_key, inner: unknown) =>
    typeof inner === 'number' && !Number.isFinite(inner) ? String(inner) : inner,
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The `<<` merge key: the yaml library marks it with a symbol value when merge keys are on. */
function isMergeKey(key: unknown): boolean {
  if (!YAML.isScalar(key)) return false;
  return typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN');
}

// The model card page: what the model takes and gives, what it is made of,
// and what the last smoke test and EP parity check measured, from one
// ModelCardData snapshot. Every string from the model file (names, metadata,
// producer) goes into text nodes through h(); nothing is parsed as HTML.
import type { Dim } from '../../src/core/models/inspect';
import type { CardAction, InspectionWire, ModelCardData, ModelCardHostMessage, ParityWire, SmokeWire } from '../../src/shared/modelCardProtocol';
import { describeSpeedup } from '../../src/shared/speedup';
import { fromWire, type WireNumber, type Wired } from '../../src/shared/wireNumbers';
import { append, clear, h } from '../dom';

type Row = (string | Node)[];

const num = (v: WireNumber | null | undefined): number => (v === null || v === undefined ? NaN : fromWire(v));

function ms(v: WireNumber | null | undefined): string {
  const n = num(v);
  if (!Number.isFinite(n)) return '—';
  return n >= 1000 ? `${Math.round(n).toLocaleString('en-US')} ms` : `${n.toPrecision(3)} ms`;
}

function bytes(v: WireNumber): string {
  const n = num(v);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Differences: three significant digits, 0 as 0, and "—" when there was nothing to subtract. */
function diff(v: WireNumber | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const n = num(v);
  if (n === 0) return '0';
  if (!Number.isFinite(n)) return String(v);
  return n.toPrecision(3);
}

export function formatDims(shape: readonly Wired<Dim>[] | null): string {
  if (shape === null) return 'not a tensor';
  return `[${shape.map((d) => (d.kind === 'fixed' ? String(num(d.value)) : d.kind === 'symbol' ? d.name : '?')).join(', ')}]`;
}

function table(className: string, headers: string[], rows: Row[], rowData?: (index: number) => Record<string, string>): HTMLTableElement {
  return h(
    'table',
    { class: `grid ${className}` },
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h('tbody', {}, ...rows.map((cells, i) => h('tr', { data: rowData?.(i) ?? {} }, ...cells.map((c) => h('td', {}, c))))),
  );
}

function verdict(pass: boolean | null, words?: { pass: string; fail: string; none: string }): HTMLElement {
  const w = words ?? { pass: 'pass', fail: 'FAIL', none: 'not compared' };
  const state = pass === null ? 'none' : pass ? 'pass' : 'fail';
  return h('span', { class: `verdict ${state}`, data: { verdict: state } }, pass === null ? w.none : pass ? w.pass : w.fail);
}

function section(name: string, title: string, ...children: (Node | string | null | false)[]): HTMLElement {
  return h('section', { data: { section: name } }, h('h2', {}, title), ...children);
}

function facts(entries: [string, string | Node][]): HTMLElement {
  return h('dl', { class: 'facts' }, ...entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

const ACTIONS: { action: CardAction; label: string; title: string }[] = [
  { action: 'runSmoke', label: 'Run Smoke Test', title: 'Load the model in a worker process and time it on synthetic inputs' },
  { action: 'checkParity', label: 'Check EP Parity', title: 'Run the same inputs on CPU and on each other execution provider here, and compare outputs and latency' },
  { action: 'saveGolden', label: 'Save as Golden', title: "Run the model and save its outputs beside it as MODEL.golden.json, the reference later smoke tests compare with" },
];

export class ModelCardView {
  private card: ModelCardData | null = null;
  private busy: CardAction | null = null;
  private readonly toolbar: HTMLElement;
  private readonly notices: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly send: (action: CardAction) => void,
  ) {
    this.toolbar = h('div', { class: 'toolbar', role: 'toolbar' });
    this.notices = h('div', { class: 'notices', attrs: { 'aria-live': 'polite' } });
    this.body = h('div', { class: 'card-body' });
  }

  dispatch(message: ModelCardHostMessage): void {
    switch (message.type) {
      case 'card':
        this.card = message.card;
        this.render();
        return;
      case 'busy':
        this.busy = message.action;
        this.renderToolbar();
        return;
      case 'notice':
        this.showNotice(message.level, message.message);
        return;
      default: {
        const unknown: never = message;
        this.showNotice('error', `unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  showNotice(level: 'info' | 'warning' | 'error', text: string): void {
    append(this.notices, h('p', { class: `notice ${level}`, role: level === 'error' ? 'alert' : 'status' }, text));
  }

  private render(): void {
    const card = this.card!;
    clear(this.root);
    clear(this.body);
    const name = card.path.split(/[\\/]/).pop() ?? card.path;
    append(this.root, h('header', {}, h('h1', {}, name), h('p', { class: 'path' }, card.path), this.toolbar), this.notices, this.body);
    this.renderToolbar();
    if (card.inspection) this.renderInspection(card.inspection);
    else append(this.body, section('inspection', 'Inspection', h('p', { class: 'notice error', role: 'alert' }, card.inspectionError ?? 'the model could not be read')));
    append(this.body, this.smokeSection(card.smoke), this.goldenSection(card), this.paritySection(card.parity), this.versionsSection(card));
    this.root.removeAttribute('aria-busy');
    document.body.dataset.state = 'ready';
  }

  private renderToolbar(): void {
    clear(this.toolbar);
    const unreadable = this.card !== null && this.card.inspection === null;
    for (const a of ACTIONS) {
      const button = h('vscode-button', {
        title: a.title,
        data: { action: a.action },
        props: { disabled: this.busy !== null || unreadable, secondary: a.action !== 'runSmoke' },
        on: { click: () => !this.busy && this.send(a.action) },
      });
      append(button, this.busy === a.action ? `${a.label}…` : a.label);
      append(this.toolbar, button);
    }
  }

  private renderInspection(i: InspectionWire): void {
    const tensors = (list: InspectionWire['inputs']) =>
      table(
        'tensors',
        ['Name', 'Type', 'Shape'],
        list.map((t) => [t.name, t.dtype, formatDims(t.shape)]),
        (k) => ({ name: list[k].name }),
      );
    append(
      this.body,
      section(
        'inspection',
        'Model',
        facts([
          ['IR version', String(num(i.irVersion))],
          ['Producer', `${JSON.stringify(i.producerName)} ${JSON.stringify(i.producerVersion)}`],
          ['Opsets', i.opsets.map((o) => `${o.domain} ${num(o.version)}`).join(', ') || 'none'],
          ['Nodes', `${num(i.nodes.topLevel)} in the main graph, ${num(i.nodes.total)} with ${num(i.nodes.subgraphs)} subgraph(s)`],
          ['Initializers', `${num(i.initializers.count)} (${bytes(i.initializers.inlineBytes)} inline, ${bytes(i.initializers.externalBytes)} external)`],
          ['Size', `${bytes(i.fileSize)} · sha256 ${i.sha256}`],
        ]),
      ),
      section('inputs', 'Inputs', tensors(i.inputs)),
      section('outputs', 'Outputs', tensors(i.outputs)),
      section(
        'ops',
        'Operators (subgraphs included)',
        table(
          'ops',
          ['Op', 'Count'],
          i.opHistogram.map((o) => [o.op, String(num(o.count))]),
        ),
      ),
      i.externalData.length > 0 &&
        section(
          'external-data',
          'External data',
          table(
            'external',
            ['File', 'Tensor', 'Present'],
            i.externalData.map((e) => [e.location, e.tensor, e.exists ? 'yes' : 'MISSING']),
          ),
        ),
      i.metadata.length > 0 &&
        section(
          'metadata',
          'Metadata',
          table(
            'metadata',
            ['Key', 'Value'],
            i.metadata.map((m) => [m.key, m.value]),
          ),
        ),
    );
  }

  private smokeSection(smoke: SmokeWire | null): HTMLElement {
    if (!smoke) return section('smoke', 'Smoke test', h('p', { class: 'empty' }, 'No smoke test yet: Run Smoke Test loads the model in a separate process and times it on synthetic inputs.'));
    const ep = smoke.ep.fallbackReason ? `${smoke.ep.used} (asked for ${smoke.ep.requested}: ${smoke.ep.fallbackReason})` : smoke.ep.used;
    const l = smoke.latency;
    return section(
      'smoke',
      'Smoke test',
      h('p', {}, verdict(smoke.pass, { pass: 'PASS', fail: 'FAIL', none: '—' }), ` on ${ep}`),
      facts([
        ['Inputs', smoke.inputs.map((i) => `${i.name}=${i.shape.map(num).join('x') || 'scalar'}`).join(', ')],
        ['Load', ms(smoke.loadMs)],
        ['First run', ms(smoke.firstRunMs)],
        ['Latency', `p50 ${ms(l.p50Ms)} · p95 ${ms(l.p95Ms)} · p99 ${ms(l.p99Ms)} over ${num(l.runs)} runs`],
        ['Peak memory', bytes(smoke.peakRssBytes)],
      ]),
      table(
        'smoke-outputs',
        ['Output', 'Shape', 'NaN', '±Inf', 'Min', 'Max', 'Check'],
        smoke.outputs.map((o) => [o.name, o.dims.map(num).join('x') || 'scalar', String(num(o.nan)), String(num(o.posInf) + num(o.negInf)), diff(o.min), diff(o.max), o.shapeProblem ? `shape ${o.shapeProblem}` : 'ok']),
      ),
      ...smoke.problems.map((p) => h('p', { class: 'notice error' }, p)),
      ...smoke.warnings.map((w) => h('p', { class: 'notice warning' }, w)),
    );
  }

  private goldenSection(card: ModelCardData): HTMLElement {
    const g = card.golden;
    const comparison = card.smoke?.golden.comparison ?? null;
    return section(
      'golden',
      'Golden outputs',
      h('p', { data: { golden: g.exists ? 'saved' : 'none' } }, g.exists ? `Saved ${g.createdAt ?? ''} in ${g.path}` : `None yet: Save as Golden writes ${g.path}`),
      comparison &&
        h(
          'div',
          {},
          h('p', {}, 'Last smoke test against it: ', verdict(comparison.pass, { pass: 'PASS', fail: 'FAIL', none: '—' }), ` (atol ${num(comparison.tolerances.atol)}, rtol ${num(comparison.tolerances.rtol)})`),
          table(
            'golden-outputs',
            ['Output', 'Max abs diff', 'Max rel diff', 'Cosine', 'Result'],
            comparison.outputs.map((o) => [o.name, diff(o.maxAbsDiff), diff(o.maxRelDiff), diff(o.cosine), o.problem ?? (o.pass ? 'pass' : 'FAIL')]),
          ),
        ),
    );
  }

  private paritySection(parity: ParityWire | null): HTMLElement {
    if (!parity) return section('parity', 'Execution provider parity', h('p', { class: 'empty' }, 'No parity check yet: Check EP Parity runs the same inputs on CPU and on each other execution provider of this machine.'));
    const ref = parity.reference;
    const largest = (outputs: ParityWire['candidates'][number]['outputs'], key: 'maxAbsDiff' | 'maxRelDiff') => {
      const values = outputs.map((o) => o[key]).filter((v): v is WireNumber => v !== null).map(num);
      return values.length ? diff(Math.max(...values)) : '—';
    };
    const rows: Row[] = [
      [`${ref.label} (reference)`, 'ran', ms(ref.timing.loadMs), ms(ref.timing.firstRunMs), ms(ref.timing.latency.p50Ms), '1×', '—', '—', 'reference'],
      ...parity.candidates.map((c): Row => [
        c.label,
        c.status,
        ms(c.timing?.loadMs),
        ms(c.timing?.firstRunMs),
        ms(c.timing?.latency.p50Ms),
        c.speedup === null ? '—' : describeSpeedup(num(c.speedup)),
        largest(c.outputs, 'maxAbsDiff'),
        largest(c.outputs, 'maxRelDiff'),
        c.status === 'unavailable' ? verdict(null, { pass: '', fail: '', none: 'unavailable' }) : verdict(c.status === 'failed' ? false : c.pass),
      ]),
    ];
    const labels = [ref.label, ...parity.candidates.map((c) => c.label)];
    return section(
      'parity',
      'Execution provider parity',
      h('p', {}, verdict(parity.pass, { pass: 'PASS', fail: 'FAIL', none: '—' }), ` ${num(parity.compared)} of ${parity.candidates.length} provider(s) compared with ${ref.label}; atol ${num(parity.tolerances.atol)}, rtol ${num(parity.tolerances.rtol)}; ${num(parity.runs)} runs each`),
      table('parity', ['Provider', 'Status', 'Load', 'First run', 'p50', 'Speed vs CPU', 'Max abs diff', 'Max rel diff', 'Result'], rows, (k) => ({ ep: labels[k] })),
      ...parity.candidates.filter((c) => c.reason).map((c) => h('p', { class: `notice ${c.status === 'failed' ? 'error' : 'info'}`, data: { reasonFor: c.label } }, `${c.label}: ${c.reason}`)),
      ...parity.candidates
        .filter((c) => c.status === 'ran')
        .map((c) =>
          h(
            'details',
            { data: { outputsOf: c.label } },
            h('summary', {}, `${c.label} vs ${ref.label}, per output`),
            table(
              'parity-outputs',
              ['Output', 'Max abs diff', 'Max rel diff', 'Outside tolerance', 'Result'],
              c.outputs.map((o) => [o.name, diff(o.maxAbsDiff), diff(o.maxRelDiff), o.problem ?? `${num(o.mismatches)}/${num(o.elements)}`, verdict(o.pass)]),
            ),
          ),
        ),
      ...parity.problems.map((p) => h('p', { class: 'notice error' }, p)),
    );
  }

  private versionsSection(card: ModelCardData): HTMLElement {
    if (card.versions.length === 0) return section('versions', 'Registry', h('p', { class: 'empty' }, 'Not registered: Register Model in the Models view records it with its source run.'));
    return section(
      'versions',
      'Registry',
      table(
        'versions',
        ['Version', 'State', 'Aliases', 'Registered by', 'Source run'],
        card.versions.map((v) => [`${v.name}@${num(v.version)}`, v.state, v.aliases.join(', ') || '—', v.registeredBy, v.run?.name ?? '—']),
      ),
    );
  }
}

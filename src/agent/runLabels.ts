// The names the tree shows: within one experiment no two runs, and in the
// list no two experiments, show the same label (shared/distinctLabels.ts).
// Labels are made over every run of an experiment, not over the page asked
// for, so that a run keeps its label however the tree pages.
import type { ExperimentGroup, RunStore, RunSummary } from '../core/store/types';
import { distinctLabels } from '../shared/distinctLabels';
import type { WireExperiment } from '../shared/protocol';

/** Each run's label within its experiment, by run id. */
export function runDisplayNames(store: RunStore, runs: readonly Pick<RunSummary, 'id' | 'sourceRoot' | 'experimentKey'>[]): Map<number, string> {
  const out = new Map<number, string>();
  const experiments = new Map<string, { sourceRoot: string; experimentKey: string }>();
  for (const r of runs) experiments.set(JSON.stringify([r.sourceRoot, r.experimentKey]), { sourceRoot: r.sourceRoot, experimentKey: r.experimentKey });
  for (const { sourceRoot, experimentKey } of experiments.values()) {
    const all = store.runNames(sourceRoot, experimentKey);
    const labels = distinctLabels(all);
    all.forEach((r, i) => out.set(r.id, labels[i]));
  }
  return out;
}

export function experimentsToWire(experiments: readonly ExperimentGroup[]): WireExperiment[] {
  const labels = distinctLabels(experiments.map((e) => ({ name: e.name, path: e.sourceRoot })));
  return experiments.map((e, i) => ({ ...e, displayName: labels[i] }));
}

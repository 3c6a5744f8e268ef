// The Prometheus text the serving server and the router write, and the
// reader the product uses on it.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { MetricsRegistry, parsePrometheusText, sumSamples } from '../../../src/core/deploy/prometheus';

test('counters and a histogram render as Prometheus text 0.0.4: HELP/TYPE, cumulative buckets, +Inf, _sum and _count', () => {
  const m = new MetricsRegistry();
  m.counter('requests_total', 'Requests');
  m.histogram('latency_seconds', 'Latency', [0.01, 0.1]);
  const labels = { model: 'vision', version: '2' };
  m.inc('requests_total', labels);
  m.inc('requests_total', labels);
  m.observe('latency_seconds', labels, 0.005);
  m.observe('latency_seconds', labels, 0.05);
  m.observe('latency_seconds', labels, 3);
  assert.equal(
    m.render(),
    [
      '# HELP requests_total Requests',
      '# TYPE requests_total counter',
      'requests_total{model="vision",version="2"} 2',
      '# HELP latency_seconds Latency',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{model="vision",version="2",le="0.01"} 1',
      'latency_seconds_bucket{model="vision",version="2",le="0.1"} 2',
      'latency_seconds_bucket{model="vision",version="2",le="+Inf"} 3',
      'latency_seconds_sum{model="vision",version="2"} 3.055',
      'latency_seconds_count{model="vision",version="2"} 3',
      '',
    ].join('\n'),
  );
});

test('label values are escaped and read back; non-finite values are spelled as the format says', () => {
  const m = new MetricsRegistry();
  m.gauge('g', 'A gauge');
  m.set('g', { name: 'a "quoted"\nname\\x' }, NaN);
  m.set('g', { name: 'inf' }, -Infinity);
  const text = m.render();
  assert.match(text, /g\{name="a \\"quoted\\"\\nname\\\\x"\} NaN/);
  const samples = parsePrometheusText(text);
  assert.equal(samples[0].labels.name, 'a "quoted"\nname\\x');
  assert.ok(Number.isNaN(samples[0].value));
  assert.equal(samples[1].value, -Infinity);
});

test('the reader sums by labels, ignores comments and timestamps, and names the line it cannot read', () => {
  const samples = parsePrometheusText('# a comment\nr_total{variant="production"} 7 1700000000000\nr_total{variant="candidate"} 3\nr_total 1\n');
  assert.equal(sumSamples(samples, 'r_total'), 11);
  assert.equal(sumSamples(samples, 'r_total', { variant: 'candidate' }), 3);
  assert.equal(sumSamples(samples, 'missing'), 0);
  assert.throws(() => parsePrometheusText('ok 1\n<html>not metrics</html>\n'), /metrics line 2 is not Prometheus text: <html>/);
  assert.throws(() => parsePrometheusText('x{a="1" 2\n'), /metrics line 1/);
});

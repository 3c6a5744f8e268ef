import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalMarkdown, markdownText } from '../../../src/extension/models/approvalView';

const hostile = 'x](https://example.invalid/t.png) <img src=x onerror=alert(1)> **b** `c` a|b\nsecond ~~d~~ &amp; _e_ \\';

test('text from files is literal Markdown: no link, image, HTML, emphasis, code or table break survives', () => {
  const escaped = markdownText(hostile);
  assert.doesNotMatch(escaped, /\n/, 'a line break would end the table row');
  // Every syntax mark is preceded by a backslash (an odd run of backslashes).
  for (const match of escaped.matchAll(/(\\*)([`*_[\]<>|~&!])/g)) assert.equal(match[1].length % 2, 1, `"${match[2]}" at ${match.index} is escaped`);
  assert.equal(markdownText('val_loss 0.95 - ok #1'), 'val\\_loss 0.95 - ok #1', 'numbers and marks that only count at a line start stay readable');
});

test('the approval document escapes every file-derived field', () => {
  const evil = '<script>x</script>';
  const markdown = approvalMarkdown({
    ref: `m${evil}@1`,
    sha256: 'a'.repeat(64),
    evaluatedAt: 0,
    policy: { file: `/w/${evil}.json`, sha256: null, policy: null },
    rules: [{ id: 'r', rule: `metric ${evil} >= 0.9`, status: 'fail', evidence: `found ${evil}` }],
    pass: false,
    failed: ['r'],
    diff: { against: `m${evil}@0`, params: [{ key: `p${evil}`, before: evil, after: null }], unchangedParams: 0, metrics: [{ key: `k${evil}`, before: 1, after: 'text<b>', delta: null, deltaPercent: null }] },
    smoke: [{ ep: 'cpu', ranOn: evil, error: evil, runs: 3, p50Ms: 1.5, p95Ms: 'NaN', p99Ms: null }],
    notes: [evil],
  } as unknown as Parameters<typeof approvalMarkdown>[0]);
  assert.doesNotMatch(markdown, /(^|[^\\])<(script|b)>/, 'no raw HTML tag');
  assert.equal(markdown.match(/\\<script\\>/g)?.length, 11, 'each of the eleven fields carrying it is escaped');
  assert.match(markdown, /\| 1\.500 ms \| NaN \| — \|/, 'numbers stay plain');
});

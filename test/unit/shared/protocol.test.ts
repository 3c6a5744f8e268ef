import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { agentNotifications, agentRequests } from '../../../src/shared/protocol';
import { formatValue, fromWire, toWire, toWireArray } from '../../../src/shared/wireNumbers';

test('non-finite numbers survive JSON through the wire encoding', () => {
  const values = [0.1, NaN, Infinity, -Infinity, -0.5, 1e-300];
  const back = (JSON.parse(JSON.stringify(toWireArray(values))) as ReturnType<typeof toWire>[]).map(fromWire);
  values.forEach((v, i) => assert.ok(Object.is(back[i], v), `${v}`));
  assert.equal(JSON.stringify(NaN), 'null', 'plain JSON would have lost it (why this exists)');
});

test('every request and notification object carries its own method name', () => {
  for (const [method, type] of Object.entries(agentRequests)) assert.equal(type.method, method);
  for (const [method, type] of Object.entries(agentNotifications)) assert.equal(type.method, method);
  assert.ok(Object.keys(agentRequests).includes('workspace/ingest'));
});

test('values are formatted for people with full precision and spelled-out specials', () => {
  assert.equal(formatValue(0.17881843447685242), '0.17881843447685242');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(-Infinity), '-inf');
});

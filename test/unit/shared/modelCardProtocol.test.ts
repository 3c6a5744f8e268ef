// The host acts only on model card messages of the declared shapes.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModelCardMessage } from '../../../src/shared/modelCardProtocol';

test('model card messages: the declared ones pass, anything else is dropped', () => {
  assert.deepEqual(parseModelCardMessage({ type: 'ready', protocolVersion: 1 }), { type: 'ready', protocolVersion: 1 });
  for (const type of ['runSmoke', 'checkParity', 'saveGolden']) assert.deepEqual(parseModelCardMessage({ type, extra: 'ignored' }), { type });
  for (const bad of [null, 'runSmoke', {}, { type: 'ready' }, { type: 'deleteModel' }, { type: 42 }, [{ type: 'runSmoke' }]]) {
    assert.equal(parseModelCardMessage(bad), undefined, JSON.stringify(bad));
  }
});

// The transition table and the alias rules.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  statesAllowedForAlias,
  statesLeadingTo,
  TRANSITIONS,
  validateAliasName,
  validateModelName,
  VERSION_STATES,
} from '../../../src/core/registry/states';
import { parseModelRef } from '../../../src/core/registry/versions';

test('the life the issue describes is legal, step by step', () => {
  const path = ['pending', 'approved', 'pushed', 'deployed', 'archived'] as const;
  for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1], path[i]), `${path[i - 1]} → ${path[i]}`);
  assert.ok(canTransition('pending', 'rejected'));
  assert.ok(canTransition('rejected', 'archived'));
  assert.ok(canTransition('approved', 'deployed'), 'deploying a built image needs no registry push');
});

test('everything not in the table is refused: no skipping, no going back, archived is final', () => {
  const legal = new Set(Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`)));
  let refused = 0;
  for (const from of VERSION_STATES) {
    for (const to of VERSION_STATES) {
      if (legal.has(`${from}>${to}`)) continue;
      assert.equal(canTransition(from, to), false, `${from} → ${to}`);
      assert.throws(() => assertTransition('face@1', from, to), IllegalTransitionError);
      refused++;
    }
  }
  // 36 pairs, 10 legal ones: a table that allowed more would shrink this.
  assert.equal(refused, 36 - 10);
  for (const bad of [['pending', 'deployed'], ['approved', 'pending'], ['rejected', 'approved'], ['deployed', 'approved'], ['archived', 'pending']] as const) {
    assert.equal(canTransition(bad[0], bad[1]), false, bad.join(' → '));
  }
  assert.deepEqual(TRANSITIONS.archived, []);
});

test('a refusal names the current state and the allowed next states, and is a user error', () => {
  try {
    assertTransition('face@2', 'rejected', 'approved');
    assert.fail('should refuse');
  } catch (e) {
    assert.ok(isUserError(e));
    assert.equal((e as Error).message, 'face@2 is rejected and cannot become approved: from rejected it can only become archived');
  }
  assert.throws(() => assertTransition('face@2', 'approved', 'approved'), /face@2 is already approved; from approved it can only become pushed or deployed or archived/);
  assert.throws(() => assertTransition('face@2', 'archived', 'pending'), /archived is final: no further state changes/);
});

test('statesLeadingTo inverts the table', () => {
  assert.deepEqual(statesLeadingTo('approved'), ['pending']);
  assert.deepEqual(statesLeadingTo('archived'), ['pending', 'approved', 'rejected', 'pushed', 'deployed']);
  assert.deepEqual(statesLeadingTo('pending'), []);
});

test('production and staging only point at approved versions; no alias points at rejected or archived ones', () => {
  for (const alias of ['production', 'staging']) assert.deepEqual([...statesAllowedForAlias(alias)].sort(), ['approved', 'deployed', 'pushed']);
  assert.deepEqual([...statesAllowedForAlias('candidate')].sort(), ['approved', 'deployed', 'pending', 'pushed']);
});

test('alias and model names that would be ambiguous in NAME@REF are refused', () => {
  for (const bad of ['latest', 'v2', '2', 'Production', 'with space', '']) assert.throws(() => validateAliasName(bad), /not a usable alias/, bad);
  for (const good of ['production', 'staging', 'candidate', 'canary-eu', 'ab_test2']) validateAliasName(good);
  for (const bad of ['a@b', 'has space', '-lead', '']) assert.throws(() => validateModelName(bad), /not a usable model name/, bad);
  validateModelName('team/face-detector.v2');
});

test('references: NAME@VERSION, NAME@vVERSION, NAME@alias, NAME@latest, NAME', () => {
  assert.deepEqual(parseModelRef('face@3'), { name: 'face', selector: { kind: 'version', version: 3 } });
  assert.deepEqual(parseModelRef('face@v12'), { name: 'face', selector: { kind: 'version', version: 12 } });
  assert.deepEqual(parseModelRef('team/face@production'), { name: 'team/face', selector: { kind: 'alias', alias: 'production' } });
  assert.deepEqual(parseModelRef('face@latest'), { name: 'face', selector: { kind: 'latest' } });
  assert.deepEqual(parseModelRef('face'), { name: 'face' });
  assert.throws(() => parseModelRef('face@0'), /numbered from 1/);
  assert.throws(() => parseModelRef('face@Prod!'), /version number or an alias/);
});

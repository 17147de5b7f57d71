import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../runtime/rng';

test('rng restores its state exactly', () => {
  const rng = new Rng(42);
  rng.uniform();
  const state = rng.getState();
  const first = [rng.uniform(), rng.uniform(), rng.normal()];
  const restored = Rng.fromState(state);
  assert.equal([restored.uniform(), restored.uniform(), restored.normal()], first);
});

test('rng uniform stays in [0, 1)', () => {
  const rng = new Rng(7);
  let min = 1;
  let max = 0;
  for (let i = 0; i < 10000; i++) {
    const value = rng.uniform();
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  assert.ok(min >= 0, `min ${min}`);
  assert.ok(min < 0.01, `min ${min}`);
  assert.ok(max < 1, `max ${max}`);
  assert.ok(max > 0.99, `max ${max}`);
});

test('rng seeds give different streams', () => {
  assert.not.equal(new Rng(1).nextUint32(), new Rng(2).nextUint32());
});

test.run();

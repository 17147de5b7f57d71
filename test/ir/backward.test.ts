// The derived backward graph and the kernel plan: a gradient op for every forward op that
// needs one, none for the first layer's input, and every op in exactly one kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Network } from '../../common/network';
import type { IrModule } from '../../compiler/ir/ir';
import { deriveBackward } from '../../compiler/passes/derive-backward';
import { lower } from '../../compiler/passes/lower';
import { runPasses } from '../../compiler/passes/pipeline';
import { Rng } from '../../runtime/rng';
import { loadGoldenCases } from '../support/golden-cases';
import { randomNetwork } from '../support/random-network';

const gradientKinds: Record<string, string[]> = {
  conv: ['conv_weight_grad'],
  linear: ['linear_weight_grad'],
  lif: ['lif_grad'],
  loss: ['loss_grad'],
};

function networks(): Network[] {
  const list = loadGoldenCases().map((entry) => entry.network);
  for (let seed = 100; seed < 120; seed++) list.push(randomNetwork(new Rng(seed)));
  return list;
}

function backwardOps(module: IrModule, layer: string | null) {
  return module.ops.filter((op) => op.phase === 'backward' && op.layer === layer);
}

for (const network of networks()) {
  test(`backward of ${network.name} ${network.layers.map((layer) => layer.type).join('-')}`, () => {
    const module = deriveBackward(lower(network));
    const forward = module.ops.filter((op) => op.phase === 'forward');
    const firstSynapse = forward.find((op) => op.kind === 'conv' || op.kind === 'linear');

    for (const op of forward) {
      for (const kind of gradientKinds[op.kind] ?? []) {
        assert.ok(backwardOps(module, op.layer).some((candidate) => candidate.kind === kind), `${op.kind} of ${op.layer} has no ${kind}`);
      }
      if ((op.kind === 'conv' || op.kind === 'linear') && op !== firstSynapse) {
        const inputGrad = `${op.kind}_input_grad`;
        assert.ok(backwardOps(module, op.layer).some((candidate) => candidate.kind === inputGrad), `${op.layer} has no ${inputGrad}`);
      }
    }
    const firstInputGrad = backwardOps(module, firstSynapse?.layer ?? null).filter((op) => op.kind.endsWith('_input_grad'));
    assert.is(firstInputGrad.length, 0, 'the first synapse needs no input gradient');

    const adamSteps = module.ops.filter((op) => op.kind === 'adamw').length;
    assert.is(adamSteps, network.layers.filter((layer) => layer.type === 'conv' || layer.type === 'linear').length);
  });

  test(`kernels of ${network.name} cover every op once`, () => {
    const module = runPasses(network);
    const owners = new Map<number, string>();
    for (const kernel of module.kernels ?? []) {
      for (const id of kernel.ops) {
        assert.not.ok(owners.has(id), `op ${id} is in ${owners.get(id)} and ${kernel.name}`);
        owners.set(id, kernel.name);
      }
      assert.ok(kernel.reason.length > 0, `${kernel.name} has no reason`);
    }
    for (const op of module.ops) assert.ok(owners.has(op.id), `op ${op.id} snn.${op.kind} is in no kernel`);
  });
}

test.run();

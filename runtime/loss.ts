// Runtime, loss: the value of the kernel, count and softmax losses on the network's
// output PSPs and their gradient `g[t] = ∂E/∂ψout[t]`, which starts the backward pass.

import type { Network } from '../common/network';
import { synapticFilter } from './reference/encoding';

export interface LossResult {
  loss: number;
  /** `∂E/∂ψout`, `[batch, n_class, 1, 1, T]` like the output PSPs. */
  grad: Float32Array;
}

/**
 * Returns the desired spike train of the kernel loss: `0 1 1 1 1` repeated `T/5` times
 * for `T < 10`, and `0 1 0 1 0 1 0 1 0 1` repeated `T/10` times from `T = 10` up.
 * Throws for any other `T`, because the pattern is undefined there.
 */
export function desiredSpikePattern(nSteps: number): Float32Array {
  const period = nSteps < 10 ? [0, 1, 1, 1, 1] : [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
  if (!Number.isInteger(nSteps) || nSteps <= 0 || nSteps % period.length !== 0) {
    throw new Error(
      `kernel loss: n_steps ${nSteps} is invalid; it must be a multiple of 5 below 10 or a ` +
        `multiple of 10 from 10 up (5, 10, 20, 30, …); use the count or softmax loss for other values`,
    );
  }

  const pattern = new Float32Array(nSteps);
  for (let t = 0; t < nSteps; t++) pattern[t] = period[t % period.length];
  return pattern;
}

/**
 * Returns the kernel-loss target PSP of the label's output neuron: the desired spike train
 * passed through the synaptic filter twice. The authors' implementation filters the pattern
 * once when it builds the target and once more inside the loss, and the reference vectors
 * depend on it.
 */
export function kernelTarget(nSteps: number, tauS: number): Float64Array {
  const once = synapticFilter(desiredSpikePattern(nSteps), tauS);
  return synapticFilter(once, tauS);
}

/**
 * Computes the network's loss on `outputPsp` (`[batch, n_class, 1, 1, T]`) for `labels`, and
 * `∂E/∂ψout`. Kernel and count losses are summed over the batch, softmax is averaged.
 */
export function lossAndGradient(
  network: Network,
  outputPsp: Float32Array,
  labels: Int32Array,
  batch: number,
): LossResult {
  const { nClass, nSteps } = network;
  const expected = batch * nClass * nSteps;
  if (outputPsp.length !== expected) {
    throw new Error(
      `loss: output PSP has ${outputPsp.length} values but batch ${batch} × ${nClass} classes × ${nSteps} steps needs ${expected}`,
    );
  }
  checkLabels(labels, batch, nClass);

  switch (network.loss) {
    case 'kernel':
      return kernelLoss(network, outputPsp, labels, batch);
    case 'count':
      return countLoss(network, outputPsp, labels, batch);
    case 'softmax':
      return softmaxLoss(network, outputPsp, labels, batch);
  }
}

/** `E = ½ Σ (ψout - target)²` with `ψd` as the label's target and 0 elsewhere; `g = ψout - target`. */
function kernelLoss(network: Network, outputPsp: Float32Array, labels: Int32Array, batch: number): LossResult {
  const { nClass, nSteps } = network;
  const labelTarget = kernelTarget(nSteps, network.tauS);
  const grad = new Float32Array(outputPsp.length);
  let loss = 0;

  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < nClass; c++) {
      const base = (n * nClass + c) * nSteps;
      for (let t = 0; t < nSteps; t++) {
        const target = c === labels[n] ? labelTarget[t] : 0;
        const error = outputPsp[base + t] - target;
        grad[base + t] = error;
        loss += 0.5 * error * error;
      }
    }
  }
  return { loss, grad };
}

/**
 * Spike-count loss on `count = Σ_t ψout`: `δ = (count - target)/T`, where the label's target
 * is `desired_count` and every other output's is `undesired_count`. `δ` is zeroed where the
 * label's output is at or above its target and where another output is at or below its target.
 * `E = ½ Σ_{n,c,t} δ²` and `g[t] = δ` at every step.
 */
function countLoss(network: Network, outputPsp: Float32Array, labels: Int32Array, batch: number): LossResult {
  const { nClass, nSteps } = network;
  const grad = new Float32Array(outputPsp.length);
  let loss = 0;

  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < nClass; c++) {
      const base = (n * nClass + c) * nSteps;
      const count = sumOverTime(outputPsp, base, nSteps);
      const isLabel = c === labels[n];
      const target = isLabel ? network.desiredCount : network.undesiredCount;

      let delta = (count - target) / nSteps;
      if (isLabel && count >= target) delta = 0;
      if (!isLabel && count <= target) delta = 0;

      grad.fill(delta, base, base + nSteps);
      loss += 0.5 * delta * delta * nSteps;
    }
  }
  return { loss, grad };
}

/**
 * Cross-entropy of `softmax_c(count)` against the label, averaged over the batch;
 * `g[t] = (softmax(count)[c] - onehot[c]) / batch` at every step.
 */
function softmaxLoss(network: Network, outputPsp: Float32Array, labels: Int32Array, batch: number): LossResult {
  const { nClass, nSteps } = network;
  const grad = new Float32Array(outputPsp.length);
  let loss = 0;

  for (let n = 0; n < batch; n++) {
    const counts = new Float64Array(nClass);
    for (let c = 0; c < nClass; c++) counts[c] = sumOverTime(outputPsp, (n * nClass + c) * nSteps, nSteps);

    // Subtracting the largest count keeps exp() finite without changing the softmax.
    const maxCount = Math.max(...counts);
    let partition = 0;
    for (let c = 0; c < nClass; c++) partition += Math.exp(counts[c] - maxCount);
    const logPartition = Math.log(partition) + maxCount;
    loss += (logPartition - counts[labels[n]]) / batch;

    for (let c = 0; c < nClass; c++) {
      const probability = Math.exp(counts[c] - logPartition);
      const oneHot = c === labels[n] ? 1 : 0;
      const base = (n * nClass + c) * nSteps;
      grad.fill((probability - oneHot) / batch, base, base + nSteps);
    }
  }
  return { loss, grad };
}

function sumOverTime(values: Float32Array, base: number, nSteps: number): number {
  let sum = 0;
  for (let t = 0; t < nSteps; t++) sum += values[base + t];
  return sum;
}

function checkLabels(labels: Int32Array, batch: number, nClass: number): void {
  if (labels.length < batch) {
    throw new Error(`loss: ${labels.length} labels for a batch of ${batch}; pass one label per sample`);
  }
  for (let n = 0; n < batch; n++) {
    if (!(labels[n] >= 0 && labels[n] < nClass)) {
      throw new Error(`loss: label ${labels[n]} of sample ${n} is outside the classes 0 … ${nClass - 1}`);
    }
  }
}

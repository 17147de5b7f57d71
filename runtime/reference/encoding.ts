// Reference backend, input encoding: turns input currents into the input PSPs that the
// first layer receives, through the synaptic filter of the TSSL-BP math.

/**
 * Applies the synaptic filter to one current sequence:
 * `a[t] = (1 - 1/τs)·a[t-1] + x[t]` with `a[-1] = 0`, and `ψ[t] = a[t]/τs`.
 * The LIF output PSP and the kernel-loss target use the same filter.
 */
export function synapticFilter(current: ArrayLike<number>, tauS: number): Float64Array {
  const decay = 1 - 1 / tauS;
  const psp = new Float64Array(current.length);
  let a = 0;
  for (let t = 0; t < current.length; t++) {
    a = decay * a + current[t];
    psp[t] = a / tauS;
  }
  return psp;
}

/**
 * Encodes static images `[batch, c, h, w]` as input PSPs `[batch, c, h, w, T]`.
 * The image is the same current at every step, so the filter has the closed form
 * `ψin[t] = x·(1 - (1 - 1/τs)^(t+1))`.
 */
export function encodeStaticInput(images: Float32Array, nSteps: number, tauS: number): Float32Array {
  const decay = 1 - 1 / tauS;
  const scale = new Float64Array(nSteps);
  for (let t = 0; t < nSteps; t++) scale[t] = 1 - Math.pow(decay, t + 1);

  const psp = new Float32Array(images.length * nSteps);
  for (let neuron = 0; neuron < images.length; neuron++) {
    const base = neuron * nSteps;
    for (let t = 0; t < nSteps; t++) psp[base + t] = images[neuron] * scale[t];
  }
  return psp;
}

/**
 * Encodes event input `[batch, c, h, w, T]` (a different current at every step) as input
 * PSPs of the same shape, by running the synaptic filter recurrence per input neuron.
 */
export function encodeEventInput(events: Float32Array, nSteps: number, tauS: number): Float32Array {
  const psp = new Float32Array(events.length);
  for (let base = 0; base < events.length; base += nSteps) {
    psp.set(synapticFilter(events.subarray(base, base + nSteps), tauS), base);
  }
  return psp;
}

// Reference backend, LIF neuron: the forward recurrence that keeps what backward needs,
// and the TSSL-BP backward that turns `∂E/∂ψ` into `∂E/∂I`. Tensors are one row of
// `T` steps per neuron, time fastest.

/** The neuron settings of one layer. */
export interface NeuronParams {
  nSteps: number;
  tauM: number;
  tauS: number;
  /** Firing threshold `V`. */
  threshold: number;
}

/** Everything the LIF forward pass keeps per neuron and step for the backward pass. */
export interface LifTrace {
  /** Membrane update `δu[t] = -θm·u + I[t]`. */
  du: Float32Array;
  /** Membrane potential `U[t]` before the reset. */
  u: Float32Array;
  /** Spikes `o[t]`, 0 or 1. */
  o: Float32Array;
  /** Output PSP `ψ[t]`, what the next layer receives. */
  psp: Float32Array;
}

/** Surrogate width `w` of the silent-neuron branch of the backward pass. */
export const SURROGATE_WIDTH = 0.2;

/** Limits of `-1/δu` at a spike, so a tiny membrane update cannot give an infinite gradient. */
const MIN_SPIKE_SENSITIVITY = -8;
const MAX_SPIKE_SENSITIVITY = 0;

/** Limit of `|(V - U)/w|` before the exponential in the surrogate. */
const SURROGATE_EXPONENT_LIMIT = 8;

/**
 * Runs the LIF neuron over `T` steps for every neuron in `current` (`I[t]`):
 * the membrane update, a spike when `u > V` (strict), a reset to zero after a spike,
 * and the output PSP `s ← s + (o - s)/τs`.
 */
export function lifForward(current: Float32Array, neuron: NeuronParams): LifTrace {
  const { nSteps, tauM, tauS, threshold } = neuron;
  const thetaM = 1 / tauM;
  const trace: LifTrace = {
    du: new Float32Array(current.length),
    u: new Float32Array(current.length),
    o: new Float32Array(current.length),
    psp: new Float32Array(current.length),
  };

  for (let base = 0; base < current.length; base += nSteps) {
    let u = 0;
    let s = 0;
    for (let t = 0; t < nSteps; t++) {
      const i = base + t;
      const du = -thetaM * u + current[i];
      u = u + du;
      const o = u > threshold ? 1 : 0;
      trace.du[i] = du;
      trace.u[i] = u;
      trace.o[i] = o;

      u = u * (1 - o);
      s = s + (o - s) / tauS;
      trace.psp[i] = s;
    }
  }
  return trace;
}

/**
 * Returns the PSP response `α[k] = (1 - 1/τs)^k / τs` for `k = 0 … T-1`: how much a spike
 * at step `t` adds to the PSP at step `t + k`.
 */
export function pspResponse(nSteps: number, tauS: number): Float64Array {
  const alpha = new Float64Array(nSteps);
  for (let k = 0; k < nSteps; k++) alpha[k] = Math.pow(1 - 1 / tauS, k) / tauS;
  return alpha;
}

/**
 * Computes `∂E/∂I[t]` from `∂E/∂ψ[t]` (`gradPsp`) with the TSSL-BP rule, walking time
 * backwards. A spiking step gets the inter-neuron term (the PSP change that the spike
 * causes, through `∂u = clamp(-1/δu, -8, 0)`) plus the intra-neuron terms carried in `Θ`
 * from later steps. A step whose PSP is below `th = 1/(4·τs)` uses the sigmoid-derivative
 * surrogate in place of both.
 */
export function lifBackward(trace: LifTrace, gradPsp: Float32Array, neuron: NeuronParams): Float32Array {
  const { nSteps, tauM, tauS, threshold } = neuron;
  const thetaM = 1 / tauM;
  const alpha = pspResponse(nSteps, tauS);
  const silentPsp = 1 / (4 * tauS);
  const gradCurrent = new Float32Array(gradPsp.length);

  for (let base = 0; base < gradPsp.length; base += nSteps) {
    // Θ: the gradient that a later step passes back through this neuron's own membrane.
    let intraNeuronGrad = 0;

    for (let t = nSteps - 1; t >= 0; t--) {
      const i = base + t;
      const o = trace.o[i];
      const membrane = trace.u[i];

      // Σ_{k=0}^{T-1-t} α[k]·g[t+k]: how the PSP from step t on changes the loss.
      let pspGradSum = 0;
      for (let k = 0; k <= nSteps - 1 - t; k++) pspGradSum += alpha[k] * gradPsp[i + k];

      // ∂u = clamp(-1/δu[t], -8, 0)·o[t], zero when the neuron does not spike at t.
      const partialU = clamp(-1 / trace.du[i], MIN_SPIKE_SENSITIVITY, MAX_SPIKE_SENSITIVITY) * o;

      // Inter-neuron term, then the intra-neuron terms from later steps (none at the last step).
      let grad = -partialU * pspGradSum;
      if (t < nSteps - 1) {
        grad += intraNeuronGrad * membrane * -thetaM * partialU;
        grad += intraNeuronGrad * (1 - thetaM) * (1 - o);
      }

      // Θ for the earlier steps uses this step's gradient before the surrogate swap below:
      // a spike restarts it, no spike lets it decay through the leak.
      intraNeuronGrad = grad * o + intraNeuronGrad * (1 - o) * (1 - thetaM);

      // A (nearly) silent neuron gets the surrogate gradient in place of the spike-time one.
      if (trace.psp[i] < silentPsp) {
        const exponent = clamp((threshold - membrane) / SURROGATE_WIDTH, -SURROGATE_EXPONENT_LIMIT, SURROGATE_EXPONENT_LIMIT);
        const f = Math.exp(exponent);
        grad = (pspGradSum * f) / ((1 + f) * (1 + f) * SURROGATE_WIDTH);
      }

      gradCurrent[i] = grad;
    }
  }
  return gradCurrent;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

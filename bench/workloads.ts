// Benchmark, settings: the workloads both implementations run and the input statistics they share.

export interface Workload {
  /** Short name, also the spec's file name without extension. */
  name: string;
  /** Spec path relative to the repository root. */
  spec: string;
  /** Images per step. */
  batch: number;
  /** Human-readable network, for the report. */
  network: string;
  /** Defaults that replace the harness's own when the command line does not set them. */
  rounds?: number;
  steps?: number;
  /** Untimed steps of the snnc process; the peer always gets the harness's warm-up. */
  snncWarmup?: number;
  /** Whether each snnc training process also profiles one step kernel by kernel (default true). */
  profile?: boolean;
  /** snnc backends not run on this workload, with the reason the report gives. */
  skipBackends?: Record<string, string>;
  /** Reason the workload departs from the harness's defaults, for the report. */
  note?: string;
}

export const WORKLOADS: Workload[] = [
  {
    name: 'mnist',
    spec: 'specs/mnist.yaml',
    batch: 50,
    network: '15C5-P2-40C5-P2-300-10, T 5',
    rounds: 5,
    steps: 5,
    note: 'Five rounds instead of 3, because single runs of either program vary by up to 20% on a shared 2-core machine and the ratio compares medians.',
  },
  {
    name: 'cifar10',
    spec: 'specs/cifar10.yaml',
    // The published batch is 50, but one snnc training step at batch 10 already takes about 20 s on
    // webasm on a 2-core CPU. At batch 50 the buffers (about 2.9 GiB) exceed what one fused webasm
    // pipeline may use, so the engine would run kernel by kernel.
    batch: 10,
    network: '96C3-256C3-P2-384C3-P2-384C3-256C3-1024-1024-10, padding 1, dropout 0.2, T 5',
    rounds: 1,
    steps: 1,
    snncWarmup: 0,
    profile: false,
    skipBackends: {
      cpu: 'the gpu.js cpu backend is no faster than webasm on MNIST, so it too would need minutes per CIFAR-10 step',
      reference: 'the plain TypeScript reference engine would take many minutes per CIFAR-10 step',
    },
    note:
      'One round of one timed step. The snnc step is its first one, so it includes building the ' +
      'gpu.js kernels, because a warm-up step would add the time of another step (in one run with a ' +
      'warm-up step, the timed step took about 17 s at batch 10). No per-kernel profile is ' +
      'taken, for the same reason.',
  },
];

/**
 * Per-channel mean and std that turn uniform pixels in [0, 1) into normalised input:
 * the MNIST statistics for one channel, the CIFAR-10 ones for three. The PyTorch peer
 * uses the same values.
 */
export function staticNormalisation(channels: number): { mean: number[]; std: number[] } {
  if (channels === 1) return { mean: [0.1307], std: [0.3081] };
  if (channels === 3) return { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
  return { mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) };
}

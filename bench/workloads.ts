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
}

/**
 * MNIST at the published batch size; CIFAR-10 at a small batch, because one training step
 * of the published batch 50 takes tens of seconds on a 2-core CPU.
 */
export const WORKLOADS: Workload[] = [
  { name: 'mnist', spec: 'specs/mnist.yaml', batch: 50, network: '15C5-P2-40C5-P2-300-10, T 5' },
  {
    name: 'cifar10',
    spec: 'specs/cifar10.yaml',
    batch: 10,
    network: '96C3-256C3-P2-384C3-P2-384C3-256C3-1024-1024-10, padding 1, dropout 0.2, T 5',
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

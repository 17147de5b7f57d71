// Benchmark, data model: what one bench run records in bench/results.json, and the statistics
// that turn per-step timings into the reported figures.

/** Milliseconds one generated kernel took during one training step. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls?: number;
}

/** Per-kernel times of one training step. */
export interface KernelProfile {
  /** How the times were taken: the engine's `lastStepProfile()`, or a wrapper around its kernel calls. */
  source: string;
  /** Wall time of the whole profiled step; what the kernels do not account for is host work. */
  step_ms: number;
  kernels: KernelTime[];
}

export type Mode = 'train' | 'eval';

/** One child process: the PyTorch peer or one snnc backend, one round of one workload and mode. */
export interface RunRecord {
  /** `pytorch-peer, N thread(s)`, or `snnc <backend>`. */
  label: string;
  round: number;
  status: 'measured' | 'unavailable' | 'failed' | 'timed out';
  reason?: string;
  step_seconds?: number[];
  images_per_s?: number;
  peak_rss_mb?: number;
  /** Wall time of the whole child process, start-up included. */
  wall_seconds: number;
  /** One-minute load average when the process started; the machine is shared. */
  load_average?: number;
  kernel_profile?: KernelProfile | null;
}

/** Figures of one implementation over all rounds of one workload and mode. */
export interface Summary {
  label: string;
  status: 'measured' | 'unavailable' | 'failed' | 'timed out';
  reason?: string;
  /** Timed steps pooled over the rounds. */
  steps: number;
  /** Median, minimum and maximum of the per-step images/s over all pooled steps. */
  images_per_s_median?: number;
  images_per_s_min?: number;
  images_per_s_max?: number;
  step_seconds_median?: number;
  /** Largest peak RSS of its processes. */
  peak_rss_mb?: number;
  /**
   * Per peer label, the median images/s of this implementation divided by that peer's, from
   * the same interleaved rounds.
   */
  ratios_to_peer?: Record<string, number>;
  /** The same ratios per round, from each round's own medians. */
  round_ratios?: Record<string, number[]>;
  kernel_profile?: KernelProfile | null;
  /** One-minute load averages when its measured processes started. */
  load_averages?: number[];
}

/** How many processes and steps one workload and mode ran. */
export interface Plan {
  rounds: number;
  /** Timed steps per process. */
  steps: number;
  /** Untimed steps before the timed ones, per implementation. */
  peerWarmup: number;
  snncWarmup: number;
}

export interface ModeResult {
  workload: string;
  spec: string;
  network: string;
  mode: Mode;
  batch: number;
  plan: Plan;
  /** Why this workload departs from the harness's defaults. */
  note?: string;
  runs: RunRecord[];
  summaries: Summary[];
}

export interface CompileRecord {
  workload: string;
  spec: string;
  status: 'compiled' | 'missing spec' | 'failed' | 'timed out';
  reason?: string;
  seconds?: number;
  command: string;
  out_dir: string;
  /** Sum of the byte sizes listed under `buffers` in manifest.json, at the compiled batch size. */
  buffer_bytes?: number;
  buffer_count?: number;
  compiled_batch?: number;
  /** The same sum at the benchmark's batch size, which is what the engine allocates. */
  buffer_bytes_at_batch?: number;
}

export interface MachineInfo {
  nproc: number;
  cpu_model: string;
  free_g: string;
  node: string;
  torch: string | null;
  /** BLAS libraries the peer's torch loaded. */
  torch_blas: string | null;
  python: string;
  load_average_start: number[];
  load_average_end?: number[];
  git_commit: string;
}

export interface PeerInfo {
  available: boolean;
  reason?: string;
  /** Output tail of the peer's check against the reference vectors. */
  golden_check?: string;
  golden_passed?: boolean;
}

export interface BenchResults {
  date: string;
  command: string;
  settings: { timeout_s: number; quick: boolean; peer_threads: number[] };
  machine: MachineInfo;
  peer: PeerInfo;
  compile: CompileRecord[];
  results: ModeResult[];
}

const PEER_PREFIX = 'pytorch-peer';

/** Label of the PyTorch peer run with `threads` intra-op threads. */
export function peerLabel(threads: number): string {
  return `${PEER_PREFIX}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

export function isPeer(label: string): boolean {
  return label.startsWith(PEER_PREFIX);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function stepRates(run: RunRecord, batch: number): number[] {
  return (run.step_seconds ?? []).map((seconds) => batch / seconds);
}

/** Pools every measured step of each implementation and relates each to the peer. */
export function summarise(runs: RunRecord[], batch: number): Summary[] {
  const labels = [...new Set(runs.map((run) => run.label))];
  const summaries: Summary[] = [];

  for (const label of labels) {
    const own = runs.filter((run) => run.label === label);
    const measured = own.filter((run) => run.status === 'measured');
    if (measured.length === 0) {
      const last = own[own.length - 1];
      summaries.push({ label, status: last.status, reason: last.reason, steps: 0 });
      continue;
    }
    const rates = measured.flatMap((run) => stepRates(run, batch));
    const seconds = measured.flatMap((run) => run.step_seconds ?? []);
    summaries.push({
      label,
      status: 'measured',
      steps: rates.length,
      images_per_s_median: median(rates),
      images_per_s_min: Math.min(...rates),
      images_per_s_max: Math.max(...rates),
      step_seconds_median: median(seconds),
      peak_rss_mb: Math.max(...measured.map((run) => run.peak_rss_mb ?? 0)),
      kernel_profile: measured.find((run) => run.kernel_profile)?.kernel_profile ?? undefined,
      load_averages: measured.map((run) => run.load_average ?? Number.NaN),
    });
  }

  const peers = summaries.filter((summary) => isPeer(summary.label) && summary.images_per_s_median !== undefined);
  for (const summary of summaries) {
    if (isPeer(summary.label) || summary.images_per_s_median === undefined || peers.length === 0) continue;
    summary.ratios_to_peer = {};
    summary.round_ratios = {};
    for (const peer of peers) {
      summary.ratios_to_peer[peer.label] = summary.images_per_s_median / peer.images_per_s_median!;
      summary.round_ratios[peer.label] = roundRatios(runs, summary.label, peer.label, batch);
    }
  }
  return summaries;
}

function roundRatios(runs: RunRecord[], label: string, peerLabel: string, batch: number): number[] {
  const ratios: number[] = [];
  const rounds = [...new Set(runs.map((run) => run.round))];
  for (const round of rounds) {
    const peer = runs.find((run) => run.round === round && run.label === peerLabel && run.status === 'measured');
    const own = runs.find((run) => run.round === round && run.label === label && run.status === 'measured');
    if (peer === undefined || own === undefined) continue;
    ratios.push(median(stepRates(own, batch)) / median(stepRates(peer, batch)));
  }
  return ratios;
}

// Benchmark, data model: what one bench run records in bench/results.json, and the statistics
// that turn per-step timings into the reported figures.

/** Milliseconds one generated kernel took during one training step. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls?: number;
}

export type Mode = 'train' | 'eval';

/** One child process: the PyTorch peer or one snnc backend, one round of one workload and mode. */
export interface RunRecord {
  /** `pytorch-peer`, or `snnc <backend>`. */
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
  kernel_profile?: KernelTime[] | null;
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
  /** Median images/s of this implementation divided by the peer's, from the same interleaved rounds. */
  ratio_to_peer?: number;
  /** The same ratio per round, from each round's own medians. */
  round_ratios?: number[];
  kernel_profile?: KernelTime[] | null;
  /** One-minute load averages when its measured processes started. */
  load_averages?: number[];
}

export interface ModeResult {
  workload: string;
  spec: string;
  network: string;
  mode: Mode;
  batch: number;
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
  /** Sum of the byte sizes listed under `buffers` in manifest.json. */
  buffer_bytes?: number;
  buffer_count?: number;
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
  settings: { rounds: number; steps: number; warmup: number; timeout_s: number; quick: boolean; peer_threads: number };
  machine: MachineInfo;
  peer: PeerInfo;
  compile: CompileRecord[];
  results: ModeResult[];
}

export const PEER_LABEL = 'pytorch-peer';

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

  const peer = summaries.find((summary) => summary.label === PEER_LABEL);
  if (peer?.images_per_s_median === undefined) return summaries;
  for (const summary of summaries) {
    if (summary.label === PEER_LABEL || summary.images_per_s_median === undefined) continue;
    summary.ratio_to_peer = summary.images_per_s_median / peer.images_per_s_median;
    summary.round_ratios = roundRatios(runs, summary.label, batch);
  }
  return summaries;
}

function roundRatios(runs: RunRecord[], label: string, batch: number): number[] {
  const ratios: number[] = [];
  const rounds = [...new Set(runs.map((run) => run.round))];
  for (const round of rounds) {
    const peer = runs.find((run) => run.round === round && run.label === PEER_LABEL && run.status === 'measured');
    const own = runs.find((run) => run.round === round && run.label === label && run.status === 'measured');
    if (peer === undefined || own === undefined) continue;
    ratios.push(median(stepRates(own, batch)) / median(stepRates(peer, batch)));
  }
  return ratios;
}

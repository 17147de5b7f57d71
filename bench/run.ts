// Benchmark harness: compiles the benchmark specs, then times snnc and the PyTorch peer taking
// turns on the same workloads, and writes bench/results.json and BENCHMARKS.md.
//
// Only a ratio measured in one run, with the two implementations alternating, is a
// comparison: the machine is shared, so absolute figures drift between runs.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJsonLine, machineInfo, runChild, tail } from './processes';
import { renderMarkdown } from './report';
import {
  peerLabel,
  summarise,
  type BenchResults,
  type CompileRecord,
  type Mode,
  type ModeResult,
  type PeerInfo,
  type Plan,
  type RunRecord,
} from './results';
import type { WorkerResult } from './snnc-worker';
import { WORKLOADS, type Workload } from './workloads';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run bench -- [options]

Times training steps (forward, loss, backward, clipping, AdamW, clamp) and evaluation
passes of snnc and of the PyTorch peer (bench/peer/tsslbp_torch.py) on random normalised
inputs, the two taking turns round by round, and reports snnc/peer ratios of median images/s.

options:
  --quick              smoke check: mnist only (unless --workloads is given), 1 round of 2 steps;
                       writes the results to the system temporary folder and leaves
                       BENCHMARKS.md alone unless --markdown is given
  --rounds N           alternating rounds per workload and mode (default 3; mnist: 5, cifar10: 1)
  --steps N            timed steps per process (default 3; mnist: 5, cifar10: 1)
  --warmup N           untimed steps per process before the timed ones (default 1;
                       snnc on cifar10: 0)
  --workloads LIST     comma-separated, from: ${WORKLOADS.map((w) => w.name).join(', ')} (default: all)
  --backends LIST      snnc backends, comma-separated (default: webasm,cpu,headlessgl,webgpu,reference);
                       'reference' is the plain TypeScript engine; cifar10 skips cpu and reference
  --modes LIST         train, eval or both (default: train,eval)
  --no-peer            skip the PyTorch peer
  --no-profile         skip the per-kernel profile (one more engine and two more steps per
                       snnc training process; cifar10 never takes one)
  --python PATH        interpreter with python3-torch and python3-yaml (default: /usr/bin/python3)
  --peer-threads LIST  torch intra-op thread counts, one peer run each per round (default 2,1)
  --timeout S          seconds one child process may run before it is killed (default 900)
  --out FILE           results JSON (default: bench/results.json)
  --markdown FILE      report to rewrite (default: BENCHMARKS.md)
  --from-results FILE  run nothing: rewrite the report from a results JSON an earlier run wrote
  -h, --help           show this help`;

interface Options {
  quick: boolean;
  /** Command-line values; undefined leaves each workload's default. */
  rounds?: number;
  steps?: number;
  warmup?: number;
  workloads: Workload[];
  backends: string[];
  modes: Mode[];
  peer: boolean;
  profile: boolean;
  python: string;
  /** One peer configuration per entry, each run in every round. */
  peerThreads: number[];
  timeoutS: number;
  out: string;
  markdown: string | null;
  /** Results JSON to render instead of running; set by --from-results. */
  fromResults: string | null;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const options: Options = {
    quick,
    workloads: quick ? WORKLOADS.filter((w) => w.name === 'mnist') : WORKLOADS,
    backends: ['webasm', 'cpu', 'headlessgl', 'webgpu', 'reference'],
    modes: ['train', 'eval'],
    peer: true,
    profile: true,
    python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
    peerThreads: [2, 1],
    timeoutS: 900,
    out: quick ? path.join(os.tmpdir(), 'snnc-bench-quick.json') : path.join(repoRoot, 'bench', 'results.json'),
    markdown: quick ? null : path.join(repoRoot, 'BENCHMARKS.md'),
    fromResults: null,
  };

  const integer = (flag: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isInteger(value) || value < min) {
      throw new UsageError(`${flag} is '${text ?? ''}'; expected an integer of at least ${min}`);
    }
    return value;
  };
  const list = (text: string | undefined): string[] => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);

  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--quick':
        break;
      case '--no-peer':
        options.peer = false;
        break;
      case '--no-profile':
        options.profile = false;
        break;
      case '--rounds':
        options.rounds = integer(flag, value, 1);
        i++;
        break;
      case '--steps':
        options.steps = integer(flag, value, 1);
        i++;
        break;
      case '--warmup':
        options.warmup = integer(flag, value, 0);
        i++;
        break;
      case '--timeout':
        options.timeoutS = integer(flag, value, 1);
        i++;
        break;
      case '--peer-threads':
        options.peerThreads = list(value).map((item) => integer(flag, item, 1));
        if (options.peerThreads.length === 0) throw new UsageError('--peer-threads needs a comma-separated list such as 2,1');
        i++;
        break;
      case '--workloads': {
        const names = list(value);
        const unknown = names.filter((name) => !WORKLOADS.some((w) => w.name === name));
        if (names.length === 0 || unknown.length > 0) {
          throw new UsageError(`--workloads '${value ?? ''}' is invalid; choose from ${WORKLOADS.map((w) => w.name).join(', ')}`);
        }
        options.workloads = WORKLOADS.filter((w) => names.includes(w.name));
        i++;
        break;
      }
      case '--backends':
        options.backends = list(value);
        if (options.backends.length === 0) throw new UsageError('--backends needs a comma-separated list such as webasm,cpu');
        i++;
        break;
      case '--modes': {
        const modes = list(value);
        if (modes.length === 0 || modes.some((mode) => mode !== 'train' && mode !== 'eval')) {
          throw new UsageError(`--modes '${value ?? ''}' is invalid; expected train, eval or train,eval`);
        }
        options.modes = modes as Mode[];
        i++;
        break;
      }
      case '--python':
      case '--out':
      case '--markdown':
      case '--from-results':
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        if (flag === '--python') options.python = value;
        if (flag === '--from-results') options.fromResults = path.resolve(value);
        if (flag === '--out') options.out = path.resolve(value);
        if (flag === '--markdown') options.markdown = path.resolve(value);
        i++;
        break;
      default:
        throw new UsageError(`unknown option '${flag}'`);
    }
  }
  return options;
}

// ----------------------------------------------------------------------------- peer

/** Prints torch's version, then the BLAS libraries a matrix product loads (Debian's torch uses the system libblas). */
const TORCH_PROBE = [
  'import torch, yaml',
  'torch.ones(64, 64) @ torch.ones(64, 64)',
  "libraries = sorted({line.split()[-1] for line in open('/proc/self/maps') if 'blas' in line.lower()})",
  'print(torch.__version__)',
  "print(', '.join(libraries) or 'unknown')",
].join('\n');

/** Checks that the peer's interpreter has torch and that the peer reproduces the reference vectors. */
async function preparePeer(options: Options): Promise<{ info: PeerInfo; torch: string | null; blas: string | null }> {
  if (!options.peer) return { info: { available: false, reason: 'skipped by --no-peer' }, torch: null, blas: null };

  const probe = await runChild(options.python, ['-c', TORCH_PROBE], repoRoot, 60);
  if (probe.code !== 0) {
    const reason =
      `PyTorch peer skipped: ${options.python} cannot import torch and yaml ` +
      '(install them with `apt-get install -y python3-torch python3-yaml`, or pass --python)';
    return { info: { available: false, reason }, torch: null, blas: null };
  }
  const [torch, blas] = probe.stdout.trim().split('\n');

  const goldenDir = path.resolve(repoRoot, '..', 'shared', 'golden');
  if (!existsSync(goldenDir)) {
    const reason = `the reference vectors are not at ${goldenDir}, so the peer's results could not be checked`;
    return { info: { available: true, reason, golden_passed: undefined }, torch, blas };
  }
  const check = await runChild(options.python, ['bench/peer/check_golden.py', goldenDir], repoRoot, 300);
  const passed = check.code === 0;
  const info: PeerInfo = { available: passed, golden_check: tail(check.stdout + check.stderr, 1), golden_passed: passed };
  if (!passed) info.reason = `PyTorch peer skipped: it does not reproduce the reference vectors\n${tail(check.stdout + check.stderr, 20)}`;
  return { info, torch, blas };
}

async function runPeer(options: Options, plan: Plan, threads: number, workload: Workload, mode: Mode, round: number): Promise<RunRecord> {
  const args = [
    'bench/peer/tsslbp_torch.py', 'bench',
    '--spec', workload.spec,
    '--batch', String(workload.batch),
    '--steps', String(plan.steps),
    '--warmup', String(plan.peerWarmup),
    '--mode', mode,
    '--threads', String(threads),
  ];
  const loadAverage = currentLoad();
  const outcome = await runChild(options.python, args, repoRoot, options.timeoutS);
  const base = { label: peerLabel(threads), round, wall_seconds: outcome.seconds, load_average: loadAverage };
  if (outcome.timedOut) return { ...base, status: 'timed out', reason: `killed after ${options.timeoutS} s` };
  const result = lastJsonLine<{ step_seconds: number[]; images_per_s: number; peak_rss_mb: number }>(outcome.stdout);
  if (outcome.code !== 0 || result === null) {
    return { ...base, status: 'failed', reason: tail(outcome.stderr || outcome.stdout, 8) };
  }
  return {
    ...base,
    status: 'measured',
    step_seconds: result.step_seconds,
    images_per_s: result.images_per_s,
    peak_rss_mb: result.peak_rss_mb,
  };
}

// ----------------------------------------------------------------------------- snnc

interface ManifestBufferSizes {
  compiledBatchSize?: number;
  buffers?: { bytes: number; elements: number; perSample: number; fixed: number }[];
}

/**
 * Sums the device buffers listed in manifest.json, at the compiled batch size and at `batch`.
 * A buffer contains `perSample·batch + fixed` elements of `bytes/elements` bytes each.
 */
function manifestBuffers(outDir: string, batch: number): Pick<CompileRecord, 'buffer_bytes' | 'buffer_count' | 'compiled_batch' | 'buffer_bytes_at_batch'> {
  const manifest = JSON.parse(readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as ManifestBufferSizes;
  if (!Array.isArray(manifest.buffers)) return {};
  let bytes = 0;
  let bytesAtBatch = 0;
  for (const buffer of manifest.buffers) {
    bytes += buffer.bytes;
    const bytesPerElement = buffer.elements > 0 ? buffer.bytes / buffer.elements : 4;
    bytesAtBatch += (buffer.perSample * batch + buffer.fixed) * bytesPerElement;
  }
  return {
    buffer_bytes: bytes,
    buffer_count: manifest.buffers.length,
    compiled_batch: manifest.compiledBatchSize,
    buffer_bytes_at_batch: bytesAtBatch,
  };
}

/** Drops the compiler's `file:line:column warning:` lines, which a failed compile prints before its error. */
function withoutWarnings(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\S+:\d+:\d+ warning: /.test(line))
    .join('\n');
}

async function compileWorkload(workload: Workload, buildRoot: string, timeoutS: number): Promise<CompileRecord> {
  const outDir = path.join(buildRoot, workload.name);
  const args = ['bin/snnc.js', 'compile', workload.spec, '--out', outDir];
  const record: CompileRecord = { workload: workload.name, spec: workload.spec, status: 'compiled', command: `node ${args.join(' ')}`, out_dir: outDir };
  if (!existsSync(path.join(repoRoot, workload.spec))) {
    return { ...record, status: 'missing spec', reason: `${workload.spec} does not exist` };
  }

  const outcome = await runChild(process.execPath, args, repoRoot, timeoutS);
  record.seconds = outcome.seconds;
  if (outcome.timedOut) return { ...record, status: 'timed out', reason: `killed after ${timeoutS} s` };
  if (outcome.code !== 0) return { ...record, status: 'failed', reason: tail(withoutWarnings(outcome.stderr || outcome.stdout), 6) };
  if (!existsSync(path.join(outDir, 'manifest.json'))) {
    return { ...record, status: 'failed', reason: `snnc compile exited 0 but wrote no manifest.json into ${outDir}` };
  }

  return { ...record, ...manifestBuffers(outDir, workload.batch) };
}

async function runSnnc(
  options: Options,
  plan: Plan,
  workload: Workload,
  dir: string,
  backend: string,
  mode: Mode,
  round: number,
): Promise<RunRecord> {
  const args = [
    '--import', 'tsx', 'bench/snnc-worker.ts',
    '--spec', workload.spec,
    '--dir', dir,
    '--backend', backend,
    '--batch', String(workload.batch),
    '--steps', String(plan.steps),
    '--warmup', String(plan.snncWarmup),
    '--profile', options.profile && workload.profile !== false ? '1' : '0',
    '--mode', mode,
  ];
  const loadAverage = currentLoad();
  const outcome = await runChild(process.execPath, args, repoRoot, options.timeoutS);
  const base = { label: `snnc ${backend}`, round, wall_seconds: outcome.seconds, load_average: loadAverage };
  if (outcome.timedOut) return { ...base, status: 'timed out', reason: `killed after ${options.timeoutS} s` };
  const result = lastJsonLine<WorkerResult>(outcome.stdout);
  if (result === null) return { ...base, status: 'failed', reason: tail(outcome.stderr || outcome.stdout, 8) };
  if (result.status !== 'measured') return { ...base, status: result.status, reason: tail(result.reason ?? '', 8), peak_rss_mb: result.peak_rss_mb };
  return {
    ...base,
    status: 'measured',
    step_seconds: result.step_seconds,
    images_per_s: result.images_per_s,
    peak_rss_mb: result.peak_rss_mb,
    kernel_profile: result.kernel_profile,
  };
}

// ----------------------------------------------------------------------------- rounds

/** One-minute load average, as a record of how busy the shared machine was. */
function currentLoad(): number {
  return Number(os.loadavg()[0].toFixed(2));
}

function describe(run: RunRecord): string {
  if (run.status === 'measured') {
    return `${run.images_per_s!.toFixed(2)} images/s, peak RSS ${run.peak_rss_mb!.toFixed(0)} MB, load ${run.load_average}`;
  }
  return `${run.status}: ${(run.reason ?? '').split('\n')[0]}`;
}

/** Runs every peer configuration and snnc backend in turn, `rounds` times; the peers go first in odd rounds, last in even ones. */
/** Rounds, steps and warm-up steps of one workload: the command line's, else the workload's, else the harness's. */
function planFor(options: Options, workload: Workload): Plan {
  const own: Partial<Workload> = options.quick ? {} : workload;
  return {
    rounds: options.rounds ?? own.rounds ?? (options.quick ? 1 : 3),
    steps: options.steps ?? own.steps ?? (options.quick ? 2 : 3),
    peerWarmup: options.warmup ?? 1,
    snncWarmup: options.warmup ?? own.snncWarmup ?? 1,
  };
}

async function runRounds(options: Options, peerReady: boolean, workload: Workload, dir: string, mode: Mode): Promise<ModeResult> {
  const plan = planFor(options, workload);
  const runs: RunRecord[] = [];
  const skipped = workload.skipBackends ?? {};
  let backends = options.backends.filter((backend) => skipped[backend] === undefined);
  for (const backend of options.backends.filter((name) => skipped[name] !== undefined)) {
    runs.push({ label: `snnc ${backend}`, round: 1, status: 'unavailable', reason: `not run: ${skipped[backend]}`, wall_seconds: 0 });
  }

  for (let round = 1; round <= plan.rounds; round++) {
    const turns: Array<() => Promise<RunRecord>> = backends.map(
      (backend) => () => runSnnc(options, plan, workload, dir, backend, mode, round),
    );
    if (peerReady) {
      const peerTurns = options.peerThreads.map((threads) => () => runPeer(options, plan, threads, workload, mode, round));
      if (round % 2 === 1) turns.unshift(...peerTurns);
      else turns.push(...peerTurns.reverse());
    }
    for (const turn of turns) {
      const run = await turn();
      runs.push(run);
      console.log(`  ${workload.name} ${mode} round ${round}: ${run.label}: ${describe(run)}`);
    }
    // A backend that cannot run now will not run in a later round either.
    backends = backends.filter((backend) => {
      const run = runs.find((r) => r.round === round && r.label === `snnc ${backend}`);
      return run?.status === 'measured';
    });
    if (!peerReady && backends.length === 0) break;
  }

  return {
    workload: workload.name,
    spec: workload.spec,
    network: workload.network,
    mode,
    batch: workload.batch,
    plan,
    // A workload's note explains its own defaults, so it is left out when the command line changes them.
    note: options.quick || options.rounds !== undefined || options.steps !== undefined || options.warmup !== undefined ? undefined : workload.note,
    runs,
    summaries: summarise(runs, workload.batch),
  };
}

// ----------------------------------------------------------------------------- main

/** Shows a path relative to the repository when it lies inside it, else as an absolute path. */
function shownPath(file: string): string {
  const relative = path.relative(repoRoot, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** Rewrites the report from an earlier run's results, for changes to the report's layout. */
function renderOnly(resultsFile: string, markdown: string): number {
  let bench: BenchResults;
  try {
    bench = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
  } catch (error) {
    console.error(`bench: results file ${resultsFile} could not be read (${(error as Error).message}); pass a file that npm run bench wrote with --out`);
    return 2;
  }
  if (!Array.isArray(bench.results) || !Array.isArray(bench.compile) || bench.machine === undefined) {
    console.error(`bench: ${resultsFile} is not a bench results file: results, compile or machine is missing; pass a file that npm run bench wrote with --out`);
    return 2;
  }
  writeFileSync(markdown, renderMarkdown(bench));
  console.log(`wrote ${shownPath(markdown)} from ${shownPath(resultsFile)}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.fromResults !== null) return renderOnly(options.fromResults, options.markdown ?? path.join(repoRoot, 'BENCHMARKS.md'));

  const { info: peer, torch, blas } = await preparePeer(options);
  console.log(peer.available ? `PyTorch peer: torch ${torch} (BLAS ${blas}), ${peer.golden_check ?? ''}` : (peer.reason ?? 'PyTorch peer skipped'));
  const machine = machineInfo(repoRoot, options.python, torch, blas);

  const buildRoot = mkdtempSync(path.join(os.tmpdir(), 'snnc-bench-'));
  const compile: CompileRecord[] = [];
  for (const workload of options.workloads) {
    const record = await compileWorkload(workload, buildRoot, options.timeoutS);
    compile.push(record);
    const seconds = record.seconds === undefined ? '' : ` in ${record.seconds.toFixed(2)} s`;
    console.log(`compile ${workload.spec}: ${record.status}${seconds}${record.reason ? `\n  ${record.reason.replace(/\n/g, '\n  ')}` : ''}`);
  }

  const results: ModeResult[] = [];
  for (const workload of options.workloads) {
    const dir = path.join(buildRoot, workload.name);
    for (const mode of options.modes) {
      results.push(await runRounds(options, peer.available, workload, dir, mode));
    }
  }
  machine.load_average_end = os.loadavg().map((value) => Number(value.toFixed(2)));

  const bench: BenchResults = {
    date: new Date().toISOString(),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    settings: {
      timeout_s: options.timeoutS,
      quick: options.quick,
      peer_threads: options.peerThreads,
    },
    machine,
    peer,
    compile,
    results,
  };
  writeFileSync(options.out, `${JSON.stringify(bench, null, 2)}\n`);
  console.log(`wrote ${shownPath(options.out)}`);
  if (options.markdown !== null) {
    writeFileSync(options.markdown, renderMarkdown(bench));
    console.log(`wrote ${shownPath(options.markdown)}`);
  }

  for (const result of results) {
    for (const summary of result.summaries) {
      for (const [peer, ratio] of Object.entries(summary.ratios_to_peer ?? {})) {
        console.log(`${result.workload} ${result.mode}: ${summary.label} / ${peer} = ${ratio.toFixed(3)}`);
      }
    }
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

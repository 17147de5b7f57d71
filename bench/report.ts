// Benchmark, report: renders one bench run (bench/results.json) as BENCHMARKS.md.

import { isPeer, type BenchResults, type CompileRecord, type ModeResult, type Summary } from './results';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '–' : value.toFixed(digits);
}

function oneLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0].replace(/\|/g, '\\|');
}

function summaryRow(summary: Summary, peers: string[]): string {
  if (summary.status !== 'measured') {
    const empty = peers.length === 0 ? ['', '', ''] : ['', '', '', ''];
    return `| ${[summary.label, `${summary.status}: ${oneLine(summary.reason)}`, ...empty].join(' | ')} |`;
  }
  const range = `${fixed(summary.images_per_s_median, 2)} (${fixed(summary.images_per_s_min, 2)}–${fixed(summary.images_per_s_max, 2)})`;
  const ratios = (isPeer(summary.label) ? [] : peers).map((peer) => {
    const ratio = summary.ratios_to_peer?.[peer];
    if (ratio === undefined) return '';
    const rounds = summary.round_ratios?.[peer] ?? [];
    return rounds.length > 1 ? `${ratio.toFixed(3)} (rounds: ${rounds.map((r) => r.toFixed(3)).join(', ')})` : ratio.toFixed(3);
  });
  const loads = (summary.load_averages ?? []).map((load) => load.toFixed(1)).join(', ');
  const cells = [
    summary.label,
    range,
    fixed(summary.step_seconds_median, 3),
    fixed(summary.peak_rss_mb, 0),
    ...(peers.length === 0 ? [] : [ratios.join('<br>')]),
    loads,
  ];
  return `| ${cells.join(' | ')} |`;
}

function resultSection(result: ModeResult): string[] {
  const what = result.mode === 'train' ? 'training step' : 'evaluation pass';
  const { rounds, steps, peerWarmup, snncWarmup } = result.plan;
  const plan =
    `${rounds} round(s) of ${steps} timed step(s) per process, after ${peerWarmup} untimed step(s) ` +
    `for the peer and ${snncWarmup} for snnc.`;
  const peers = result.summaries.filter((s) => isPeer(s.label) && s.status === 'measured').map((s) => s.label);
  const ratioHeader = peers.length === 0 ? [] : [`snnc/peer (${peers.map((p) => p.replace('pytorch-peer, ', '')).join('<br>')})`];
  const header = ['implementation', 'images/s median (min–max)', 's/step median', 'peak RSS MB', ...ratioHeader, 'load at start'];
  return [
    `### ${result.workload}, ${what}, batch ${result.batch}`,
    '',
    `Network ${result.network} (\`${result.spec}\`). ${plan}${result.note ? ` ${result.note}` : ''}`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...result.summaries.map((summary) => summaryRow(summary, peers)),
    '',
  ];
}

function mebibytes(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function compileRow(record: CompileRecord, batch: number | undefined): string {
  const status = record.reason ? `${record.status}: ${oneLine(record.reason)}` : record.status;
  const compiled = record.compiled_batch === undefined ? '' : ` (batch ${record.compiled_batch})`;
  const atBatch = batch === undefined ? '' : ` (batch ${batch})`;
  return (
    `| \`${record.spec}\` | ${status} | ${fixed(record.seconds, 2)} | ${record.buffer_count ?? '–'} | ` +
    `${mebibytes(record.buffer_bytes)}${compiled} | ${mebibytes(record.buffer_bytes_at_batch)}${atBatch} |`
  );
}

function profileSection(results: ModeResult[]): string[] {
  const lines: string[] = ['## Per-kernel time of one training step', ''];
  let found = false;
  for (const result of results) {
    for (const summary of result.summaries) {
      const profile = summary.kernel_profile;
      if (!profile || profile.kernels.length === 0) continue;
      found = true;
      const step = profile.step_ms;
      const share = (ms: number): string => (step > 0 ? `${((100 * ms) / step).toFixed(1)}%` : '–');
      lines.push(
        `### ${result.workload}, batch ${result.batch}, ${summary.label}`,
        '',
        `One training step of ${step.toFixed(0)} ms, timed by ${profile.source}. Such an engine runs ` +
          'kernel by kernel without gpu.js pipelines, so this step can be slower than the timed ones.',
        '',
        '| kernel | ms | share of the step | calls |',
        '|---|---|---|---|',
      );
      const sorted = [...profile.kernels].sort((a, b) => b.ms - a.ms);
      for (const kernel of sorted) {
        lines.push(`| ${kernel.kernel} | ${kernel.ms.toFixed(2)} | ${share(kernel.ms)} | ${kernel.calls ?? ''} |`);
      }
      const host = step - profile.kernels.reduce((sum, kernel) => sum + kernel.ms, 0);
      lines.push(`| host work and transfers (the rest) | ${host.toFixed(2)} | ${share(host)} | |`, '');
    }
  }
  if (!found) lines.push('No per-kernel profile was taken in this run.', '');
  return lines;
}

/** Peak RSS of the authors' PyTorch code training MNIST at batch 50 on this machine, in MB. */
const AUTHORS_MNIST_TRAIN_RSS_MB = 423;

/** The snnc row the speed target is stated for: MNIST training at batch 50 on webasm. */
const TARGET = { workload: 'mnist', mode: 'train', label: 'snnc webasm' } as const;

/** Rewrites "pytorch-peer, 2 threads" as "the peer with 2 threads", so that lists of labels stay readable. */
function inWords(label: string): string {
  return isPeer(label) ? `the peer with ${label.slice(label.indexOf(',') + 2)}` : label;
}

function ratioList(summary: Summary): string {
  return Object.entries(summary.ratios_to_peer ?? {})
    .map(([peerLabel, ratio]) => `${ratio.toFixed(3)}× ${inWords(peerLabel)}`)
    .join(' and ');
}

function describeMode(result: ModeResult): string {
  const activity = result.mode === 'train' ? 'training' : 'evaluation';
  const measured = result.summaries.filter((summary) => summary.status === 'measured');
  if (measured.length === 0) return `- ${result.workload} ${activity}, batch ${result.batch}: nothing was measured.`;
  const rows = measured.map((summary) => {
    const speed = `${fixed(summary.images_per_s_median, 2)} images/s (${fixed(summary.step_seconds_median, 3)} s/step)`;
    const ratios = ratioList(summary);
    return `${inWords(summary.label)} ${speed}${ratios === '' ? '' : `, ${ratios}`}`;
  });
  return `- ${result.workload} ${activity}, batch ${result.batch}: ${rows.join('; ')}.`;
}

function targetLine(bench: BenchResults): string | null {
  const result = bench.results.find((r) => r.workload === TARGET.workload && r.mode === TARGET.mode);
  const summary = result?.summaries.find((s) => s.label === TARGET.label && s.status === 'measured');
  const ratios = Object.values(summary?.ratios_to_peer ?? {});
  if (summary === undefined || ratios.length === 0) return null;
  const verdict = Math.min(...ratios) >= 1 ? 'reached' : 'not reached';
  return `- Target (MNIST training at batch 50 on webasm at least as fast as the peer) ${verdict}: snnc webasm runs at ${ratioList(summary)}.`;
}

function memoryLines(bench: BenchResults): string[] {
  const lines: string[] = [];
  for (const result of bench.results) {
    if (result.mode !== 'train') continue;
    const rows = result.summaries
      .filter((summary) => summary.status === 'measured' && summary.peak_rss_mb !== undefined)
      .map((summary) => `${inWords(summary.label)} ${fixed(summary.peak_rss_mb, 0)} MB`);
    if (rows.length === 0) continue;
    const authors = result.workload === 'mnist' ? ` (the authors' code: ${AUTHORS_MNIST_TRAIN_RSS_MB} MB)` : '';
    lines.push(`- Peak RSS, ${result.workload} training at batch ${result.batch}: ${rows.join(', ')}${authors}.`);
  }
  return lines;
}

/** Computes the summary from the results, so that it always matches the tables below it. */
function summarySection(bench: BenchResults): string[] {
  const target = targetLine(bench);
  const compiled = bench.compile
    .filter((record) => record.status === 'compiled')
    .map((record) => `\`${record.spec}\` ${fixed(record.seconds, 2)} s`);
  return [
    '## Summary',
    '',
    ...(target === null ? [] : [target]),
    ...bench.results.map(describeMode),
    ...memoryLines(bench),
    ...(compiled.length === 0 ? [] : [`- Compile time: ${compiled.join(', ')}.`]),
    '',
    'DEVELOPERS.md ("Speed on the CPU") explains what limits the webasm kernels and which',
    'rewrites were measured.',
    '',
  ];
}

/** Returns the Markdown text of BENCHMARKS.md for one bench run. */
export function renderMarkdown(bench: BenchResults): string {
  const { machine, peer, settings } = bench;
  const peerLine = peer.available
    ? `torch ${machine.torch} on ${machine.python}, ${settings.peer_threads.join(' and ')} thread(s), BLAS ${machine.torch_blas}; ` +
      `reference vectors: ${peer.golden_check ?? 'not checked'}`
    : oneLine(peer.reason);

  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts) from bench/results.json; rerun it instead of editing this page.`,
    '',
    '## How the figures are made',
    '',
    'Both implementations run the same spec, batch size and T on one batch of random pixels,',
    'normalised with the dataset statistics, and random labels. A training step is forward,',
    'loss, backward, global gradient-norm clipping to 1, AdamW with decoupled weight decay',
    '0.01 and the clamp to [-4, 4], with fresh dropout masks. An evaluation pass is the',
    'forward pass alone. Each measurement is one child process, so its peak RSS is its own.',
    'Per round every implementation runs once, some untimed warm-up steps and then the timed',
    'steps; the peer goes first in odd rounds and last in even ones. images/s is the batch size',
    'divided by a step\'s time, and the median is taken over the timed steps of all rounds.',
    '',
    'The machine is shared with other jobs, so absolute figures drift from run to run.',
    'Only the snnc/peer ratio, measured in one run with the two taking turns, is a comparison,',
    'and the "load at start" column (one-minute load average as each process started) shows',
    'how busy the machine was. The peer\'s OpenMP threads suffer more than a single-threaded',
    'process when another job holds a core: on a 2-core AMD EPYC machine, one busy-looping',
    'process cut the peer\'s MNIST training (2 threads) from about 190 to about 30 images/s.',
    '',
    '`snnc reference` is the plain TypeScript engine (runtime/reference), written for checking',
    'and not for speed; the other snnc rows are the compiled gpu.js kernels on each backend.',
    '',
    'The peer is `bench/peer/tsslbp_torch.py`: TSSL-BP in PyTorch laid out as the authors\' code',
    'is (`[batch, c, h, w, T]` activations, conv3d with a `(kh, kw, 1)` kernel, a Python loop over',
    'time steps inside a custom autograd function for the LIF neuron, `torch.optim.AdamW`,',
    '`clip_grad_norm_`). `bench/peer/check_golden.py` checks it against the reference vectors',
    'first; the bench skips the peer when that check fails.',
    '',
    ...summarySection(bench),
    '## Run',
    '',
    `- date: ${bench.date}`,
    `- command: \`${bench.command}\``,
    `- commit: ${machine.git_commit}`,
    `- CPU: ${machine.cpu_model}, nproc ${machine.nproc}`,
    `- load average at start ${machine.load_average_start.join(', ')}; at end ${(machine.load_average_end ?? []).join(', ')}`,
    `- Node ${machine.node}`,
    `- PyTorch peer: ${peerLine}`,
    '',
    '`free -g`:',
    '',
    '```',
    machine.free_g,
    '```',
    '',
    '## Results',
    '',
    ...bench.results.flatMap(resultSection),
    '## Compilation',
    '',
    'Device buffers are the `buffers` of manifest.json: the engine allocates them at the batch',
    'size it is opened with, so they are given at the compiled and at the benchmark batch size.',
    '',
    '| spec | status | seconds | buffers | bytes, compiled | bytes, benchmark |',
    '|---|---|---|---|---|---|',
    ...bench.compile.map((record) => compileRow(record, bench.results.find((r) => r.workload === record.workload)?.batch)),
    '',
    ...profileSection(bench.results),
    '## Earlier figures of the authors\' code',
    '',
    'The authors\' own PyTorch implementation was timed on this machine before this bench',
    'existed (idle machine, not rerun by this script): MNIST at batch 50 about 70 images/s',
    'with a peak RSS of 423 MB, CIFAR-10 at batch 10 about 0.65 images/s with 1.9 GB.',
    '',
  ];
  return lines.join('\n');
}

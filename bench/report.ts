// Benchmark, report: renders one bench run (bench/results.json) as BENCHMARKS.md.

import type { BenchResults, CompileRecord, ModeResult, Summary } from './results';

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '–' : value.toFixed(digits);
}

function oneLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0].replace(/\|/g, '\\|');
}

function summaryRow(summary: Summary): string {
  if (summary.status !== 'measured') {
    return `| ${summary.label} | ${summary.status}: ${oneLine(summary.reason)} | | | | | |`;
  }
  const range = `${fixed(summary.images_per_s_median, 2)} (${fixed(summary.images_per_s_min, 2)}–${fixed(summary.images_per_s_max, 2)})`;
  const ratio = summary.ratio_to_peer === undefined ? '' : fixed(summary.ratio_to_peer, 3);
  const rounds = summary.round_ratios === undefined ? '' : summary.round_ratios.map((r) => r.toFixed(3)).join(', ');
  const loads = (summary.load_averages ?? []).map((load) => load.toFixed(1)).join(', ');
  return `| ${summary.label} | ${range} | ${fixed(summary.step_seconds_median, 3)} | ${fixed(summary.peak_rss_mb, 0)} | ${ratio} | ${rounds} | ${loads} |`;
}

function resultSection(result: ModeResult): string[] {
  const what = result.mode === 'train' ? 'training step' : 'evaluation pass';
  return [
    `### ${result.workload}, ${what}, batch ${result.batch}`,
    '',
    `Network ${result.network} (\`${result.spec}\`).`,
    '',
    '| implementation | images/s median (min–max) | s/step median | peak RSS MB | snnc/peer | per round | load at start |',
    '|---|---|---|---|---|---|---|',
    ...result.summaries.map(summaryRow),
    '',
  ];
}

function compileRow(record: CompileRecord): string {
  const buffers = record.buffer_bytes === undefined ? '–' : `${(record.buffer_bytes / 2 ** 20).toFixed(1)} MiB in ${record.buffer_count}`;
  const status = record.reason ? `${record.status}: ${oneLine(record.reason)}` : record.status;
  return `| \`${record.spec}\` | ${status} | ${fixed(record.seconds, 2)} | ${buffers} |`;
}

function profileSection(results: ModeResult[]): string[] {
  const lines: string[] = ['## Per-kernel time of one training step', ''];
  let found = false;
  for (const result of results) {
    for (const summary of result.summaries) {
      if (!summary.kernel_profile || summary.kernel_profile.length === 0) continue;
      found = true;
      const total = summary.kernel_profile.reduce((sum, kernel) => sum + kernel.ms, 0);
      lines.push(`### ${result.workload}, ${summary.label}`, '', '| kernel | ms | share | calls |', '|---|---|---|---|');
      const sorted = [...summary.kernel_profile].sort((a, b) => b.ms - a.ms);
      for (const kernel of sorted) {
        const share = total > 0 ? `${((100 * kernel.ms) / total).toFixed(1)}%` : '–';
        lines.push(`| ${kernel.kernel} | ${kernel.ms.toFixed(2)} | ${share} | ${kernel.calls ?? ''} |`);
      }
      lines.push('');
    }
  }
  if (!found) lines.push('No measured engine exposed a per-kernel profile (`lastStepProfile()`) in this run.', '');
  return lines;
}

/** Returns the Markdown text of BENCHMARKS.md for one bench run. */
export function renderMarkdown(bench: BenchResults): string {
  const { machine, peer, settings } = bench;
  const peerLine = peer.available
    ? `torch ${machine.torch} on ${machine.python}, ${settings.peer_threads} thread(s), BLAS ${machine.torch_blas}; ` +
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
    `Per round every implementation runs once, ${settings.warmup} untimed and ${settings.steps} timed steps;`,
    'the peer goes first in odd rounds and last in even ones. images/s is the batch size',
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
    '## Run',
    '',
    `- date: ${bench.date}`,
    `- command: \`${bench.command}\` (${settings.rounds} round(s), ${settings.steps} timed step(s), ${settings.warmup} warm-up)`,
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
    '| spec | status | seconds | device buffers |',
    '|---|---|---|---|',
    ...bench.compile.map(compileRow),
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

// End-to-end test support: runs the snnc command line in a child process, as a user would,
// and reads the files a run leaves behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import type { EpochMetrics } from '../../runtime/train';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const snncBin = path.join(repoRoot, 'bin', 'snnc.js');

/** Time limit of one command. A command that runs longer is killed, and the test fails. */
const COMMAND_TIMEOUT_MS = 180_000;

export interface CommandResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A running `snnc` child process with its output so far. */
export interface SnncProcess {
  child: ChildProcess;
  /** Resolves once the process has exited and its output streams are closed. */
  exited: Promise<CommandResult>;
  /** Resolves with the first stdout line that matches `pattern`, including lines already printed. */
  waitForLine(pattern: RegExp): Promise<string>;
}

/** Starts `node bin/snnc.js ARGS` in `cwd`. */
export function startSnnc(args: string[], cwd: string, timeoutMs = COMMAND_TIMEOUT_MS): SnncProcess {
  const child = spawn(process.execPath, [snncBin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const watchers: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];

  const matchLines = () => {
    for (const watcher of [...watchers]) {
      // The text after the last newline may be a line still being written.
      const line = stdout.split('\n').slice(0, -1).find((candidate) => watcher.pattern.test(candidate));
      if (line !== undefined) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve(line);
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    matchLines();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exited = new Promise<CommandResult>((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });

  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      watchers.push({ pattern, resolve });
      matchLines();
      void exited.then((result) =>
        reject(new Error(`snnc ${args[0]} exited before printing a line matching ${pattern}\n${describeResult(result)}`)),
      );
    });

  return { child, exited, waitForLine };
}

/** Runs `node bin/snnc.js ARGS` in `cwd` to completion. */
export function snnc(args: string[], cwd: string): Promise<CommandResult> {
  return startSnnc(args, cwd).exited;
}

/** Runs a command that must succeed, and fails the test with its output otherwise. */
export async function snncOk(args: string[], cwd: string): Promise<CommandResult> {
  const result = await snnc(args, cwd);
  assert.is(result.code, 0, `snnc ${args.join(' ')} failed\n${describeResult(result)}`);
  return result;
}

/** Exit status and both output streams, for assertion messages. */
export function describeResult(result: CommandResult): string {
  const status = result.timedOut
    ? `timed out after ${COMMAND_TIMEOUT_MS / 1000} s`
    : result.signal !== null
      ? `killed by ${result.signal}`
      : `exit code ${result.code}`;
  return `${status}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Creates an empty temporary folder. Call `remove` when the test is done with it. */
export function makeTempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'snnc-e2e-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `text` as `dir/name` and returns the file's path. */
export function writeSpec(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Compiles `spec` into `outDir` with `snnc compile` and fails the test if that fails. */
export async function compileSpec(spec: string, outDir: string, cwd = repoRoot): Promise<void> {
  await snncOk(['compile', spec, '--out', outDir], cwd);
}

/** Parses metrics.jsonl of a run directory, one object per line. */
export function readMetrics(runDir: string): EpochMetrics[] {
  const text = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochMetrics);
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * A small MNIST network, 4C5-P4-10 with T = 5, that trains a few hundred embedded digits in
 * seconds on webasm. It names no data_path, so `snnc run` uses the embedded digits.
 */
export const TINY_MNIST_SPEC = `# Small MNIST network for the end-to-end tests: 4C5-P4-10, T = 5.
Network:
  epochs: 3
  batch_size: 10
  n_steps: 5
  dataset: "MNIST"
  rule: "TSSLBP"
  lr: 0.001
  loss: "kernel"
  n_class: 10
  tau_m: 5
  tau_s: 3
  model: "LIF"

Layers:
  conv_1:           # 1×28×28 -> 4×24×24
    type: "conv"
    in_channels: 1
    out_channels: 4
    kernel_size: 5
    weight_scale: 1
    threshold: 1

  pooling_1:        # -> 4×6×6
    type: "pooling"
    kernel_size: 4

  output:
    type: "linear"
    n_inputs: 144
    n_outputs: 10
    weight_scale: 1
    threshold: 1
`;

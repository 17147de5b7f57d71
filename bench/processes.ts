// Benchmark, process control: runs each measurement in a child process with a time limit, and
// collects what the harness reports about the machine.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './results';

export interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

/** Runs `command args` in `cwd`, killing it with SIGKILL after `timeoutS` seconds. */
export function runChild(command: string, args: string[], cwd: string, timeoutS: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, seconds: (performance.now() - start) / 1000, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - start) / 1000, timedOut });
    });
  });
}

/** Parses the last line of `stdout` that is a JSON object, or returns null. */
export function lastJsonLine<T>(stdout: string): T | null {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      continue;
    }
  }
  return null;
}

/** Returns the last `count` non-empty lines of `text`, joined by newlines. */
export function tail(text: string, count: number): string {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

/** Returns the command's stdout without trailing white space (leading spaces keep columns aligned), or null when it fails. */
function commandOutput(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trimEnd() : null;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** Describes the machine the way BENCHMARKS.md reports it. */
export function machineInfo(repoRoot: string, python: string, torch: string | null, blas: string | null): MachineInfo {
  const nproc = Number(commandOutput('nproc', []) ?? os.availableParallelism());
  const commit = commandOutput('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = (commandOutput('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  return {
    nproc,
    cpu_model: cpuModel(),
    free_g: commandOutput('free', ['-g']) ?? 'unavailable',
    node: process.version,
    torch,
    torch_blas: blas,
    python,
    load_average_start: os.loadavg().map((value) => Number(value.toFixed(2))),
    git_commit: dirty ? `${commit} (with uncommitted changes)` : commit,
  };
}

// Training checkpoints: one binary file with weights, AdamW state and the loop position,
// written atomically and verified by SHA-256 when read.
//
// Layout (little-endian; NOTE: tensors are copied in host byte order, which assumes a
// little-endian host such as x86-64 or ARM64):
//   8 bytes   magic `SNNCKPT1`
//   u32       header length H in bytes (a multiple of 4, so the data is 4-byte aligned)
//   H bytes   UTF-8 JSON header, padded with spaces; `tensors` lists name, dtype, offset
//             (bytes from the start of the data) and length (elements) of every tensor
//   data      float32 and int32 tensors back to back
//   32 bytes  SHA-256 of every byte before it, so a corrupt or truncated file is detected

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Network } from '../../common/network';
import type { OptimizerState, TensorMap } from '../engine';
import type { RngState } from '../rng';
import { writeFileAtomic } from './files';
import type { RunSettings, TrainingState } from './types';

const MAGIC = 'SNNCKPT1';
const FORMAT_VERSION = 1;
const DIGEST_BYTES = 32;
const PREFIX_BYTES = MAGIC.length + 4;

export interface Checkpoint {
  specName: string;
  specHash: string;
  settings: RunSettings;
  state: TrainingState;
  weights: TensorMap;
  optimizer: OptimizerState;
}

/** A checkpoint that cannot be used; the message is one line naming the file. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

type TensorType = 'float32' | 'int32';

interface TensorEntry {
  name: string;
  dtype: TensorType;
  offset: number;
  length: number;
}

interface Header {
  format: 'snnc-checkpoint';
  version: number;
  specName: string;
  specHash: string;
  settings: RunSettings;
  state: Omit<TrainingState, 'order'>;
  optimizerStep: number;
  tensors: TensorEntry[];
}

/** Serialises a checkpoint into the binary layout above. */
export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const tensors: Array<{ entry: TensorEntry; values: Float32Array | Int32Array }> = [];
  let offset = 0;
  const add = (name: string, values: Float32Array | Int32Array) => {
    const dtype: TensorType = values instanceof Int32Array ? 'int32' : 'float32';
    tensors.push({ entry: { name, dtype, offset, length: values.length }, values });
    offset += values.byteLength;
  };

  for (const [layer, values] of Object.entries(checkpoint.weights)) add(`weights/${layer}`, values);
  for (const [layer, values] of Object.entries(checkpoint.optimizer.m)) add(`adam_m/${layer}`, values);
  for (const [layer, values] of Object.entries(checkpoint.optimizer.v)) add(`adam_v/${layer}`, values);
  const { order, ...state } = checkpoint.state;
  if (order !== null) add('order', order);

  const header: Header = {
    format: 'snnc-checkpoint',
    version: FORMAT_VERSION,
    specName: checkpoint.specName,
    specHash: checkpoint.specHash,
    settings: checkpoint.settings,
    state,
    optimizerStep: checkpoint.optimizer.step,
    tensors: tensors.map((tensor) => tensor.entry),
  };
  let headerText = JSON.stringify(header);
  const headerLength = Buffer.byteLength(headerText, 'utf8');
  headerText += ' '.repeat((4 - (headerLength % 4)) % 4);
  const headerBytes = Buffer.from(headerText, 'utf8');

  const file = Buffer.alloc(PREFIX_BYTES + headerBytes.length + offset + DIGEST_BYTES);
  file.write(MAGIC, 0, 'latin1');
  file.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(file, PREFIX_BYTES);
  const dataStart = PREFIX_BYTES + headerBytes.length;
  for (const { entry, values } of tensors) {
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(file, dataStart + entry.offset);
  }
  const digestStart = file.length - DIGEST_BYTES;
  createHash('sha256').update(file.subarray(0, digestStart)).digest().copy(file, digestStart);
  return file;
}

/** Writes a checkpoint atomically: readers see the previous file or the complete new one. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** Reads and verifies a checkpoint; throws `CheckpointError` naming `path` on any defect. */
export function readCheckpoint(path: string): Checkpoint {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`checkpoint ${path} not found: pass the path of a best.ckpt or last.ckpt from a run directory`);
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  return decodeCheckpoint(path, file);
}

/** Parses the bytes of a checkpoint file; `path` only names the file in errors. */
export function decodeCheckpoint(path: string, file: Buffer): Checkpoint {
  const corrupt = (reason: string) =>
    new CheckpointError(`checkpoint ${path} is corrupt or truncated (${reason}): use another checkpoint, e.g. best.ckpt of the same run`);

  const start = file.toString('latin1', 0, Math.min(file.length, MAGIC.length));
  if (!MAGIC.startsWith(start) || (file.length >= MAGIC.length && start !== MAGIC)) {
    throw new CheckpointError(`${path} is not an snnc checkpoint (it does not start with ${MAGIC}): pass a best.ckpt or last.ckpt from a run directory`);
  }
  if (file.length < PREFIX_BYTES + DIGEST_BYTES) throw corrupt(`only ${file.length} bytes`);
  const digestStart = file.length - DIGEST_BYTES;
  const digest = createHash('sha256').update(file.subarray(0, digestStart)).digest();
  if (!digest.equals(file.subarray(digestStart))) throw corrupt('SHA-256 mismatch');

  const headerLength = file.readUInt32LE(MAGIC.length);
  const dataStart = PREFIX_BYTES + headerLength;
  if (dataStart > digestStart) throw corrupt(`header length ${headerLength} exceeds the file`);
  let header: Header;
  try {
    header = JSON.parse(file.toString('utf8', PREFIX_BYTES, dataStart)) as Header;
  } catch (error) {
    throw corrupt(`header is not JSON: ${(error as Error).message}`);
  }
  if (header.format !== 'snnc-checkpoint' || header.version !== FORMAT_VERSION) {
    throw new CheckpointError(
      `checkpoint ${path} has format version ${String(header.version)}; this snnc reads version ${FORMAT_VERSION}`,
    );
  }

  const weights: TensorMap = {};
  const m: TensorMap = {};
  const v: TensorMap = {};
  let order: Int32Array | null = null;
  const dataLength = digestStart - dataStart;
  for (const entry of header.tensors) {
    const end = entry.offset + entry.length * 4;
    if (entry.offset % 4 !== 0 || end > dataLength) throw corrupt(`tensor ${entry.name} lies outside the data`);
    const bytes = file.subarray(dataStart + entry.offset, dataStart + end);
    const copy = new Uint8Array(bytes).buffer;
    const values = entry.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    const [group, name] = splitTensorName(entry.name);
    if (group === 'order' && values instanceof Int32Array) order = values;
    else if (group === 'weights' && values instanceof Float32Array) weights[name] = values;
    else if (group === 'adam_m' && values instanceof Float32Array) m[name] = values;
    else if (group === 'adam_v' && values instanceof Float32Array) v[name] = values;
    else throw corrupt(`unknown tensor ${entry.name} (${entry.dtype})`);
  }

  return {
    specName: header.specName,
    specHash: header.specHash,
    settings: header.settings,
    state: { ...header.state, rngState: header.state.rngState as RngState, order },
    weights,
    optimizer: { step: header.optimizerStep, m, v },
  };
}

/**
 * Throws unless the checkpoint was written for this network's spec. The message names both
 * specs by name and hash, because a changed spec can keep its name.
 */
export function checkCheckpointSpec(path: string, checkpoint: Checkpoint, network: Network, generatedDir: string): void {
  if (checkpoint.specHash === network.specHash) return;
  const short = (hash: string) => hash.slice(0, 12);
  throw new CheckpointError(
    `checkpoint ${path} was written for spec '${checkpoint.specName}' (hash ${short(checkpoint.specHash)}), ` +
      `but ${generatedDir} was compiled from spec '${network.name}' (hash ${short(network.specHash)}): ` +
      `use a checkpoint of '${network.name}', or compile the spec the checkpoint was written for`,
  );
}

function splitTensorName(name: string): [string, string] {
  const slash = name.indexOf('/');
  return slash < 0 ? [name, ''] : [name.slice(0, slash), name.slice(slash + 1)];
}

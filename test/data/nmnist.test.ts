import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeBatch, openData } from '../../runtime/data/index';
import { binEvents } from '../../runtime/data/nmnist';
import { makeNetwork, makeTempFolder, nmnistEvents, rejection, type TestEvent, writeData } from './fixtures';

const NMNIST = makeNetwork('NMNIST_Spiking', [2, 34, 34], { encoding: 'events' });
const T = 4;
const VALUES = 2 * 34 * 34 * T;

/** Index of (channel, row, column, step) in a `[2, 34, 34, T]` tensor, time fastest. */
function at(channel: number, y: number, x: number, step: number, steps = T): number {
  return ((channel * 34 + y) * 34 + x) * steps + step;
}

/** Lists the set positions of a binned tensor as `channel,y,x,step` strings. */
function setPositions(out: Float32Array, offset: number, steps = T): string[] {
  const positions: string[] = [];
  for (let i = 0; i < 2 * 34 * 34 * steps; i++) {
    const value = out[offset + i];
    if (value === 0) continue;
    const step = i % steps;
    const x = Math.floor(i / steps) % 34;
    const y = Math.floor(i / (steps * 34)) % 34;
    const channel = Math.floor(i / (steps * 34 * 34));
    positions.push(`${channel},${y},${x},${step}=${value}`);
  }
  return positions.sort();
}

test('nmnist fixed bins place events', () => {
  const events: TestEvent[] = [
    { x: 3, y: 5, polarity: 1, time: 0 },
    { x: 3, y: 5, polarity: 1, time: 2999 },
    { x: 33, y: 0, polarity: 0, time: 3000 },
    { x: 0, y: 33, polarity: 1, time: 11999 },
    { x: 1, y: 1, polarity: 0, time: 12000 },
    { x: 34, y: 2, polarity: 0, time: 10 },
    { x: 7, y: 9, polarity: 0, time: 0x7fffff },
  ];
  const out = new Float32Array(5 + VALUES).fill(7);
  binEvents(nmnistEvents(events), T, 3000, out, 5);

  assert.is(out[4], 7, 'binning touched a value before the offset');
  assert.equal(setPositions(out, 5), ['0,0,33,1=1', '1,33,0,3=1', '1,5,3,0=1']);
  assert.is(out[5 + at(1, 5, 3, 0)], 1);
});

test('nmnist span bins cover each sample', () => {
  const events: TestEvent[] = [
    { x: 2, y: 2, polarity: 0, time: 1000 },
    { x: 2, y: 3, polarity: 0, time: 1250 },
    { x: 2, y: 4, polarity: 1, time: 1799 },
  ];
  const out = new Float32Array(VALUES);
  binEvents(nmnistEvents(events), T, null, out, 0);
  assert.equal(setPositions(out, 0), ['0,2,2,0=1', '0,3,2,1=1', '1,4,2,3=1']);
});

/** Writes `Train/` and `Test/` with one or two samples per digit; sample k of digit d has one event. */
function writeNmnist(folder: string): void {
  for (const part of ['Train', 'Test']) {
    for (let digit = 0; digit < 10; digit++) {
      const samples = part === 'Test' && digit === 2 ? 2 : 1;
      for (let k = 0; k < samples; k++) {
        const event: TestEvent = { x: digit, y: k, polarity: (digit % 2) as 0 | 1, time: 3000 * (digit % T) };
        writeData(folder, path.join(part, String(digit), `${String(k + 1).padStart(5, '0')}.bin`), nmnistEvents([event]));
      }
    }
  }
}

test('nmnist folders give labelled event samples', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    const split = await openData(NMNIST, { dataDir: folder, nSteps: T });
    assert.ok(split.train);
    assert.is(split.train.length, 10);
    assert.is(split.test.length, 11);
    assert.is(split.test.encoding, 'events');
    assert.equal(split.test.sampleShape, [2, 34, 34]);
    assert.equal(
      Array.from({ length: 11 }, (_, i) => split.test.label(i)),
      [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.is(split.description, `data: N-MNIST event files in ${folder} (10 train, 11 test; 4 steps of 3 ms)`);

    const batch = makeBatch(split.test, [3, 7], T);
    assert.is(batch.size, 2);
    assert.is(batch.input.length, 2 * VALUES);
    assert.equal(Array.from(batch.labels), [2, 6]);
    assert.equal(setPositions(batch.input, 0), ['0,1,2,2=1']);
    assert.equal(setPositions(batch.input, VALUES), ['0,0,6,2=1']);
  } finally {
    remove();
  }
});

test('nmnist steps must match the opened set', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    const split = await openData(NMNIST, { dataDir: folder, nSteps: T });
    assert.throws(() => makeBatch(split.test, [0], T + 1), /opened for 4 time steps, not 5/);
  } finally {
    remove();
  }
});

test('nmnist error: missing test folder', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    rmSync(path.join(folder, 'Test'), { recursive: true });
    const message = await rejection(openData(NMNIST, { dataDir: folder, nSteps: T }));
    assert.is(
      message,
      `DataError: data: ${folder}/Test not found; expected the N-MNIST test set there, one folder per digit 0–9 ` +
        'of .bin files (unpack the N-MNIST Test.zip into the --data folder)',
    );
  } finally {
    remove();
  }
});

test('nmnist error: missing digit folder', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    rmSync(path.join(folder, 'Train', '7'), { recursive: true });
    const message = await rejection(openData(NMNIST, { dataDir: folder, nSteps: T }));
    assert.is(
      message,
      `DataError: data: ${folder}/Train/7 not found; expected one folder per digit 0–9 of .bin files in ` +
        `${folder}/Train (unpack the N-MNIST Train.zip into the --data folder)`,
    );
  } finally {
    remove();
  }
});

test('nmnist error: required training set', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    rmSync(path.join(folder, 'Train'), { recursive: true });
    const split = await openData(NMNIST, { dataDir: folder, nSteps: T });
    assert.is(split.train, null);
    const message = await rejection(openData(NMNIST, { dataDir: folder, nSteps: T, train: 'required' }));
    assert.is(
      message,
      `DataError: data: ${folder}/Train not found; expected the N-MNIST training set there, one folder per digit ` +
        '0–9 of .bin files (unpack the N-MNIST Train.zip into the --data folder; evaluation needs only Test)',
    );
  } finally {
    remove();
  }
});

test('nmnist error: partial event', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeNmnist(folder);
    const file = writeData(folder, path.join('Test', '0', '00001.bin'), Buffer.alloc(12));
    const split = await openData(NMNIST, { dataDir: folder, nSteps: T });
    const out = new Float32Array(VALUES);
    assert.throws(
      () => split.test.write(0, out, 0),
      (error: Error) =>
        error.message ===
        `data: ${file} is 12 bytes, not a whole number of 5-byte events; ` +
          'the file is truncated or not an N-MNIST .bin file, download the data set again',
    );
  } finally {
    remove();
  }
});

test.run();

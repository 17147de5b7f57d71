// Training report: the confusion matrix and the learning curves as self-contained SVG files.

import type { EpochMetrics } from './types';

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Renders a confusion matrix with a count in every cell, shaded by the fraction of its row. */
export function confusionSvg(confusion: number[][], classNames: string[], title: string): string {
  const n = confusion.length;
  const labels = confusion.map((_, c) => classNames[c] ?? String(c));
  const maxCount = Math.max(1, ...confusion.flat());
  const cell = Math.max(28, 8 * String(maxCount).length + 12);
  const labelWidth = Math.max(40, 7 * Math.max(...labels.map((label) => label.length)) + 16);
  const left = labelWidth + 24;
  const top = 64;
  // Helvetica at 15 px averages about 8 px per character; the title must fit.
  const width = Math.max(left + n * cell + 20, 8 * title.length + 40);
  const height = top + n * cell + labelWidth + 30;

  const parts: string[] = [];
  parts.push(svgOpen(width, height));
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" ${FONT}>${escapeXml(title)}</text>`);
  parts.push(`<text x="${left + (n * cell) / 2}" y="48" text-anchor="middle" font-size="12" ${FONT}>predicted class</text>`);
  const yMid = top + (n * cell) / 2;
  parts.push(`<text x="14" y="${yMid}" text-anchor="middle" font-size="12" ${FONT} transform="rotate(-90 14 ${yMid})">true class</text>`);

  confusion.forEach((row, trueClass) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    const y = top + trueClass * cell;
    parts.push(
      `<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" font-size="11" ${FONT}>${escapeXml(labels[trueClass])}</text>`,
    );
    row.forEach((count, predicted) => {
      const x = left + predicted * cell;
      const fraction = rowTotal === 0 ? 0 : count / rowTotal;
      const shade = Math.round(255 - fraction * 200);
      const fill = `rgb(${shade},${Math.round(255 - fraction * 120)},255)`;
      const textColour = fraction > 0.6 ? '#ffffff' : '#000000';
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#cccccc"/>`);
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11" fill="${textColour}" ${FONT}>${count}</text>`,
      );
    });
  });

  const labelY = top + n * cell + 8;
  labels.forEach((label, predicted) => {
    const x = left + predicted * cell + cell / 2 + 4;
    parts.push(
      `<text x="${x}" y="${labelY}" text-anchor="end" font-size="11" ${FONT} transform="rotate(-90 ${x} ${labelY})">${escapeXml(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

interface Series {
  label: string;
  colour: string;
  values: number[];
}

/** Renders train loss (left) and train and test accuracy in percent (right) per epoch. */
export function curvesSvg(history: EpochMetrics[], title: string): string {
  const epochs = history.map((entry) => entry.epoch);
  const panelWidth = 420;
  const panelHeight = 260;
  const width = 2 * panelWidth + 60;
  const height = panelHeight + 60;

  const parts: string[] = [svgOpen(width, height)];
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" ${FONT}>${escapeXml(title)}</text>`);
  parts.push(
    linePanel(20, 40, panelWidth, panelHeight, 'train loss per example', epochs, [
      { label: 'train loss', colour: '#d62728', values: history.map((entry) => entry.trainLoss) },
    ]),
  );
  parts.push(
    linePanel(panelWidth + 40, 40, panelWidth, panelHeight, 'accuracy (%)', epochs, [
      { label: 'train', colour: '#1f77b4', values: history.map((entry) => entry.trainAccuracy * 100) },
      { label: 'test', colour: '#2ca02c', values: history.map((entry) => entry.testAccuracy * 100) },
    ]),
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function linePanel(x0: number, y0: number, width: number, height: number, title: string, epochs: number[], series: Series[]): string {
  const plotLeft = x0 + 56;
  const plotTop = y0 + 24;
  const plotWidth = width - 72;
  const plotHeight = height - 64;
  const allValues = series.flatMap((s) => s.values).filter(Number.isFinite);
  const [yMin, yMax] = niceRange(allValues);
  const xMin = epochs.length > 0 ? Math.min(...epochs) : 1;
  const xMax = epochs.length > 0 ? Math.max(...epochs) : 1;
  const xOf = (epoch: number) => plotLeft + (xMax === xMin ? plotWidth / 2 : ((epoch - xMin) / (xMax - xMin)) * plotWidth);
  const yOf = (value: number) => plotTop + plotHeight - ((value - yMin) / (yMax - yMin)) * plotHeight;

  const parts: string[] = [];
  parts.push(`<text x="${x0 + width / 2}" y="${y0 + 12}" text-anchor="middle" font-size="13" ${FONT}>${escapeXml(title)}</text>`);
  parts.push(`<rect x="${plotLeft}" y="${plotTop}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888888"/>`);

  for (const tick of ticks(yMin, yMax, 5)) {
    const y = yOf(tick);
    parts.push(`<line x1="${plotLeft}" y1="${y}" x2="${plotLeft + plotWidth}" y2="${y}" stroke="#eeeeee"/>`);
    parts.push(`<text x="${plotLeft - 6}" y="${y + 4}" text-anchor="end" font-size="10" ${FONT}>${formatTick(tick)}</text>`);
  }
  for (const epoch of epochTicks(xMin, xMax)) {
    const x = xOf(epoch);
    parts.push(`<line x1="${x}" y1="${plotTop + plotHeight}" x2="${x}" y2="${plotTop + plotHeight + 4}" stroke="#888888"/>`);
    parts.push(`<text x="${x}" y="${plotTop + plotHeight + 16}" text-anchor="middle" font-size="10" ${FONT}>${epoch}</text>`);
  }
  parts.push(`<text x="${plotLeft + plotWidth / 2}" y="${plotTop + plotHeight + 34}" text-anchor="middle" font-size="11" ${FONT}>epoch</text>`);

  series.forEach((s, index) => {
    const points = s.values.map((value, i) => `${round(xOf(epochs[i]))},${round(yOf(value))}`);
    if (points.length > 1) parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const point of points) {
      const [cx, cy] = point.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.colour}"/>`);
    }
    // The legend sits in a row under the axis label, so it never covers a curve.
    const legendX = plotLeft + index * 90;
    const legendY = plotTop + plotHeight + 52;
    parts.push(`<line x1="${legendX}" y1="${legendY - 4}" x2="${legendX + 18}" y2="${legendY - 4}" stroke="${s.colour}" stroke-width="2"/>`);
    parts.push(`<text x="${legendX + 22}" y="${legendY}" font-size="11" ${FONT}>${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** Returns a padded `[min, max]` that is never empty. */
function niceRange(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (max - min < 1e-9) {
    min -= Math.max(Math.abs(min) * 0.1, 0.5);
    max += Math.max(Math.abs(max) * 0.1, 0.5);
  }
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

function ticks(min: number, max: number, count: number): number[] {
  const rawStep = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= rawStep) ?? 10 * magnitude;
  const result: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + 1e-12; value += step) result.push(Number(value.toPrecision(12)));
  return result;
}

function epochTicks(min: number, max: number): number[] {
  const step = Math.max(1, Math.ceil((max - min + 1) / 10));
  const result: number[] = [];
  for (let epoch = min; epoch <= max; epoch += step) result.push(epoch);
  return result;
}

function formatTick(value: number): string {
  return Math.abs(value) >= 100 || Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect width="100%" height="100%" fill="#ffffff"/>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

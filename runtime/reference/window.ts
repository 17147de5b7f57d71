// Reference backend, sliding-window geometry shared by conv and pooling: which input pixel
// each kernel position of each output pixel reads, honouring stride, padding and dilation.

import type { Pair, SampleShape } from '../../common/network';

/** A 2-D sliding window over one channel plane. */
export interface WindowGeometry {
  inShape: SampleShape;
  outShape: SampleShape;
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
}

/**
 * One kernel tap that lands inside the input: output pixel `outPixel` (`oy·outW + ox`)
 * reads input pixel `inPixel` (`iy·inW + ix`) through kernel position `kernelOffset`
 * (`ky·kw + kx`).
 */
export interface WindowTap {
  outPixel: number;
  inPixel: number;
  kernelOffset: number;
}

/**
 * Lists every tap of the window that lands inside the input. Taps on the zero padding are
 * left out, which is the same as reading zeros there. Input row `iy = oy·stride - pad + ky·dil`,
 * and likewise for columns.
 */
export function windowTaps(geometry: WindowGeometry): WindowTap[] {
  const [, inH, inW] = geometry.inShape;
  const [, outH, outW] = geometry.outShape;
  const [kernelH, kernelW] = geometry.kernelSize;
  const [strideH, strideW] = geometry.stride;
  const [padH, padW] = geometry.padding;
  const [dilationH, dilationW] = geometry.dilation;

  const taps: WindowTap[] = [];
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let ky = 0; ky < kernelH; ky++) {
        const iy = oy * strideH - padH + ky * dilationH;
        if (iy < 0 || iy >= inH) continue;
        for (let kx = 0; kx < kernelW; kx++) {
          const ix = ox * strideW - padW + kx * dilationW;
          if (ix < 0 || ix >= inW) continue;
          taps.push({ outPixel: oy * outW + ox, inPixel: iy * inW + ix, kernelOffset: ky * kernelW + kx });
        }
      }
    }
  }
  return taps;
}

// Pass pipeline: runs the IR passes in order from a `Network` to a fused, buffer-planned module,
// optionally handing the printed IR after every pass to a callback.

import type { Network } from '../../common/network';
import { cloneModule, type IrModule } from '../ir/ir';
import { printModule } from '../ir/print';
import { deriveBackward } from './derive-backward';
import { foldStaticEncoding } from './fold-static-encoding';
import { fuse } from './fuse';
import { lower } from './lower';
import { padGradientColumns } from './pad-gradient-columns';
import { padInputColumns } from './pad-input-columns';
import { planBuffers } from './plan-buffers';
import { splitWeightGrad } from './split-weight-grad';
import { timeMajorLinear } from './time-major-linear';

export interface Pass {
  name: string;
  run(module: IrModule): IrModule;
}

/** The passes after `lower`, in the order they run. */
export const passes: Pass[] = [
  { name: 'derive-backward', run: deriveBackward },
  { name: 'fold-static-encoding', run: foldStaticEncoding },
  { name: 'pad-input-columns', run: padInputColumns },
  { name: 'split-weight-grad', run: splitWeightGrad },
  { name: 'pad-gradient-columns', run: padGradientColumns },
  { name: 'time-major-linear', run: timeMajorLinear },
  { name: 'fuse', run: fuse },
  { name: 'plan-buffers', run: planBuffers },
];

/** Lowers `network` and runs every pass; `afterPass` receives each pass name and the IR text after it. */
export function runPasses(network: Network, afterPass?: (pass: string, text: string) => void): IrModule {
  let module = lower(network);
  afterPass?.('lower', printModule(module));
  for (const pass of passes) {
    module = pass.run(cloneModule(module));
    afterPass?.(pass.name, printModule(module));
  }
  return module;
}

// Training report: display names of the classes of each data set, for confusion matrices.

import type { Network } from '../../common/network';
import { datasetKind } from '../data';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const NAMES: Record<string, string[]> = {
  MNIST: DIGITS,
  'N-MNIST': DIGITS,
  'Fashion-MNIST': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  'CIFAR-10': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

/** Returns one name per output class; classes the data set does not name get their index. */
export function classNames(network: Network): string[] {
  let known: string[] = [];
  try {
    known = NAMES[datasetKind(network)] ?? [];
  } catch {
    // A network without a known dataset falls back to class indices.
  }
  return Array.from({ length: network.nClass }, (_, c) => known[c] ?? String(c));
}

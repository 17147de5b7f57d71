// `snnc eval`: placeholder until the command is implemented.

export async function run(_argv: string[]): Promise<number> {
  console.error('snnc eval: not implemented yet');
  return 1;
}

// `snnc run`: placeholder until the command is implemented.

export async function run(_argv: string[]): Promise<number> {
  console.error('snnc run: not implemented yet');
  return 1;
}

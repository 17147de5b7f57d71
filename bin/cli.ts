// Command-line dispatcher: routes `snnc COMMAND ...` to the module that implements it.

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  compile: { summary: 'compile a YAML spec into IR and gpu.js kernels', load: () => import('./commands/compile') },
  run: { summary: 'train a compiled network and evaluate it every epoch', load: () => import('./commands/run') },
  eval: { summary: 'evaluate a checkpoint on test data', load: () => import('./commands/eval') },
  verify: { summary: 'check one forward and backward pass against reference vectors', load: () => import('./commands/verify') },
};

function usage(): string {
  const lines = ['usage: snnc COMMAND [options]', '', 'commands:'];
  for (const [name, command] of Object.entries(commands)) {
    lines.push(`  ${name.padEnd(9)} ${command.summary}`);
  }
  lines.push('', 'Run `snnc COMMAND --help` for the options of one command.');
  return lines.join('\n');
}

/** Runs one command and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`snnc: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

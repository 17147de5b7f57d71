#!/usr/bin/env node
// Command-line entry: loads the TypeScript sources through tsx and hands over to the dispatcher.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The `biohicl` command line. Each command group lives in its own module under ./commands.
import { Command } from 'commander';
import { registerModelCommands } from './commands/model';
import { registerIndexCommands } from './commands/index-cmds';
import { registerMeshCommands } from './commands/mesh';
import { registerDemoCommand } from './commands/demo';
import { registerPubmedCommands } from './commands/pubmed';
import { registerReleaseCommands } from './commands/release';
import { registerCheckCommand } from './commands/check';
import { registerCiteCommand } from './commands/cite';
import { RUST_PATH, lanceMessage } from '../index/errors';
import { errorText } from '../util/errors';

const program = new Command();
program
  .name('biohicl')
  .description('BioHiCL Writer: local BioHiCL embeddings, a LanceDB index of PubMed, and MeSH suggestions')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)');
// Usage errors (unknown command or option, invalid choice, missing argument) exit with 2 in every command group;
// commander has already printed the message. Set before the groups are registered so that they inherit it.
program.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

registerModelCommands(program);
registerIndexCommands(program);
registerReleaseCommands(program);
registerMeshCommands(program);
registerDemoCommand(program);
registerPubmedCommands(program);
registerCheckCommand(program);
registerCiteCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as { exitCode?: number } | undefined;
  // A LanceDB error no command explained is still said without Rust source paths.
  const text = errorText(err);
  process.stderr.write(`biohicl: ${RUST_PATH.test(text) ? lanceMessage(err) : text}\n`);
  process.exit(typeof e?.exitCode === 'number' ? e.exitCode : 1);
});

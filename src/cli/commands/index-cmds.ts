import type { Command } from 'commander';

export function registerIndexCommands(program: Command): void {
  void program; // TODO(owner): register commands
}

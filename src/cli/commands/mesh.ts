import type { Command } from 'commander';

export function registerMeshCommands(program: Command): void {
  void program; // TODO(owner): register commands
}

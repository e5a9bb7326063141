export async function run(args: string[]): Promise<void> {
  void args;
  throw new Error('not implemented yet');
}

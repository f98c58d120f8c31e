import type { CliIO } from '../io.js';

export async function demoCommand(io: CliIO): Promise<number> {
  io.out('demo: coming up');
  return 0;
}

/** What failed: the host C++ compiler, the emulated program, a tool that did not answer, or tensor files. */
export type EinCudaErrorKind = 'compile' | 'run' | 'timeout' | 'io';

export class EinCudaError extends Error {
  override readonly name = 'EinCudaError';

  constructor(
    readonly kind: EinCudaErrorKind,
    message: string,
  ) {
    super(message);
  }
}

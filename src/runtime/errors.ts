/**
 * The one error type the model runtime throws for bad input (corrupt or mismatched files, invalid
 * options). Its message is meant for the user as is: it names the file, the tensor or field, and
 * what was expected versus found, so a CLI can print `message` and no stack trace.
 */
export class EinRuntimeError extends Error {
  override readonly name = 'EinRuntimeError';
}

/**
 * An error the command line shows as one message (no stack trace) and exits with a non-zero
 * code. Everything a person can fix (a port in use, a malformed app, an unknown agent) is one.
 */
export class CliError extends Error {
  constructor(message: string, public readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

// Runtime data: the error every data reader raises for a missing or malformed file.

/**
 * A data set that cannot be read. The message is one line that starts with `data:`,
 * names the file or folder and states the fix, so a command can print it unchanged.
 */
export class DataError extends Error {
  constructor(
    message: string,
    /** The file or folder at fault, when there is one. */
    readonly path: string | null = null,
  ) {
    super(message);
    this.name = 'DataError';
  }
}

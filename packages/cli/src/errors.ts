/** What the command's exit code means. Documented in the README; scripts may rely on them. */
export const EXIT = Object.freeze({
  /** Done. */
  ok: 0,
  /** A store could not be reached or failed (I/O); details on stderr. */
  failure: 1,
  /** Bad flags or environment: a missing or invalid option, named in the message. */
  usage: 2,
  /** The store cannot do this (e.g. `stats` on memcached): nothing was changed. */
  unsupported: 3,
  /** `inspect`: no live session has that id. */
  notFound: 4,
})

/** An expected failure with its exit code: printed as one line, no stack. */
export class CliError extends Error {
  override name = 'CliError'
  readonly exitCode: number
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options)
    this.exitCode = exitCode
  }
}

/** `import(name)`, with a message that says which package to install when it is missing. */
export async function importDriver<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (error) {
    throw new CliError(`this store needs the "${name}" package: npm install ${name}`, EXIT.usage, {
      cause: error,
    })
  }
}

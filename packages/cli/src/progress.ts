/** Where the command writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  /** stderr is a terminal: progress is drawn in place. Elsewhere it is printed every `step` items. */
  readonly interactive: boolean
}

/** A progress line on stderr for long walks: `stats: 1200/5000 sessions (24%)`. */
export interface Progress {
  advance(count: number): void
  done(): void
}

/** Draws at most ~10 updates a second on a terminal, and one line per 10% (or per 1,000) elsewhere. */
export function createProgress(io: CliIo, label: string, total: number | null, now = Date.now): Progress {
  let seen = 0
  let drawnAt = 0
  let printedStep = 0
  const text = () =>
    total
      ? `${label}: ${seen}/${total} (${Math.min(100, Math.floor((seen * 100) / total))}%)`
      : `${label}: ${seen}`
  return {
    advance(count) {
      seen += count
      if (io.interactive) {
        if (now() - drawnAt < 100) return
        drawnAt = now()
        io.err(`\r${text()}`)
        return
      }
      const step = total ? Math.max(1, Math.ceil(total / 10)) : 1000
      const reached = Math.floor(seen / step)
      if (reached > printedStep) {
        printedStep = reached
        io.err(`${text()}\n`)
      }
    },
    done() {
      io.err(io.interactive ? `\r${text()}\n` : `${text()}\n`)
    },
  }
}

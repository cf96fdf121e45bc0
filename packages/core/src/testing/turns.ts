/**
 * Whether `pending` settles (either way) before a microtask queued after it: a promise answered in
 * its own turn, such as a session's read on a backend whose load answers at once (`LoadAtOnce`).
 */
export async function settlesInItsTurn(pending: Promise<unknown>): Promise<boolean> {
  const order: string[] = []
  const settled = () => order.push('pending')
  const first = pending.then(settled, settled)
  await Promise.resolve().then(() => order.push('tick'))
  await first
  return order[0] === 'pending'
}

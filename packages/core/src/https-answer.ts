/**
 * Whether a request came over HTTPS, as an adapter knows it: the answer, a function that works it
 * out (asked only when a cookie is written: a framework's answer can cost more than a whole read,
 * Express's `req.protocol` about 6,700 instructions), or a request's state that asks once and
 * keeps the answer (`RequestSession`), so one request never asks its framework twice.
 */
export type HttpsAnswer = boolean | (() => boolean) | { readonly secure: boolean }

/** The answer of `answer`: a function is called, a request's state read. */
export function askHttps(answer: HttpsAnswer): boolean {
  if (typeof answer === 'boolean') return answer
  return typeof answer === 'function' ? answer() : answer.secure
}

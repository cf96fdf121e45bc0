import type { AuthUser, LazyUser } from '@sessionbridge/core'
import type { RequestSession } from '@sessionbridge/core/adapter'
import type { Context } from 'koa'

/** What `ctx.state.user` offers: the request's lazy user (`await`, `.get()`, `.set()`, `.loaded`). */
export type StateUser<User extends AuthUser = AuthUser> = Pick<
  LazyUser<User>,
  'loaded' | 'get' | 'set' | 'then'
>

/** How a `ForwardingUser` reaches its request's state: made (`state`) or only if made (`peek`). */
export interface StateAccess<User extends AuthUser = AuthUser> {
  state(ctx: Context): RequestSession<User>
  peek(ctx: Context): RequestSession<User> | undefined
}

/**
 * `ctx.state.user`: forwards to the request's one `LazyUser` (`RequestSession.user`), made on first
 * use. A plain property holding this small object costs a request far less than an accessor
 * defined on each request's `ctx.state` (a runtime call that reads a descriptor: about 170 ns, most
 * of the middleware's own cost on a request without a cookie), and a request that never asks makes
 * no session state. The app may replace it (`ctx.state.user = ...`, as koa-passport does).
 */
export class ForwardingUser<User extends AuthUser = AuthUser> implements StateUser<User> {
  readonly #ctx: Context
  readonly #access: StateAccess<User>

  constructor(ctx: Context, access: StateAccess<User>) {
    this.#ctx = ctx
    this.#access = access
  }

  #user(): LazyUser<User> {
    return this.#access.state(this.#ctx).user
  }

  /** Whether the user was looked up (or set) during this request. */
  get loaded(): boolean {
    // Asked before any session use: nothing was looked up, and nothing is made to say so.
    return this.#access.peek(this.#ctx) === undefined ? false : this.#user().loaded
  }

  get(): Promise<User | null> {
    return this.#user().get()
  }

  /** Replaces the cached user (after login or logout). */
  set(user: User | null): void {
    this.#user().set(user)
  }

  // biome-ignore lint/suspicious/noThenProperty: the lazy user is awaitable on purpose
  then<A = User | null, B = never>(
    onFulfilled?: ((value: User | null) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.get().then(onFulfilled, onRejected)
  }
}

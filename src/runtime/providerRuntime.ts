import type { ActorRefFrom } from 'xstate';
import { fromErrorInfo, TokenError, type TokenErrorInfo } from '../errors.js';
import { SERVABLE, type tokenLifecycle } from '../machines/tokenLifecycle.js';
import type { TokenSet } from '../machines/token.js';
import type { FlowNotice } from '../flows/index.js';
import type { ProviderSettings } from './providerSettings.js';

export interface GetTokenOptions {
  /** May a human be asked (browser, device code)? Default false: never prompt on your own. */
  interactive?: boolean;
  /** Give up after this long (default 60 s; for an interactive login, the login timeout plus a minute). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface LoginOptions extends Omit<GetTokenOptions, 'interactive'> {
  /** This login's notices (URL, device code), instead of the engine's `notify`. */
  onNotice?: (notice: FlowNotice) => void;
}

export interface ProviderStatus {
  providerId: string;
  flow: string;
  state: string;
  /** Seconds until the held token expires (negative once expired); undefined without a token. */
  expiresInSec?: number;
  servable: boolean;
  lastError?: TokenErrorInfo;
  generation: number;
}

type LifecycleActor = ActorRefFrom<typeof tokenLifecycle>;

/** The token the lifecycle publishes, with its windows: read by callers without a round trip to the actor. */
interface Published {
  token: TokenSet;
  softAt: number;
  hardAt: number;
  /** The token's request headers, filled by the first `peekHeaders` that serves it. */
  headers?: Readonly<Record<string, string>>;
}

/** One provider: its tokenLifecycle actor and the caller API over it (single flight lives in the actor). */
export class ProviderRuntime {
  private pending: Promise<TokenSet> | undefined;
  private published: Published | undefined;
  private watched: LifecycleActor | undefined;
  private unwatch: (() => void) | undefined;

  /**
   * `lifecycle` returns the provider's current actor: the registry may have replaced a failed one.
   */
  constructor(
    readonly settings: ProviderSettings,
    private readonly lifecycle: () => LifecycleActor,
    private readonly now: () => number,
  ) {}

  get actor(): LifecycleActor {
    return this.lifecycle();
  }

  /**
   * The hot path: the published token, synchronously, while it is before its hard deadline. In the soft
   * window the first such read also asks the actor for a background renewal (single flight is the actor's).
   */
  peekToken(): TokenSet | undefined {
    return this.peek()?.token;
  }

  /** `peekToken`, as request headers built once per published token by `build`. */
  peekHeaders(build: (token: TokenSet) => Readonly<Record<string, string>>): Readonly<Record<string, string>> | undefined {
    const published = this.peek();
    return published ? (published.headers ??= build(published.token)) : undefined;
  }

  private peek(): Published | undefined {
    const now = this.now();
    const published = this.servableAt(now);
    if (published && now >= published.softAt) this.actor.send({ type: 'TOKEN.NEEDED', interactive: false });
    return published;
  }

  /** The published token while it is before its hard deadline at `now`. */
  private servableAt(now: number): Published | undefined {
    const published = this.publishedNow();
    return published && now < published.hardAt ? published : undefined;
  }

  /**
   * The actor is looked up again only while nothing is published: the registry replaces an actor only after
   * it failed, and the failure unpublishes (the subscription's `error`), so a published token is never a
   * replaced actor's.
   */
  private publishedNow(): Published | undefined {
    if (this.published) return this.published;
    this.watch();
    return this.published;
  }

  /** Keeps `published` in step with the current actor (the registry may have replaced a failed one). */
  private watch() {
    const actor = this.actor;
    if (actor === this.watched) return;
    this.unwatch?.();
    this.watched = actor;
    const update = (snapshot: ReturnType<LifecycleActor['getSnapshot']>) => {
      const { token, schedule } = snapshot.context;
      this.published = token && schedule && snapshot.hasTag(SERVABLE) ? { token, softAt: schedule.softAt, hardAt: schedule.hardAt } : undefined;
    };
    update(actor.getSnapshot());
    const subscription = actor.subscribe({ next: update, error: () => (this.published = undefined) });
    this.unwatch = () => subscription.unsubscribe();
  }

  /**
   * A token to use now: the held one while it is before its hard deadline (a renewal in the soft window
   * runs in the background), otherwise the result of the single renewal under way.
   */
  async getToken(options: GetTokenOptions = {}): Promise<TokenSet> {
    const held = this.peekToken();
    if (held) return held;
    const interactive = options.interactive ?? false;
    const timeoutMs = options.timeoutMs ?? (interactive ? this.loginWaitMs() : 60_000);
    const deadline = this.now() + timeoutMs;
    await this.settled(timeoutMs, options.signal);
    if (!interactive && this.actor.getSnapshot().matches('needsReauth')) {
      // Another process (`opencode auth login`) may have logged in since: look before saying "log in".
      this.storeChanged();
      await this.settled(timeoutMs, options.signal);
    }
    try {
      return await this.demand(interactive, deadline, options.signal);
    } catch (error) {
      // The renewal that failed may have started before this caller allowed a login: ask once more.
      if (interactive && error instanceof TokenError && error.code === 'interaction_required') {
        return this.demand(true, deadline, options.signal);
      }
      throw error;
    }
  }

  /** A fresh interactive login (even over a working token: switching accounts, new scopes). */
  login(options: Omit<GetTokenOptions, 'interactive'> = {}): Promise<TokenSet> {
    const timeoutMs = options.timeoutMs ?? this.loginWaitMs();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<TokenSet>((resolve, reject) => {
      const done = (outcome: () => void) => {
        renewed.unsubscribe();
        failed.unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      // Leaving the login state stops the flow machine, its loopback server and its requests.
      const onAbort = () => done(() => {
        this.actor.send({ type: 'LOGIN.CANCELLED' });
        reject(signal!.reason);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      const renewed = this.actor.on('token.renewed', () => done(() => resolve(this.actor.getSnapshot().context.token!)));
      const failed = this.actor.on('token.failed', ({ error }) => done(() => reject(fromErrorInfo(error))));
      const timer = setTimeout(() => done(() => reject(this.timeoutError(this.now() + timeoutMs))), timeoutMs);
      this.settled(timeoutMs, options.signal).then(
        () => {
          if (!signal?.aborted) this.actor.send({ type: 'LOGIN.REQUESTED' });
        },
        (error: unknown) => done(() => reject(error)),
      );
    });
  }

  /** Upstream answered 401 to this token: renew only if it is still the current one (compare-and-invalidate). */
  rejected(accessToken: string) {
    this.actor.send({ type: 'TOKEN.REJECTED', accessToken });
  }

  storeChanged() {
    this.actor.send({ type: 'STORE.CHANGED' });
  }

  async logout(timeoutMs = 30_000): Promise<void> {
    this.actor.send({ type: 'LOGOUT' });
    await this.waitFor((s) => s.matches('evicted'), timeoutMs);
  }

  status(): ProviderStatus {
    const snapshot = this.actor.getSnapshot();
    const { token, schedule, lastError, generation, flow } = snapshot.context;
    const state = typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0]!;
    return {
      providerId: this.settings.provider.id,
      flow,
      state,
      ...(token ? { expiresInSec: Math.round((token.expiresAt - this.now()) / 1000) } : {}),
      servable: this.servableToken() !== undefined,
      ...(lastError ? { lastError } : {}),
      generation,
    };
  }

  private servableToken(): TokenSet | undefined {
    return this.servableAt(this.now())?.token;
  }

  private demand(interactive: boolean, deadline: number, signal?: AbortSignal): Promise<TokenSet> {
    const held = this.servableToken();
    if (held) {
      // Serve now; in the soft window this also starts the background renewal.
      this.actor.send({ type: 'TOKEN.NEEDED', interactive });
      return Promise.resolve(held);
    }
    // Every caller of one renewal shares one wait: a burst of N callers costs one subscription, not N.
    const outcome = (this.pending ??= this.nextOutcome(interactive).finally(() => (this.pending = undefined)));
    return new Promise<TokenSet>((resolve, reject) => {
      const timer = setTimeout(() => settle(() => reject(this.timeoutError(deadline))), Math.max(0, deadline - this.now()));
      const onAbort = () => settle(() => reject(signal!.reason ?? this.timeoutError(deadline)));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (done: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        done();
      };
      outcome.then(
        (token) => settle(() => resolve(token)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }

  /** The next servable token, or the next reported failure, after asking for one. */
  private nextOutcome(interactive: boolean): Promise<TokenSet> {
    return new Promise<TokenSet>((resolve, reject) => {
      const actor = this.actor;
      const subscriptions: { unsubscribe(): void }[] = [];
      const settle = (outcome: () => void) => {
        subscriptions.forEach((s) => s.unsubscribe());
        outcome();
      };
      const check = () => {
        const token = this.servableToken();
        if (token) settle(() => resolve(token));
      };
      subscriptions.push(
        actor.on('token.failed', ({ error }) => settle(() => reject(fromErrorInfo(error)))),
        actor.subscribe({
          next: check,
          // The actor failed (a bug, not an OAuth answer): the registry restarts it; this wait ends here.
          error: () =>
            settle(() =>
              reject(new TokenError({ code: 'transient', providerId: this.settings.provider.id, message: 'the token lifecycle failed and was restarted', fix: 'try again' })),
            ),
        }),
      );
      actor.send({ type: 'TOKEN.NEEDED', interactive });
      check();
    });
  }

  /** How long a caller waits for an interactive login: the login timeout plus a minute. */
  private loginWaitMs() {
    return (this.settings.provider.loginTimeoutSec + 60) * 1000;
  }

  private timeoutError(deadline: number) {
    return new TokenError({
      code: 'timeout',
      providerId: this.settings.provider.id,
      message: `no token within ${Math.round((deadline - this.now()) / 1000) || 'the'} s allowed (state: ${this.status().state})`,
      fix: 'check that the identity provider is reachable; `oauth_status` shows the last error',
    });
  }

  /** Wait for the first store read, so a demand is decided on what is stored. */
  private settled(timeoutMs: number, signal?: AbortSignal) {
    return this.waitFor((s) => !s.matches('loading'), timeoutMs, signal);
  }

  private waitFor(predicate: (s: ReturnType<LifecycleActor['getSnapshot']>) => boolean, timeoutMs: number, signal?: AbortSignal) {
    if (predicate(this.actor.getSnapshot())) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const subscription = this.actor.subscribe((s) => {
        if (!predicate(s)) return;
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve();
      });
      const timer = setTimeout(() => {
        subscription.unsubscribe();
        reject(this.timeoutError(this.now()));
      }, timeoutMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        subscription.unsubscribe();
        reject(signal.reason);
      });
    });
  }
}

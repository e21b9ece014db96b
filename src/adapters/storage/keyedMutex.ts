/** Releases a held key; calling it again does nothing, so a double release never frees another holder. */
export type Release = () => void;

export interface MutexWait {
  /** Upper bound on the wait; then the promise rejects with `timeoutError()`. */
  waitMs: number;
  signal?: AbortSignal;
  timeoutError: () => Error;
}

interface Waiter {
  grant: () => void;
}

interface Slot {
  waiters: Waiter[];
}

/**
 * An in-process FIFO mutex per key, with a bounded wait. Waiters queue instead of polling, so a burst of
 * callers in one process costs no file-system traffic and is served in arrival order.
 */
export class KeyedMutex {
  /** A key is present exactly while it is held; its waiters queue on the slot. */
  private readonly slots = new Map<string, Slot>();

  isHeld(key: string): boolean {
    return this.slots.has(key);
  }

  acquire(key: string, wait: MutexWait): Promise<Release> {
    if (wait.signal?.aborted) return Promise.reject(wait.signal.reason);
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, { waiters: [] });
      return Promise.resolve(this.releaser(key));
    }
    return new Promise<Release>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        wait.signal?.removeEventListener('abort', onAbort);
        const index = slot.waiters.indexOf(waiter);
        if (index >= 0) slot.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(this.releaser(key));
        },
      };
      const onAbort = () => {
        leave();
        reject(wait.signal?.reason);
      };
      const timer = setTimeout(() => {
        leave();
        reject(wait.timeoutError());
      }, Math.max(0, wait.waitMs));
      wait.signal?.addEventListener('abort', onAbort, { once: true });
      slot.waiters.push(waiter);
    });
  }

  private releaser(key: string): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const slot = this.slots.get(key);
      const next = slot?.waiters.shift();
      if (next) next.grant();
      else this.slots.delete(key);
    };
  }
}

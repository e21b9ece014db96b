import type { TokenErrorInfo } from '../errors.js';
import type { FlowNotice } from '../flows/index.js';
import type { LifecycleEmitted } from '../machines/tokenLifecycle.js';
import type { SyncedModel } from '../machines/modelSync.js';

/** What an engine tells its host, typed: subscribe with `engine.on(type, listener)`. */
export type EngineEvent =
  | { type: 'token.renewed'; providerId: string; how: 'refreshed' | 'acquired' | 'adopted'; generation: number; expiresAt: number }
  | { type: 'token.failed'; providerId: string; error: TokenErrorInfo }
  /** Something the user must see to log in (URL, device code, what we wait for). */
  | { type: 'login.notice'; providerId: string; notice: FlowNotice }
  | { type: 'store.persist_failed'; providerId: string; error: TokenErrorInfo }
  /** The gateway's model list changed (only a successful sync replaces it). */
  | { type: 'models.changed'; providerId: string; models: readonly SyncedModel[]; previous: readonly SyncedModel[] | null }
  | { type: 'logged_out'; providerId: string };

export type EngineEventType = EngineEvent['type'];
export type EngineListener<T extends EngineEventType> = (event: Extract<EngineEvent, { type: T }>) => void;

/** A small typed emitter; a listener that throws is isolated from the engine and the other listeners. */
export function createEngineEvents(onListenerError: (type: EngineEventType, error: unknown) => void) {
  const listeners = new Map<EngineEventType, Set<(event: EngineEvent) => void>>();
  return {
    on<T extends EngineEventType>(type: T, listener: EngineListener<T>): () => void {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      const entry = listener as (event: EngineEvent) => void;
      set.add(entry);
      return () => void set.delete(entry);
    },
    emit(event: EngineEvent) {
      for (const listener of listeners.get(event.type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(event.type, error);
        }
      }
    },
  };
}

/** A lifecycle's emitted event as an engine event of its provider. */
export function engineEventOf(providerId: string, event: LifecycleEmitted): EngineEvent {
  return { ...event, providerId };
}

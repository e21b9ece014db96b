/** Node and Bun timers overflow past 2^31-1 ms (~24.8 days) and then fire at once; longer waits are re-armed. */
export const MAX_TIMER_MS = 2_147_483_647;

export function clampTimerMs(ms: number): number {
  return Math.max(0, Math.min(ms, MAX_TIMER_MS));
}

/**
 * Default for an actor named in setup(): the machine only says when an effect runs, the caller provides
 * what it does (`machine.provide({ actors })`). Running one unprovided is a wiring bug, said plainly.
 */
export const unprovidedActors = (machine: string) => (name: string) => () => {
  throw new Error(`${machine}: actor "${name}" was not provided`);
};

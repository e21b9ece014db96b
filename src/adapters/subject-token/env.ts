import { subjectTokenError } from './errors.js';
import type { SubjectTokenSource } from './types.js';

/** A token in an environment variable. Static for the process's life: it cannot be re-minted. */
export function envSource(options: { var: string }): SubjectTokenSource {
  return {
    describe: () => `env ${options.var}`,
    read: async (context) => {
      const value = (context.env ?? process.env)[options.var]?.trim();
      if (!value) {
        throw subjectTokenError(context.providerId, 'env', `${options.var} is not set or is empty`, `export ${options.var} with the token before starting the agent`);
      }
      return value;
    },
  };
}

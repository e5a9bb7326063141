// Minimal typings for the parts of citation-js the readers use (the packages ship none).
declare module '@citation-js/core' {
  export const plugins: {
    input: {
      chain(
        data: unknown,
        options?: { generateGraph?: boolean; forceType?: string; strict?: boolean },
      ): Record<string, unknown>[];
    };
  };
}
declare module '@citation-js/plugin-bibtex';
declare module '@citation-js/plugin-csl';

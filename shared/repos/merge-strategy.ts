/** The merge strategies a pull request can auto-complete with (the `mergeStrategy` input). */
export const MERGE_STRATEGY_NAMES = ['squash', 'noFastForward', 'rebase', 'rebaseMerge'] as const;

export type MergeStrategy = (typeof MERGE_STRATEGY_NAMES)[number];

export const isMergeStrategy = (value: string): value is MergeStrategy => (MERGE_STRATEGY_NAMES as readonly string[]).includes(value);

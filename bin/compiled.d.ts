export declare const SOURCE_DIRS: readonly string[];
export declare const STAMP: string;
export interface SourceState {
  readonly files: number;
  readonly paths: string;
  readonly newestMs: number;
}
export declare function sourceState(root: string): SourceState;
export declare function stampMatches(stamp: unknown, now: SourceState): boolean;
export declare function compiledIsCurrent(root: string): boolean;
export declare function runsCompiled(root: string, env?: NodeJS.ProcessEnv): boolean;
export declare function startsDynamoDBLocal(argv: readonly string[]): boolean;
export declare const MAX_EARLY_WORKERS: number;
export declare function earlyWorkers(argv: readonly string[]): number;

export { type CliConfig, type CliFlags, resolveConfig, STORES, type StoreKind } from './config.ts'
export { CliError, EXIT } from './errors.ts'
export { type RunCliOptions, runCli } from './main.ts'
export type { CliIo } from './progress.ts'

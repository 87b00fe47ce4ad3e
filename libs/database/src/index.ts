export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from './embedded-postgres';
export { applyMigrations, ensureDatabase } from './migrations';

export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from './embedded-postgres';
export { applyMigrations, ensureDatabase, resetDatabase, META_SCHEMA } from './migrations';

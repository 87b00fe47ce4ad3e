// Used by the Prisma CLI only (`prisma generate`, `prisma migrate diff`); the service applies
// the checked-in migrations itself at start (see @hearth/database applyMigrations).
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});

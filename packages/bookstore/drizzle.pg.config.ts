// Generates the PostgreSQL migrations from the schema: `pnpm --filter @racefree/bookstore generate`.
// Generating compares the schema with drizzle/pg/meta; it never connects to a database.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/dialects/postgres-schema.ts',
  out: './drizzle/pg',
});

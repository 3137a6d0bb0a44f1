// Generates the MySQL/MariaDB migrations from the schema: `pnpm --filter @racefree/bookstore generate`.
// Generating compares the schema with drizzle/mysql/meta; it never connects to a database.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'mysql',
  schema: './src/dialects/mysql-schema.ts',
  out: './drizzle/mysql',
});

/** A PostgreSQL identifier, quoted (`"graphile_worker"`): safe for any schema name. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

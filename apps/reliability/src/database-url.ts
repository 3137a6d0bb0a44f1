/**
 * `url` with its user, password and database replaced (the host, port and options stay).
 * `credentials` undefined keeps the URL's own user and password.
 */
export function databaseUrl(
  url: string,
  database: string,
  credentials?: { user: string; password: string },
): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (credentials) {
    parsed.username = credentials.user;
    parsed.password = credentials.password;
  }
  return parsed.toString();
}

/**
 * `url` with its password shown as `***`, for messages, logs and reports: a connection string
 * is printed in many places, and a password must reach none of them.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<malformed URL>';
  }
}

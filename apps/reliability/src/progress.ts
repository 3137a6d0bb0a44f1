const startedAt = Date.now();

/** Prints one progress line, prefixed with the seconds since the program started. */
export function progress(line: string): void {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds} s] ${line}`);
}

import { fileURLToPath } from 'node:url';

/** The monorepo's root directory (this file runs from apps/reliability/dist). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

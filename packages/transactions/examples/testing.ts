import type { AnyPgDatabase, Managed } from '@racefree/transactions';
import { captureOnCommit, withRollback } from '@racefree/transactions/testing';
import { type Mailer, signUp } from './sign-up.js';

/** What a test of signUp sees: the hooks it registered, captured instead of lost. */
export async function testSignUp(db: Managed<AnyPgDatabase>) {
  const sent: string[] = [];
  const mailer: Mailer = { welcome: (email) => void sent.push(email) };
  // #region testing
  const hooks = await captureOnCommit(() =>
    withRollback(db, () => signUp(db, 'ann@example.com', mailer)),
  );
  // hooks: the welcome email, registered but not run (withRollback never commits)
  // #endregion testing
  return { hooks, sent };
}

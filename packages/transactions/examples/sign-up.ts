import {
  type AnyPgDatabase,
  atomic,
  current,
  isUniqueViolation,
  type Managed,
  onCommit,
} from '@racefree/transactions';
import { users } from './schema.js';

/** Where the welcome email goes: the example's stand-in for a mailer. */
export interface Mailer {
  welcome(email: string): Promise<void> | void;
}

/** Signs a user up; the welcome email leaves only once the user has committed. */
export async function signUp(db: Managed<AnyPgDatabase>, email: string, mailer: Mailer) {
  // #region sign-up
  const user = await db.transaction(
    async (tx) => {
      const [user] = await tx.insert(users).values({ email }).returning();
      if (!user) throw new Error('no row returned');
      await onCommit(() => mailer.welcome(user.email)); // after COMMIT, never on rollback
      return user;
    },
    { retries: 3 }, // a deadlock or serialization failure re-runs the whole block
  );
  // #endregion sign-up
  return user;
}

/** The same, written with atomic() and current(): code handed `db` joins the block. */
export async function signUpWithAtomic(db: AnyPgDatabase, email: string, mailer: Mailer) {
  // #region atomic
  const saveUser = async (email: string) => {
    // current(db) is the open transaction here: this insert commits or rolls back with it.
    const [user] = await current(db).insert(users).values({ email }).returning();
    return user;
  };

  return atomic(db, async () => {
    const user = await saveUser(email);
    await onCommit(() => mailer.welcome(email));
    return user;
  });
  // #endregion atomic
}

/** Classifies a failed sign-up: a taken email is the caller's problem, not a crash. */
export async function signUpOnce(db: Managed<AnyPgDatabase>, email: string, mailer: Mailer) {
  // #region classify
  try {
    return await signUp(db, email, mailer);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_unique')) return undefined; // already signed up
    throw error;
  }
  // #endregion classify
}

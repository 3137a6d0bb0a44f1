/** A lock this program holds to freeze the apps at a chosen point, until released. */
export interface HeldLock {
  release(): Promise<void>;
}

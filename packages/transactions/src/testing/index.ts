export { type CaptureOptions, captureOnCommit } from './capture-on-commit.js';
export { withRollback } from './with-rollback.js';

export { type CaptureOptions, captureOnCommit } from './capture-on-commit.js';
export { withRollback } from './with-rollback.js';
export { setDialectForTesting } from '../dialects/detect.js';

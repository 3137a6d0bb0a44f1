export { type AtomicRequestsOptions, atomicRequests } from './atomic-requests.js';
export { NonAtomicIgnoredError, nonAtomic } from './non-atomic.js';
export { isAtomicRequest } from './request-state.js';

import { racefreeVitestConfig } from '@racefree/testkit/vitest-config';

// The worker runs on postgres.js and mysql2: its suites test it on those; the libraries'
// suites cover node-postgres too.
export default racefreeVitestConfig({ drivers: ['postgres-js', 'mysql2'] });

import { racefreeVitestConfig } from '@racefree/testkit/vitest-config';

// The app runs on postgres.js and mysql2 (src/open-database.ts): its suites test it on those;
// the libraries' suites cover node-postgres too.
export default racefreeVitestConfig({ testTimeout: 60_000, drivers: ['postgres-js', 'mysql2'] });

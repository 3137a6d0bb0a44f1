import { racefreeVitestConfig } from '@racefree/testkit/vitest-config';

export default racefreeVitestConfig({ testTimeout: 60_000 });

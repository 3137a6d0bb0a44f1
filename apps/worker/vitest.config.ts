import { racefreeVitestConfig } from '@racefree/testkit/vitest-config';

export default racefreeVitestConfig();

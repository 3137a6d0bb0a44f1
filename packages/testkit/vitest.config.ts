import { racefreeVitestConfig } from './src/vitest-config.js';

export default racefreeVitestConfig();

import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLES = `${REPO}examples/`;
export const MODULE_FIXTURES = `${REPO}test/fixtures/modules/`;

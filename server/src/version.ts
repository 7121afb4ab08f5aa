import { readFileSync } from 'node:fs';

/** Vigil as it names itself to other tools (OCSF's metadata.product): the version of its package.json. */
export const VIGIL_PRODUCT = {
  name: 'Vigil',
  version: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
} as const;

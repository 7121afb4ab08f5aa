import { upperCaseValues } from '../builder.ts';
import { opsBuilder } from './ops-builder.ts';

/** The operators' schema's enums, spelled as the tenants' are (builder.ts). */
export function enumOf<const T extends readonly string[]>(name: string, values: T) {
  return opsBuilder.enumType(name, { values: upperCaseValues(values) });
}

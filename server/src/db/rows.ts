import type { MetadataStorage } from '@mikro-orm/core';

/** Where entity metadata comes from: an ORM or any of its EntityManagers. */
export interface MetadataSource {
  getMetadata(): MetadataStorage;
}

type Row = Record<string, unknown>;

/** A jsonb value as the driver hands it back: parsed by node-postgres, as text by PGlite. */
export function jsonOf<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Reads rows of an entity's table (snake_case columns, as a raw select or to_jsonb gives them) as plain
 * values of the chosen properties, by the entity's own metadata: each property from its column, dates as
 * Date, numbers as number, a reference as { id }. The one place a SQL row becomes one of Vigil's types,
 * for the paths that skip the ORM's hydration (authentication, sign-in); it reads only what it is asked,
 * so a row's other columns (a password hash) never ride along.
 */
export function rowReader<V>(orm: MetadataSource, entityClassName: string, properties: ReadonlyArray<keyof V & string>): (row: Row) => V {
  const meta = orm.getMetadata().getByClassName(entityClassName);
  const readers = properties.map((name) => {
    const prop = meta.properties[name];
    if (!prop) throw new Error(`${meta.className} has no property ${name}`);
    return { name, column: prop.fieldNames[0], convert: converterOf(prop.kind, prop.runtimeType) };
  });
  // A plain loop into one object: this runs on every authenticated request (see bench/versus.ts).
  return (row) => {
    const view: Row = {};
    for (const { name, column, convert } of readers) view[name] = convert(row[column]);
    return view as V;
  };
}

type Converter = (value: unknown) => unknown;

const asReference: Converter = (value) => (value == null ? null : { id: String(value) });
const asDate: Converter = (value) => (value == null ? null : new Date(value as string));
const asNumber: Converter = (value) => (value == null ? null : Number(value));
const asString: Converter = (value) => (value == null ? null : String(value));
const asIs: Converter = (value) => value ?? null;

function converterOf(kind: string, runtimeType: string): Converter {
  if (kind === 'm:1' || kind === '1:1') return asReference;
  if (runtimeType === 'Date') return asDate;
  if (runtimeType === 'number') return asNumber;
  if (runtimeType === 'string') return asString;
  return asIs;
}

import type { EntityMetadata, MikroORM } from '@mikro-orm/core';
import { type DatabaseSchema, type ForeignKey, type IndexDef, type SqlEntityManager, SqlSchemaGenerator } from '@mikro-orm/postgresql';
import { TENANT_FILTER } from './tenancy.ts';

/**
 * A reference between two rows of tenants, carrying the tenant: (tenant_id, role_id) → role (tenant_id, id).
 * Foreign-key checks bypass row-level security, so a plain role_id → role (id) would let a bug point a row
 * of A at a role of B; with the tenant in the key, the database refuses it.
 */
export interface TenantReference {
  table: string;
  column: string;
  referencedTable: string;
  deleteRule?: string;
  updateRule?: string;
}

const isTenantOwned = (meta: EntityMetadata | undefined) => Boolean(meta?.filters?.[TENANT_FILTER]) && meta?.tableName !== 'tenant';

/** Every many-to-one from a tenant-owned entity to another tenant-owned entity (the tenant itself aside). */
export function tenantReferences(metadata: Iterable<EntityMetadata>): TenantReference[] {
  const references: TenantReference[] = [];
  for (const meta of metadata) {
    if (!isTenantOwned(meta)) continue;
    for (const prop of meta.relations) {
      if (!['m:1', '1:1'].includes(prop.kind) || prop.mappedBy || !isTenantOwned(prop.targetMeta)) continue;
      const [column] = prop.fieldNames;
      references.push({ table: meta.tableName, column, referencedTable: prop.targetMeta!.tableName, deleteRule: prop.deleteRule, updateRule: prop.updateRule });
    }
  }
  return references;
}

export const tenantKeyName = (table: string) => `${table}_tenant_id_id_unique`;
export const tenantReferenceName = (reference: Pick<TenantReference, 'table' | 'column'>) => `${reference.table}_tenant_id_${reference.column}_foreign`;

/**
 * MikroORM's schema generator, with the tenant carried in every reference between tenants' rows: the
 * schema the entities describe gains (tenant_id, id) keys on referenced tables and has each plain
 * foreign key of a tenant reference replaced by its composite one. Generated migrations then create
 * them for a new entity, and the migrations test fails when the database lacks one.
 */
export class TenantSchemaGenerator extends SqlSchemaGenerator {
  static override register(orm: MikroORM): void {
    orm.config.registerExtension('@mikro-orm/schema-generator', () => new TenantSchemaGenerator(orm.em as SqlEntityManager));
  }

  override getTargetSchema(schema?: string, includeWildcardSchema?: boolean): DatabaseSchema {
    const target = super.getTargetSchema(schema, includeWildcardSchema);
    carryTenants(target, tenantReferences(this.metadata.getAll().values()));
    return target;
  }
}

function carryTenants(target: DatabaseSchema, references: readonly TenantReference[]): void {
  for (const referenced of new Set(references.map((r) => r.referencedTable))) {
    const table = target.getTable(referenced)!;
    const key: IndexDef = { columnNames: ['tenant_id', 'id'], keyName: tenantKeyName(referenced), unique: true, constraint: true, primary: false, composite: true };
    table.setIndexes([...table.getIndexes(), key]);
  }
  for (const reference of references) {
    const table = target.getTable(reference.table)!;
    const foreignKeys = table.getForeignKeys();
    const plain = Object.values(foreignKeys).find((fk) => fk.columnNames.length === 1 && fk.columnNames[0] === reference.column);
    if (!plain) continue;
    delete foreignKeys[plain.constraintName];
    const composite: ForeignKey = {
      ...plain,
      constraintName: tenantReferenceName(reference),
      columnNames: ['tenant_id', reference.column],
      referencedColumnNames: ['tenant_id', 'id'],
    };
    foreignKeys[composite.constraintName] = composite;
  }
}

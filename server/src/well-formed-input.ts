import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import {
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLResolveInfo,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import type { Context } from './context.ts';
import { type FieldProblem, badInput } from './errors.ts';
import { textProblem } from './validation.ts';

/**
 * A field may react to malformed input before it is refused: signIn journals the attempt (a refused
 * sign-in is in the journal whatever was typed). Put it in the field's `extensions`.
 */
export interface MalformedInputHook {
  onMalformedInput(ctx: Context, args: Record<string, unknown>, problems: FieldProblem[]): Promise<void>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      wellFormedInput: WellFormedInputPlugin<Types>;
    }
  }
}

const PLUGIN = 'wellFormedInput';

/**
 * Every string and ID a client sends, in any argument or input field at any depth, is checked before the
 * field runs (textProblem); a problem is BAD_USER_INPUT naming the field, and nothing has been written.
 * One place for the rule, so a new field cannot forget it.
 */
export class WellFormedInputPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types['Context'], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    return Object.keys(fieldConfig.args).length ? guarded(resolver, hookOf(fieldConfig)) : resolver;
  }

  override wrapSubscribe(subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined, fieldConfig: PothosOutputFieldConfig<Types>) {
    return subscribe && Object.keys(fieldConfig.args).length ? guarded(subscribe, hookOf(fieldConfig)) : subscribe;
  }
}

SchemaBuilder.registerPlugin(PLUGIN, WellFormedInputPlugin);

export const wellFormedInputPlugin = PLUGIN;

function hookOf(fieldConfig: { extensions?: Record<string, unknown> | null }): MalformedInputHook | null {
  const extensions = fieldConfig.extensions as Partial<MalformedInputHook> | undefined;
  return typeof extensions?.onMalformedInput === 'function' ? (extensions as MalformedInputHook) : null;
}

function guarded<C>(resolver: GraphQLFieldResolver<unknown, C, object>, hook: MalformedInputHook | null): GraphQLFieldResolver<unknown, C, object> {
  return async (parent, args, ctx, info) => {
    const problems = argumentProblems(fieldArguments(info), args as Record<string, unknown>);
    if (problems.length) {
      await hook?.onMalformedInput(ctx as Context, args as Record<string, unknown>, problems);
      throw badInput(problems);
    }
    return resolver(parent, args, ctx, info);
  };
}

function fieldArguments(info: GraphQLResolveInfo): readonly GraphQLArgument[] {
  return info.parentType.getFields()[info.fieldName]?.args ?? [];
}

export function argumentProblems(definitions: readonly GraphQLArgument[], args: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const definition of definitions) walk(definition.type, args[definition.name], definition.name, problems);
  return problems;
}

function walk(type: GraphQLInputType, value: unknown, path: string, problems: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  if (isNonNullType(type)) return walk(type.ofType, value, path, problems);
  if (isListType(type)) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(type.ofType, item, `${path}.${i}`, problems));
    return;
  }
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) walk(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`, problems);
    return;
  }
  if (isScalarType(type)) walkValue(value, path, problems);
}

/** Strings, also inside a JSON scalar's objects and arrays. */
function walkValue(value: unknown, path: string, problems: FieldProblem[]): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) problems.push({ field: path, message: problem });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walkValue(item, `${path}.${i}`, problems));
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      walkValue(key, `${path}.${key}`, problems);
      walkValue(item, `${path}.${key}`, problems);
    }
  }
}

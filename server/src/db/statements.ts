/**
 * A statement written once in the driver's form (`$1 … $n`, what Database.prepared sends) for MikroORM's
 * execute, which binds `?` in order: one text for both the pool and a transaction. Placeholders must appear
 * in order, each once (so that the order of `?` is the order of the values).
 */
export function withQuestionMarks(statement: string): string {
  let expected = 1;
  return statement.replace(/\$(\d+)/g, (_match, n: string) => {
    if (Number(n) !== expected) throw new Error(`statement placeholders out of order at $${n}: ${statement}`);
    expected += 1;
    return '?';
  });
}

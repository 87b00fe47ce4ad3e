import { Client } from 'pg';

/** Rows read per round trip while comparing. */
const PAGE_ROWS = 5_000;
/**
 * Columns that legitimately differ between a live projection and its rebuild: the checkpoint
 * owner is the consumer group name, and a rebuild runs under its own group.
 */
const IGNORED_COLUMNS: Record<string, string[]> = { consumer_checkpoints: ['consumer'] };
const bareName = (qualified: string) => qualified.slice(qualified.lastIndexOf('.') + 1).replaceAll('"', '');

export interface TableComparison { table: string; rows: number; difference?: string }

/**
 * Compares every projection table of two databases row for row, in primary-key
 * order (so positions, ids and order are compared too). Returns one entry per table.
 */
export async function compareDatabases(leftUrl: string, rightUrl: string): Promise<TableComparison[]> {
  const left = new Client({ connectionString: leftUrl });
  const right = new Client({ connectionString: rightUrl });
  await Promise.all([left.connect(), right.connect()]);
  try {
    const [leftTables, rightTables] = await Promise.all([tablesOf(left), tablesOf(right)]);
    const names = [...new Set([...leftTables.keys(), ...rightTables.keys()])].sort();
    if (names.length === 0) throw new Error('neither database has projection tables: nothing to compare');
    const results: TableComparison[] = [];
    for (const table of names) {
      const key = leftTables.get(table);
      if (!key || !rightTables.has(table)) {
        results.push({ table, rows: 0, difference: key ? 'only in the live database' : 'only in the rebuilt database' });
        continue;
      }
      results.push(await compareTable(left, right, table, key));
    }
    return results;
  } finally {
    await Promise.all([left.end(), right.end()]);
  }
}

/**
 * Projection tables with their primary-key columns (every projection table has one): those of
 * schema `public`, where the service's migrations create them. The migration bookkeeping lives
 * elsewhere (@hearth/database META_SCHEMA) and is not compared: its timestamps differ by nature.
 */
async function tablesOf(client: Client): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table_name: string; columns: string[] }>(`
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table_name, array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indisprimary AND n.nspname = 'public'
    GROUP BY n.nspname, c.relname`);
  return new Map(rows.map((r) => [r.table_name, r.columns]));
}

async function compareTable(left: Client, right: Client, table: string, key: string[]): Promise<TableComparison> {
  const ignored = new Set(IGNORED_COLUMNS[bareName(table)] ?? []);
  const order = key.filter((c) => !ignored.has(c)).map(quote).join(', ');
  let rows = 0;
  for (let offset = 0; ; offset += PAGE_ROWS) {
    const sql = `SELECT * FROM ${table} ORDER BY ${order} LIMIT ${PAGE_ROWS} OFFSET ${offset}`;
    const [a, b] = await Promise.all([left.query(sql), right.query(sql)]);
    const count = Math.max(a.rows.length, b.rows.length);
    for (let i = 0; i < count; i++) {
      const x = a.rows[i] === undefined ? undefined : canonical(a.rows[i] as Record<string, unknown>, ignored);
      const y = b.rows[i] === undefined ? undefined : canonical(b.rows[i] as Record<string, unknown>, ignored);
      if (x !== y) return { table, rows: rows + i, difference: `row ${offset + i + 1} differs:\n  live:    ${x ?? '(none)'}\n  rebuilt: ${y ?? '(none)'}` };
    }
    rows += count;
    if (count < PAGE_ROWS) return { table, rows };
  }
}

function canonical(row: Record<string, unknown>, ignored: Set<string>): string {
  return JSON.stringify(Object.keys(row).filter((k) => !ignored.has(k)).sort().map((k) => {
    const v = row[k];
    return [k, v instanceof Date ? v.toISOString() : v];
  }));
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

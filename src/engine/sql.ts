// SQL literal helpers: pure, so that declarations can use them without loading DuckDB.

export function sqlStr(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function sqlList(items: string[]): string {
  return `[${items.map(sqlStr).join(', ')}]`;
}

export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A scan of Parquet files with exactly their own columns (no columns guessed from hive folder names). */
export function parquetScan(files: string[]): string {
  return `read_parquet(${sqlList(files)}, hive_partitioning = false)`;
}

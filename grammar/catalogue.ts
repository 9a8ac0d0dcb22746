// The one source of truth for the .lvi language's statement kinds and parameters. The checker,
// the compiler, the executor (runners, loaded lazily through `load`), the language server
// (completion, hover, cost, signature help), docs/language.md, the TextMate grammar and the
// tests all read this table. Adding a statement kind = one entry in grammar/kinds/<method>.ts
// (spread in below) + its method folder under src/runtime/methods/<method>/.

import { CORE_KINDS } from './kinds/core.js';
import { DDR_KINDS } from './kinds/ddr.js';
import { FAIG_KINDS } from './kinds/faig.js';
import { LAM_KINDS } from './kinds/lam.js';
import { describeType as describeIn, refKinds as refKindsIn, tableColumns, type Catalogue, type ParamType } from './spec.js';

export * from './spec.js';

export const CATALOGUE: Catalogue = withTableColumns({ ...CORE_KINDS, ...LAM_KINDS, ...FAIG_KINDS, ...DDR_KINDS });

/** Columns a table can show: generic facts and every analysis kind's parameters and results. */
export const TABLE_COLUMNS: readonly string[] = tableColumns(CATALOGUE);

/** The table's `columns=` accepts every analysis kind's columns (its check narrows them to its rows). */
function withTableColumns(catalogue: Catalogue): Catalogue {
  const columns = catalogue.table?.params.columns;
  if (columns?.type.type === 'list' && columns.type.of.type === 'enum') columns.type.of.values.push(...tableColumns(catalogue));
  return catalogue;
}

/** Kinds a ref type accepts (see spec.ts refKinds), in this catalogue unless told another. */
export function refKinds(kinds: string[], catalogue: Catalogue = CATALOGUE): string[] {
  return refKindsIn(kinds, catalogue);
}

/** A short human description of a type (see spec.ts describeType). */
export function describeType(t: ParamType, catalogue: Catalogue = CATALOGUE): string {
  return describeIn(t, catalogue);
}

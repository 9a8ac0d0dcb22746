// The compiler's output: an execution graph of typed nodes. The executor (src/runtime/executor)
// consumes it; `lvi graph` prints it; the LSP reads it for hover (costs) and code lenses.

/** A parameter value after defaults are filled, references resolved and paths made absolute. */
export type ResolvedValue =
  | number
  | string
  | boolean
  | ResolvedValue[]
  | { call: string; args: Record<string, ResolvedValue> }
  | { ref: string; kind: string; node: string } // a reference to another statement's node id
  | { percent: number }
  | { range: [number, number] };

export interface SourceSpan {
  file: string;
  /** 1-based line and column of the statement's first character. */
  line: number;
  column: number;
}

export interface PlanNode {
  /** Unique in the plan, e.g. 'model:slim', 'image:chelsea', 'lr:chelsea@x4', 'lam:edge#model=slim'. */
  id: string;
  /** NodeRunner kind: 'model' | 'image' | 'derive-lr' | 'dataset' | 'lam' | 'table' | 'report' | ... */
  kind: string;
  /** The statement's name (the family's name for sweeps); absent for implicit nodes. */
  statement?: string;
  /** For sweeps: a short, stable, filesystem-safe id of this combination; 'default' otherwise. */
  runId: string;
  /** The swept parameters' values for this run (empty when the statement is not a sweep). */
  sweep: Record<string, ResolvedValue>;
  /** Every parameter of the kind, defaults filled in. */
  params: Record<string, ResolvedValue>;
  /** Node ids this node reads, by role (e.g. { model: 'model:slim', image: 'lr:chelsea@x4' }). */
  deps: Record<string, string>;
  /** Content key: sha256 of kind, params, input file hashes and the lvi version. */
  key: string;
  /** Absolute input files this node reads, with their content hashes. */
  files: Record<string, string>;
  source?: SourceSpan;
  /** Implicit nodes (load model, load image, derive LR) are not named in the study. */
  implicit: boolean;
}

export interface Plan {
  studyFile: string; // absolute
  studyDir: string; // absolute
  /** Absolute output folder from `study out=...` (default: <studyDir>/out/<study name>). */
  outDir: string;
  study: { name: string; device: string; seed: number; [k: string]: unknown };
  /** Topologically sorted. */
  nodes: PlanNode[];
  lviVersion: string;
}

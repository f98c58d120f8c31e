// Every choice a pass makes is recorded with its reason and what the alternative would cost, so
// `--explain` and the report can show why the kernels look the way they do.
export interface Decision {
  readonly pass: string;
  readonly subject: string;
  readonly choice: string;
  readonly why: string;
  readonly alternativeCost?: string;
}

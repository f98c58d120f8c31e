/** Public API of the COSMA scratchpad planner. */
export {
  analyzeGraph,
  CosmaGraphError,
  operatorFootprintBound,
  type AnalyzedGraph,
  type GraphOperator,
  type GraphTensor,
  type OperatorGraph,
  type TensorKind,
} from './graph.js';
export {
  validatePlan,
  type PlacedTensor,
  type PlanMethod,
  type PlanStep,
  type PlanTraffic,
  type PlanValidation,
  type ScratchpadPlan,
  type SolverReport,
  type SolverStatus,
} from './plan.js';
export { planIlp, type IlpOptions, type IlpResult } from './ilp.js';
export { writeLpText, type LpModel } from './lp-text.js';
export { planGreedy, type GreedyOptions, type GreedyResult } from './greedy.js';
export { cutWindows, planDivide, type DivideOptions, type DivideResult } from './divide.js';
export { planScratchpad, type PlanOptions, type PlanOutcome } from './planner.js';
export {
  certifyCapacity,
  type CapacityCertificate,
  type CertificateOptions,
  type CertificateSpill,
} from './certificate.js';
export { minimumPeakSchedule, type MinimumPeakResult } from './min-peak.js';
export { explainPlan, type ExplainOptions } from './explain.js';
export { loadHighs } from './highs.js';

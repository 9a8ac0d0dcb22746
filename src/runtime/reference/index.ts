// Float64 reference evaluator of graph IR (the oracle of the gradient tests).
export { evaluate, erf, type F64 } from './evaluate.js';
export { toF64 } from './tensor.js';

// Gradient graphs: reverse-mode autodiff over the graph IR (see gradient.ts).
export { buildGradientGraph, imageInput, INPUT_GRAD, weightGradName } from './gradient.js';
export { OBJECTIVE, TARGET_INPUT, WINDOW_INPUT } from './objective.js';
export { GradientRuleError, rules, type Rule } from './rules/index.js';
export { missingGradientRules, type MissingRule } from './coverage.js';

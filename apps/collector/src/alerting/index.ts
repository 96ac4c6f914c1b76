export * from './alerts.js';
export * from './check-state.js';
export * from './engine.js';
export * from './fields.js';
export * from './maintenance.js';
export * from './matchers.js';
export * from './rules.js';
export * from './silences.js';
